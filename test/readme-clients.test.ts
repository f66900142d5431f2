// The README's "Clients" snippets, run as they are written (only the gateway's address is
// changed) against a live gateway with the demo data: Apollo Client 4 over GraphQLWsLink and
// graphql-ws on Node through a relay that the test cuts, to show they resume from the last
// cursor with nothing missed and nothing twice; apollo-upload-client with and without the
// preflight header; graphql-sse in Chromium on a page of another origin; curl.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/demo/seed.ts';
import { dataOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { pngImage } from './helpers/media.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const snippets = Object.fromEntries([...readme.matchAll(/<!-- client: ([\w-]+) -->\n```(?:js|sh)\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!]));
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

/** The snippet as written, pointed at `port` instead of localhost:4000. */
const pointedAt = (code: string, port: number) => code.replaceAll('localhost:4000', `127.0.0.1:${port}`);

// Snippets import the project's packages: write them where Node resolves node_modules from.
const scratch = join(root, 'node_modules/.cache');
mkdirSync(scratch, { recursive: true });
const dir = mkdtempSync(join(scratch, 'readme-clients-'));
const children: ChildProcess[] = [];

interface Running {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
}

function runScript(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Running {
  const child = spawn(command, args, { cwd: options.cwd ?? dir, env: { ...process.env, ...options.env } });
  children.push(child);
  const lines: string[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  child.stdout!.on('end', () => buffered && lines.push(buffered));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, lines, stderr: () => stderr, exited };
}

function runModule(name: string, code: string, env: Record<string, string> = {}): Running {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, code);
  return runScript(process.execPath, [file], { env });
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let gw: TestGateway;
let applicationId: string;
let sessionId: string;

beforeAll(async () => {
  gw = await startGateway();
  const seed = await seedDemo(gw.db);
  applicationId = seed.applicationId;
  const sessions = dataOf(await gw.gql(`query($a: ID!) { sessions(applicationId: $a, first: 10) { edges { node { id name } } } }`, { a: applicationId }));
  sessionId = sessions.sessions.edges.map((edge: any) => edge.node).find((node: any) => node.name.startsWith('Pump station 7')).id;
}, 60_000);
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  await gw?.stop();
});

/** A custom session event, made as the admin; answers its cursor. */
async function emit(n: number): Promise<string> {
  const response = await gw.gql(`mutation($a: ID!, $s: ID!, $d: JSON!) { createSessionEvent(applicationId: $a, sessionId: $s, data: $d) { cursor } }`, {
    a: applicationId,
    s: sessionId,
    d: { n },
  });
  return dataOf(response).createSessionEvent.cursor;
}

/**
 * Drives a running follower (it prints `TYPE sessionId cursor` per event) through a cut: once it
 * is live, every connection is cut, three events happen while it cannot connect, the network
 * comes back, one more happens. It must print exactly those four next, in order.
 */
async function cutAndResume(follower: Running, proxy: TcpProxy) {
  const printed = () => follower.lines.map((line) => line.split(' ')[2]).filter(Boolean);
  const before: string[] = [];
  await until(async () => {
    before.push(await emit(before.length));
    await new Promise((resolve) => setTimeout(resolve, 200));
    return printed().length > 0;
  }, `the first event (stderr: ${follower.stderr()})`);
  // Live: the events made after the first one printed arrive too.
  await until(() => printed().includes(before.at(-1)!), 'the warm-up events');
  expect(before).toEqual(expect.arrayContaining(printed()));
  const seen = printed().length;

  proxy.cut();
  const missed = [await emit(100), await emit(101), await emit(102)];
  proxy.restore();
  const later = await emit(103);
  await until(() => printed().includes(later), `the event after the cut (stderr: ${follower.stderr()})`);
  await new Promise((resolve) => setTimeout(resolve, 500)); // a duplicate would show by now
  expect(printed().slice(seen)).toEqual([...missed, later]);
  for (const line of follower.lines) expect(line).toMatch(new RegExp(`^SESSION_EVENT_CREATED ${sessionId} \\S+$`));
}

