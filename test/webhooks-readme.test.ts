// The README's webhook receiver, run as it is printed, receives and verifies real deliveries
// and refuses a forged one.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, dataOf } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { UPDATE_WEBHOOK, createSession, createWebhook, deliveries, emit, until } from './helpers/webhooks.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const example = /### A receiver\n\n```js\n([\s\S]*?)```/.exec(readme)?.[1];

let gw: TestGateway;
let dir: string;
let child: ChildProcess | null = null;
beforeAll(async () => {
  gw = await startGateway({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  dir = mkdtempSync(join(tmpdir(), 'skylight-receiver-'));
  symlinkSync(new URL('../node_modules', import.meta.url).pathname, join(dir, 'node_modules'));
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the README receiver example', () => {
  it('verifies and logs what the gateway delivers, answers 204, and refuses a forged request with 401', async () => {
    expect(example).toBeTruthy();
    writeFileSync(join(dir, 'receiver.mjs'), example!);
    const app = await createApplication(gw);
    const session = await createSession(gw, app.id);
    // The secret comes first (the receiver needs it), then the webhook points at the receiver.
    const { secret, webhook } = await createWebhook(gw, { applicationId: app.id, url: 'http://127.0.0.1:9/', types: ['SESSION_EVENT_CREATED'] });
    dataOf(await gw.gql(`mutation($a: ID!, $w: ID!) { pauseWebhook(applicationId: $a, webhookId: $w) { id } }`, { a: app.id, w: webhook.id }));
    let output = '';
    child = spawn(process.execPath, ['receiver.mjs'], { cwd: dir, env: { PATH: process.env.PATH!, SKYLIGHT_WEBHOOK_SECRET: secret, PORT: '0' } });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await until(() => /listening on \d+/.test(output), 15_000, 'the receiver listening');
    const port = Number(/listening on (\d+)/.exec(output)![1]);
    const url = `http://127.0.0.1:${port}/skylight`;
    dataOf(await gw.gql(UPDATE_WEBHOOK, { a: app.id, w: webhook.id, input: { url } }));
    dataOf(await gw.gql(`mutation($a: ID!, $w: ID!) { resumeWebhook(applicationId: $a, webhookId: $w) { id } }`, { a: app.id, w: webhook.id }));
    const ids = await emit(gw, app.id, session, 2);
    await until(async () => (await deliveries(gw, app.id, webhook.id)).length === 2, 15_000, 'two deliveries');
    expect((await deliveries(gw, app.id, webhook.id)).map((d) => [d.eventId, d.status, d.statusCode])).toEqual(ids.map((id) => [id, 'SUCCEEDED', 204]));
    const logged = output.split('\n').filter((line) => line.startsWith('SESSION_EVENT_CREATED'));
    expect(logged).toHaveLength(2);
    for (const line of logged) expect(line).toMatch(new RegExp(`^SESSION_EVENT_CREATED ${session} \\S+$`));

    const forged = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': ids[0]!,
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,bm90IGEgc2lnbmF0dXJl',
      },
      body: JSON.stringify({ type: 'SESSION_CLOSED' }),
    });
    expect(forged.status).toBe(401);
  });
});
