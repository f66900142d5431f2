// A database that does not answer: requests answer UNAVAILABLE (a plain POST with nothing to
// show is HTTP 503 with Retry-After; a partial result keeps its data), /ready says 503, and the
// gateway recovers by itself when the database is back. The database is a PostgreSQL cluster
// of this test's own (test/helpers/own-postgres.ts), stopped and started under a running gateway.
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../src/db/client.ts';
import { ensureBuiltinAdmin } from '../src/domain/identity.ts';
import { buildServer, type GatewayServer } from '../src/server.ts';
import { ADMIN_TOKEN, testConfig } from './helpers/gateway.ts';
import { APPLICATION_EVENTS, CREATE_SESSION, rawWsClose, subscribeWs, wsClient } from './helpers/live-clients.ts';
import { ownPostgresUnavailable, startOwnPostgres, type OwnPostgres } from './helpers/own-postgres.ts';
import type { TestGateway } from './helpers/gateway.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(100);
  }
}

const createApplication = `mutation($name: String!) { createApplication(input: { name: $name }) { id name } }`;

describe.skipIf(!!ownPostgresUnavailable)(
  `a PostgreSQL outage under a running gateway${ownPostgresUnavailable ? ` (skipped: ${ownPostgresUnavailable})` : ''}`,
  () => {
    let cluster: OwnPostgres;
    let database: DatabaseHandle;
    let server: GatewayServer;
    let url: string;
    const warnings: any[] = [];

    async function post(query: string, variables: Record<string, unknown> = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
    }
    const ready = async () => {
      const response = await fetch(`${url}/ready`);
      return { status: response.status, retryAfter: response.headers.get('retry-after') };
    };

    beforeAll(async () => {
      cluster = await startOwnPostgres();
      database = await openDatabase({ url: cluster.url, connectTimeoutMs: 2000 });
      await database.migrate();
      await ensureBuiltinAdmin(database.db);
      const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
      server = await buildServer({ config: testConfig({ DATABASE_URL: cluster.url, EVENT_POLL_MS: '500', ACCESS_RECHECK_MS: '600000' }), database, logger });
      url = (await server.start(0, '127.0.0.1')).url.replace('localhost', '127.0.0.1');
    }, 120_000);

    afterAll(async () => {
      await server?.stop({ timeoutMs: 1000 });
      await database?.close().catch(() => {});
      await cluster?.destroy();
    });

    it('answers UNAVAILABLE (503, Retry-After) while the database is down, and recovers by itself', async () => {
      const before = await post(createApplication, { name: 'before the outage' });
      expect(before.status).toBe(200);
      expect(before.body.errors).toBeUndefined();
      expect((await ready()).status).toBe(200);
      const applicationId = before.body.data.createApplication.id;
      const gateway = { graphqlUrl: `${url}/graphql` } as TestGateway;
      const client = wsClient(gateway, ADMIN_TOKEN, { lazy: false });
      const live = subscribeWs(client, APPLICATION_EVENTS, { a: applicationId, types: ['SESSION_CREATED'] });
      const newSession = (name: string) => post(CREATE_SESSION, { input: { applicationId, name } });
      // Live: a session created now arrives on the stream.
      await until(async () => {
        await newSession('warm-up');
        await live.until((stream) => stream.events.length > 0, 1000).catch(() => {});
        return live.events.length > 0;
      });
      const second = await newSession('second');
      await live.until((stream) => stream.events.some((event) => event.sessionId === second.body.data.createSession.id), 20_000);
      // A token nobody has used yet: checking it needs the database.
      const user = await post(`mutation { createUser(username: "outage-user", isIntegration: false, isAdmin: false) { id } }`);
      const fresh = (await post(`mutation($id: ID!) { createApiToken(userId: $id, name: "t") { token } }`, { id: user.body.data.createUser.id })).body.data
        .createApiToken.token as string;
      // The admin's principal is in memory again (createApplication's access signal dropped it),
      // so the requests below get past authentication and fail where they need the database.
      expect((await post(`{ viewer { user { id } } }`)).body.data.viewer.user.id).toBeTruthy();

      await cluster.stop();

      const during = await post(createApplication, { name: 'during the outage' });
      expect(during.body.errors.map((e: any) => e.extensions.code)).toEqual(['UNAVAILABLE']);
      expect(during.body.errors[0].extensions.retryAfter).toBe(5);
      expect(during.body.errors[0].message).not.toMatch(/ECONNREFUSED|postgres|127\.0\.0\.1/);
      expect(during.status).toBe(503);
      expect(during.retryAfter).toBe('5');
      expect(await ready()).toEqual({ status: 503, retryAfter: '5' });

      // Authentication that needs the database: HTTP 503; a WebSocket closes with 1013 (try
      // again later: graphql-ws clients reconnect; a 4500 would make them give up).
      const unchecked = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${fresh}` },
        body: JSON.stringify({ query: '{ viewer { user { id } } }' }),
      });
      expect(unchecked.status).toBe(503);
      expect(((await unchecked.json()) as any).errors.map((e: any) => e.extensions.code)).toEqual(['UNAVAILABLE']);
      expect(await rawWsClose(gateway, { authorization: `Bearer ${fresh}` })).toMatchObject({ code: 1013, acked: false });

      // A partial result stays a GraphQL response: 200, its data, the field's UNAVAILABLE error.
      const partial = await post(`query($id: ID!) { __typename application(applicationId: $id) { id } }`, { id: randomUUID() });
      expect(partial.body.data).toEqual({ __typename: 'Query', application: null });
      expect(partial.body.errors.map((e: any) => [e.extensions.code, e.path])).toEqual([['UNAVAILABLE', ['application']]]);
      expect(partial.status).toBe(200);

      // Handlers outside Yoga (downloads) say the same.
      const download = await fetch(`${url}/media/${randomUUID()}/content`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(download.status).toBe(503);
      expect(download.headers.get('retry-after')).toBe('5');
      expect(((await download.json()) as any).errors[0].extensions.code).toBe('UNAVAILABLE');

      // Uploads too: the multipart path answers what Yoga answered.
      const form = new FormData();
      form.set('operations', JSON.stringify({
        query: `mutation($a: ID!, $s: ID!, $file: Upload!) { uploadSessionMedia(applicationId: $a, sessionId: $s, file: $file) { id } }`,
        variables: { a: applicationId, s: second.body.data.createSession.id, file: null },
      }));
      form.set('map', JSON.stringify({ 0: ['variables.file'] }));
      form.set('0', new Blob([Buffer.from('hello')], { type: 'text/plain' }), 'hello.txt');
      const uploaded = await fetch(`${url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-graphql-csrf': '1' }, body: form });
      expect(uploaded.status).toBe(503);
      expect(uploaded.headers.get('retry-after')).toBe('5');
      expect(((await uploaded.json()) as any).errors.map((e: any) => e.extensions.code)).toEqual(['UNAVAILABLE']);

      // A new subscription that must replay history first ends with UNAVAILABLE (the client
      // resumes from its cursor later); one that starts live just waits, like those already open.
      const replaying = subscribeWs(client, APPLICATION_EVENTS, { a: applicationId, after: live.events[0].cursor });
      await replaying.untilEnded(20_000);
      expect(replaying.results.flatMap((result) => result.errors ?? []).map((error) => error.extensions?.code)).toEqual(['UNAVAILABLE']);
      expect(live.ended).toBeNull();

      await cluster.start();

      // No restart of the gateway: the pool opens new connections on the next query.
      expect(await ready()).toEqual({ status: 200, retryAfter: null });
      const after = await post(createApplication, { name: 'during the outage' });
      expect(after.status).toBe(200);
      expect(after.body.errors).toBeUndefined();
      expect(after.body.data.createApplication.name).toBe('during the outage');
      const listed = await post(`{ applications(first: 50) { edges { node { name } } } }`);
      expect(listed.body.data.applications.edges.map((e: any) => e.node.name).sort()).toEqual(['before the outage', 'during the outage']);
      // The stream opened before the outage carries on, with nothing missed.
      const seen = live.events.length;
      const created = await newSession('after the outage');
      expect(created.status).toBe(200);
      await live.until((stream) => stream.events.length > seen, 20_000);
      expect(live.events.at(-1).sessionId).toBe(created.body.data.createSession.id);
      expect(live.ended).toBeNull();
      client.dispose();
      // The outage was never logged as an unexpected error.
      expect(warnings.filter((entry) => entry.msg === 'unexpected error')).toEqual([]);
    }, 120_000);
  },
);