describe('README Clients snippets', () => {
  it('has each client the README promises', () => {
    expect(Object.keys(snippets).sort()).toEqual(['apollo-client', 'apollo-upload-client', 'curl', 'curl-sse', 'graphql-sse-browser', 'graphql-ws-node']);
  });

  it('Apollo Client 4: signs in, queries, subscribes over GraphQLWsLink and resumes after a cut from its cursor', async () => {
    const proxy = await startTcpProxy(Number(new URL(gw.url).port));
    try {
      // Node 20 has no WebSocket global, which the browser code relies on: lend it ws's.
      const prelude = `import { WebSocket as NodeWebSocket } from 'ws';\nglobalThis.WebSocket ??= NodeWebSocket;\n`;
      const follower = runModule('apollo-client', prelude + pointedAt(snippets['apollo-client']!, proxy.port));
      await cutAndResume(follower, proxy);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('graphql-ws on Node with webSocketImpl: follows and resumes after a cut from its cursor', async () => {
    const proxy = await startTcpProxy(Number(new URL(gw.url).port));
    try {
      const follower = runModule('graphql-ws-node', pointedAt(snippets['graphql-ws-node']!, proxy.port), { TOKEN: ADMIN_TOKEN, APPLICATION_ID: applicationId });
      await cutAndResume(follower, proxy);
      expect(follower.stderr()).toMatch(/stream cut, resuming after \S+/);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('apollo-upload-client with the preflight header uploads; without it the gateway answers 400', async () => {
    const prelude = [
      `const token = ${JSON.stringify(ADMIN_TOKEN)};`,
      `const applicationId = ${JSON.stringify(applicationId)};`,
      `const sessionId = ${JSON.stringify(sessionId)};`,
      `const file = new File([new Uint8Array(${JSON.stringify([...pngImage(6, 6, [200, 10, 10])])})], 'valve.png', { type: 'image/png' });`,
      '',
    ].join('\n');
    const code = pointedAt(snippets['apollo-upload-client']!, Number(new URL(gw.url).port));
    const upload = runModule('apollo-upload-client', prelude + code);
    expect(await upload.exited, upload.stderr()).toBe(0);
    const [status, url] = upload.lines[0]!.split(' ');
    expect(status).toBe('READY');
    const download = await fetch(url!);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');

    const withoutHeader = code.replace(`, 'apollo-require-preflight': 'true'`, '');
    expect(withoutHeader).not.toBe(code);
    const refused = runModule('apollo-upload-client-no-preflight', prelude + withoutHeader);
    expect(await refused.exited).not.toBe(0);
    expect(refused.stderr()).toMatch(/Received status code 400/);
  }, 60_000);

  it('curl: query, login and upload', async () => {
    const cwd = mkdtempSync(join(dir, 'curl-'));
    mkdirSync(join(cwd, '.data'));
    writeFileSync(join(cwd, '.data/demo-token'), ADMIN_TOKEN);
    writeFileSync(join(cwd, 'photo.png'), pngImage(5, 5, [0, 128, 0]));
    const script = pointedAt(snippets.curl!, Number(new URL(gw.url).port))
      .replace('<application id>', applicationId)
      .replace('<session id>', sessionId);
    const run = runScript('bash', ['-e', '-c', script], { cwd });
    expect(await run.exited, run.stderr()).toBe(0);
    const output = run.lines.join('\n');
    expect(output).toContain('"name":"Field Inspection"');
    expect(output).toMatch(/"accessToken":"ey[^"]+","refreshToken":"rt_/);
    expect(output).toMatch(/"uploadSessionMedia":\{"id":"[0-9a-f-]{36}","status":"READY","url":"http:\/\/127\.0\.0\.1:\d+\/media\//);
  }, 60_000);

  it('curl -N: live events over SSE', async () => {
    const script = `TOKEN=${ADMIN_TOKEN}\nAPP=${applicationId}\n${pointedAt(snippets['curl-sse']!, Number(new URL(gw.url).port))}`;
    const run = runScript('bash', ['-c', script]);
    await until(async () => {
      await emit(500);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return run.lines.some((line) => line.startsWith('data: '));
    }, 'an SSE event');
    expect(run.lines).toContain('event: next');
    expect(run.lines.find((line) => line.startsWith('data: '))).toMatch(/^data: \{"data":\{"applicationEvents":\{"type":"SESSION_EVENT_CREATED","sessionId":"/);
    run.child.kill('SIGINT');
  }, 60_000);
});

describe.skipIf(!haveChromium)(`graphql-sse in Chromium, on a page of another origin${haveChromium ? '' : ' (skipped: /usr/bin/chromium is not installed)'}`, () => {
  let site: Server;
  let siteUrl = '';
  beforeAll(async () => {
    const code = pointedAt(snippets['graphql-sse-browser']!, Number(new URL(gw.url).port)).replace(
      "import { createClient } from 'graphql-sse';",
      'const { createClient } = window.graphqlSse; // the UMD build stands in for a bundler',
    );
    const page = `<!doctype html><meta charset="utf-8"><title>frontend</title>
<script src="/graphql-sse.js"></script>
<script type="module">
  window.received = [];
  window.failures = [];
  const token = ${JSON.stringify(ADMIN_TOKEN)};
  const applicationId = ${JSON.stringify(applicationId)};
  const sessionId = ${JSON.stringify(sessionId)};
  const show = (event) => window.received.push(event);
  try {
${code}
  } catch (error) {
    window.failures.push(String(error));
  }
</script>`;
    const umd = readFileSync(join(root, 'node_modules/graphql-sse/umd/graphql-sse.js'));
    site = createServer((req, res) => {
      if (req.url === '/graphql-sse.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(umd);
      else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve())));

  it('streams the session events, with the bearer header, across origins', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      await page.goto(siteUrl);
      expect(new URL(siteUrl).origin).not.toBe(new URL(gw.url).origin);
      let n = 1000;
      await until(async () => {
        await emit(n++);
        await new Promise((resolve) => setTimeout(resolve, 300));
        return (await page.evaluate(() => (window as any).received.length)) > 0;
      }, 'an event in the page');
      const [event] = await page.evaluate(() => (window as any).received);
      expect(event).toMatchObject({ type: 'SESSION_EVENT_CREATED', data: { n: expect.any(Number) } });
      expect(event.cursor).toEqual(expect.any(String));
      expect(await page.evaluate(() => (window as any).failures)).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
