// The demo's GraphiQL page carries the admin token only to a person on the gateway's own
// machine: not to another machine (a real request from this machine's non-loopback address),
// not through a proxy, not to a page of another site whose name resolves to 127.0.0.1 (DNS
// rebinding), not to a cross-site fetch or frame, and never with NODE_ENV=production.
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/demo/seed.ts';
import { ensureBuiltinAdmin } from '../src/domain/identity.ts';
import { buildServer, type GatewayServer } from '../src/server.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { ADMIN_TOKEN, testConfig } from './helpers/gateway.ts';

const external = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

interface Page {
  status: number;
  html: string;
  headers: Record<string, string | string[] | undefined>;
}

/** GET /graphql as a browser loads it, to `address`, with exactly these extra headers. */
function loadPage(address: string, port: number, headers: Record<string, string> = {}): Promise<Page> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path: '/graphql', headers: { accept: 'text/html', ...headers } }, (res) => {
      let html = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (html += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, html, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const variablesOf = (html: string) => JSON.parse(JSON.parse(/"variables":("(?:[^"\\]|\\.)*")/.exec(html)![1]!));

async function serve(env: Record<string, string>, database: TestDatabase, host: string) {
  const server = await buildServer({ config: testConfig(env), database: database.handle, logger: pino({ level: 'silent' }), graphiqlToken: ADMIN_TOKEN });
  const { port } = await server.start(0, host);
  return { server, port };
}

describe('the demo token in GraphiQL', () => {
  let database: TestDatabase;
  let server: GatewayServer;
  let port: number;
  let demoSession: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    await ensureBuiltinAdmin(database.handle.db);
    await seedDemo(database.handle.db);
    // Listening on every interface, as HOST=0.0.0.0 does.
    ({ server, port } = await serve({}, database, '0.0.0.0'));
    demoSession = variablesOf((await loadPage('127.0.0.1', port)).html).sessionId;
  });
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it('is in the page loaded on this machine, with the demo ids in the Variables pane', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `localhost`]) {
      const page = await loadPage('127.0.0.1', port, { host, 'sec-fetch-site': 'none' });
      expect(page.status).toBe(200);
      expect(page.html, host).toContain(`Bearer ${ADMIN_TOKEN}`);
    }
    expect(demoSession).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.skipIf(!external)(
    `is not in the page requested from another address (${external ?? 'skipped: this machine has no non-loopback IPv4 address'})`,
    async () => {
      // The Host header names this machine's loopback: only where the request came from differs.
      const page = await loadPage(external!, port, { host: `127.0.0.1:${port}`, 'sec-fetch-site': 'none' });
      expect(page.status).toBe(200);
      expect(page.html).toContain('YogaGraphiQL.renderYogaGraphiQL');
      expect(page.html).not.toContain(ADMIN_TOKEN);
      // Nothing about the demo either: the ids wait for the person to sign in.
      expect(page.html).not.toContain(demoSession);
      expect(variablesOf(page.html)).toEqual({ applicationId: '', sessionId: '' });
    },
  );

  it.each([
    ['relayed by a proxy on this machine', { 'x-forwarded-for': '203.0.113.9' }],
    ['relayed with Forwarded', { forwarded: 'for=203.0.113.9' }],
    ['addressed to another name that resolves here (DNS rebinding)', { host: 'attacker.example:4000' }],
    ['fetched by a page of another site', { 'sec-fetch-site': 'cross-site' }],
    ['framed by a page of the same site on another port', { 'sec-fetch-site': 'same-site' }],
  ])('is not in the page %s', async (_case, headers) => {
    const page = await loadPage('127.0.0.1', port, headers);
    expect(page.status).toBe(200);
    expect(page.html).toContain('YogaGraphiQL.renderYogaGraphiQL');
    expect(page.html).not.toContain(ADMIN_TOKEN);
  });

  it('is never in the page with NODE_ENV=production, even on this machine with GRAPHIQL=true', async () => {
    const production = await serve({ NODE_ENV: 'production', GRAPHIQL: 'true' }, database, '127.0.0.1');
    try {
      const page = await loadPage('127.0.0.1', production.port, { 'sec-fetch-site': 'none' });
      expect(page.status).toBe(200);
      expect(page.html).toContain('YogaGraphiQL.renderYogaGraphiQL');
      expect(page.html).not.toContain(ADMIN_TOKEN);
    } finally {
      await production.server.stop();
    }
  });
});
