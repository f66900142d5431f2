// Issue 15, safety: webhook URLs are http(s) only; private, loopback and link-local receivers
// are refused unless WEBHOOK_ALLOW_PRIVATE=true, when the URL is set and again when connecting
// (after DNS); redirects are not followed; a receiver's answer is read only up to a bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPrivateAddress } from '../src/webhooks/address.ts';
import { codesOf, createApplication } from './helpers/factories.ts';
import { onRealPostgres } from './helpers/database.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.ts';
import { CREATE_WEBHOOK, createSession, createWebhook, deliveries, emit, until, webhookState } from './helpers/webhooks.ts';

const receivers: Receiver[] = [];
afterAll(async () => {
  for (const receiver of receivers) await receiver.close();
});
async function receiver(...args: Parameters<typeof startReceiver>) {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}

describe('which addresses count as private', () => {
  it('covers loopback, private, link-local, CGNAT, multicast and reserved ranges in IPv4 and IPv6 forms', () => {
    const refused = [
      '127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
      '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1',
      '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::7f00:1', '64:ff9b::10.0.0.1', '2002:7f00:1::1', 'not-an-ip',
    ];
    const allowed = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2606:4700:4700::1111', '64:ff9b::808:808', '::ffff:8.8.8.8'];
    expect(refused.filter((address) => !isPrivateAddress(address))).toEqual([]);
    expect(allowed.filter((address) => isPrivateAddress(address))).toEqual([]);
  });
});

describe('webhook URLs without WEBHOOK_ALLOW_PRIVATE', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw?.stop());

  it('refuses private, loopback and link-local receivers when the URL is set', async () => {
    const app = await createApplication(gw);
    for (const url of [
      'http://127.0.0.1/hook',
      'http://localhost:8080/hook',
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://0x7f.1/hook',
      'http://2130706433/hook',
      'https://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/hook',
    ]) {
      const answer = await gw.gql(CREATE_WEBHOOK, { input: { applicationId: app.id, url } });
      expect(codesOf(answer), url).toEqual(['BAD_USER_INPUT']);
      expect(answer.errors![0]!.message).toMatch(/private, loopback or link-local/);
    }
    expect(gw.config.webhooks.allowPrivate).toBe(false);
  });
});

describe.skipIf(!onRealPostgres)('connect-time address checks (needs the real PostgreSQL server: two instances on one database)', () => {
  let strict: TestGateway;
  let lenient: TestGateway;
  beforeAll(async () => {
    strict = await startGateway({ WEBHOOK_BACKOFF_MS: '3600000' });
    lenient = await strict.startAnother({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it('refuses at connection time a receiver that was allowed when set: no request reaches it', async () => {
    const rx = await receiver();
    const app = await createApplication(strict);
    const session = await createSession(strict, app.id);
    // Set through an instance that allows private receivers, which then stops delivering.
    const byName = await createWebhook(lenient, { applicationId: app.id, url: rx.url.replace('127.0.0.1', 'localhost') });
    const byAddress = await createWebhook(lenient, { applicationId: app.id, url: rx.url });
    await lenient.server.stop();
    await emit(strict, app.id, session, 1);
    for (const { webhook } of [byName, byAddress]) {
      await until(async () => (await deliveries(strict, app.id, webhook.id)).length > 0, 15_000, 'an attempt');
      const [attempt] = await deliveries(strict, app.id, webhook.id);
      expect(attempt).toMatchObject({ status: 'FAILED', statusCode: null });
      expect(attempt.error).toMatch(/private, loopback or link-local address \(WEBHOOK_ALLOW_PRIVATE is off\)/);
    }
    expect(rx.requests).toEqual([]);
  });
});

describe('what the gateway does with answers', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_BACKOFF_MS: '3600000', WEBHOOK_TIMEOUT_MS: '2000' });
  });
  afterAll(() => gw?.stop());

  it('does not follow redirects: a 3xx is a failure and its target gets nothing', async () => {
    const target = await receiver();
    const redirecting = await receiver(() => (res) => res.writeHead(307, { location: target.url }).end());
    const app = await createApplication(gw);
    const session = await createSession(gw, app.id);
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: redirecting.url });
    await emit(gw, app.id, session, 1);
    await until(async () => (await deliveries(gw, app.id, webhook.id)).length > 0, 15_000, 'an attempt');
    const [attempt] = await deliveries(gw, app.id, webhook.id);
    expect(attempt).toMatchObject({ status: 'FAILED', statusCode: 307, error: `HTTP 307: redirect to ${target.url} not followed` });
    expect((await webhookState(gw, app.id, webhook.id)).failedAttempts).toBe(1);
    expect(redirecting.requests).toHaveLength(1);
    expect(target.requests).toEqual([]);
  });

  it('reads an answer only up to a small bound: an endless 2xx body still completes the delivery', async () => {
    let cut = false;
    const endless = await receiver(() => (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => (cut = true));
      pump();
    });
    const app = await createApplication(gw);
    const session = await createSession(gw, app.id);
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: endless.url });
    await emit(gw, app.id, session, 2);
    await until(async () => (await deliveries(gw, app.id, webhook.id)).length === 2, 15_000, 'two deliveries');
    const log = await deliveries(gw, app.id, webhook.id);
    for (const attempt of log) {
      expect(attempt).toMatchObject({ status: 'SUCCEEDED', statusCode: 200 });
      expect(attempt.response).toBe('x'.repeat(1024));
      expect(attempt.durationMs).toBeLessThan(2000);
    }
    await until(() => cut, 5000, 'the endless answer cut');
  });

  it('counts any 2xx as delivered and stores no NUL bytes of an answer', async () => {
    const rx = await receiver(() => (res) => res.writeHead(204).end());
    const nul = await receiver(() => (res) => res.writeHead(500).end('bad\u0000answer'));
    const app = await createApplication(gw);
    const session = await createSession(gw, app.id);
    const ok = await createWebhook(gw, { applicationId: app.id, url: rx.url });
    const failing = await createWebhook(gw, { applicationId: app.id, url: nul.url });
    await emit(gw, app.id, session, 1);
    await until(async () => (await deliveries(gw, app.id, failing.webhook.id)).length === 1, 15_000, 'an attempt');
    await until(async () => (await deliveries(gw, app.id, ok.webhook.id)).length === 1, 15_000, 'an attempt');
    expect((await deliveries(gw, app.id, ok.webhook.id))[0]).toMatchObject({ status: 'SUCCEEDED', statusCode: 204, response: null });
    expect((await deliveries(gw, app.id, failing.webhook.id))[0]).toMatchObject({ status: 'FAILED', statusCode: 500, response: 'badanswer' });
  });
});
