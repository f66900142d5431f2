// Graceful shutdown of the real process (as `npm start` runs it): SIGTERM stops
// new connections, lets in-flight requests finish within SHUTDOWN_TIMEOUT_MS, and exits 0.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/index.ts';
import { onRealPostgres } from './helpers/database.ts';
import { ADMIN_TOKEN, startGateway } from './helpers/gateway.ts';
import { gql, refused, slowPost, startProcess, until } from './helpers/gateway-process.ts';

const haveSubscriptions = !!schema.getSubscriptionType()?.getFields().sessionEvents;

describe(`graceful shutdown (${onRealPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('SIGTERM: refuses new connections, finishes the in-flight request, then exits 0', async () => {
    const gw = await startProcess();
    const slow = slowPost(gw.port, 'query SlowOne { viewer { user { username } } }');
    await new Promise((resolve) => setTimeout(resolve, 300));
    gw.child.kill('SIGTERM');
    await until(() => refused(gw.port));
    // Still running: the listener is closed, but the request in flight is not cut.
    expect(gw.child.exitCode).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 300));
    slow.finish();
    const { response, text } = await slow.answered;
    expect(response.statusCode).toBe(200);
    expect(response.headers.connection).toBe('close');
    expect(JSON.parse(text)).toEqual({ data: { viewer: { user: { username: 'admin' } } } });
    expect(await gw.exited).toBe(0);
    expect(gw.logs.map((entry) => entry.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  }, 60_000);

  it('SIGINT with a request that outlives SHUTDOWN_TIMEOUT_MS: it is cut and the process still exits 0', async () => {
    const gw = await startProcess({ SHUTDOWN_TIMEOUT_MS: '700' });
    const slow = slowPost(gw.port, '{ __typename }');
    await new Promise((resolve) => setTimeout(resolve, 300));
    gw.child.kill('SIGINT');
    await expect(slow.answered).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(await gw.exited).toBe(0);
    // The gateway's own clock: the request was cut once SHUTDOWN_TIMEOUT_MS had passed.
    const signalled = gw.logs.find((entry) => entry.msg === 'shutting down');
    const cut = gw.logs.find((entry) => entry.msg?.includes('cut'));
    expect(signalled).toMatchObject({ signal: 'SIGINT', timeoutMs: 700 });
    expect(cut).toMatchObject({ requests: 1, timeoutMs: 700 });
    expect(cut.time - signalled.time).toBeGreaterThanOrEqual(690);
    expect(cut.time - signalled.time).toBeLessThan(5_000);
  }, 60_000);
});

describe.skipIf(!haveSubscriptions)(
  `graceful shutdown with live subscriptions${haveSubscriptions ? '' : ' (skipped: no sessionEvents subscription in the schema yet)'}`,
  () => {
    const FOLLOW = `subscription($a: ID!, $s: ID!, $after: String) {
      sessionEvents(applicationId: $a, sessionId: $s, after: $after) { id type cursor ... on SessionDataEvent { data } } }`;
    const CUSTOM = `mutation($a: ID!, $s: ID!, $data: JSON!) { createSessionEvent(applicationId: $a, sessionId: $s, data: $data) { id } }`;

    function follow(port: number, variables: Record<string, unknown>) {
      const events: any[] = [];
      let closeCode: number | null = null;
      let ended: unknown = null;
      const client = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
        retryAttempts: 0,
        on: { closed: (event) => void (closeCode = (event as { code: number }).code) },
      });
      client.subscribe(
        { query: FOLLOW, variables },
        {
          next: (result) => (result.data ? events.push(result.data.sessionEvents) : (ended = result.errors)),
          error: (error) => (ended = error ?? 'error'),
          complete: () => (ended = 'complete'),
        },
      );
      return { events, client, closeCode: () => closeCode, ended: () => ended };
    }

    it('SIGTERM closes WebSockets with 1001; the client resumes from its cursor on a fresh instance and loses nothing', async () => {
      const first = await startProcess();
      const { createApplication: app } = await gql(first.port, `mutation { createApplication(input: { name: "Shutdown" }) { id } }`);
      const { createSession: session } = await gql(
        first.port,
        `mutation($a: ID!) { createSession(input: { applicationId: $a, name: "Live through a restart" }) { id } }`,
        { a: app.id },
      );
      const ids = { a: app.id, s: session.id };
      const live = follow(first.port, ids);
      // The stream starts live: events before it are not ours to count. Send until one arrives.
      for (let i = 0; live.events.length === 0 && i < 50; i++) {
        await gql(first.port, CUSTOM, { ...ids, data: { n: -1 } });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const warmup = live.events.length;
      for (let n = 1; n <= 3; n++) await gql(first.port, CUSTOM, { ...ids, data: { n } });
      await until(() => live.events.length >= warmup + 3);

      first.child.kill('SIGTERM');
      await until(() => live.closeCode() !== null);
      expect(live.closeCode()).toBe(1001);
      expect(await first.exited).toBe(0);
      const lastSeen = live.events.at(-1);
      expect(lastSeen.data).toEqual({ n: 3 });

      // A fresh instance on the same database; changes happen while the client is away.
      const second = await startProcess({}, first.store);
      for (let n = 4; n <= 5; n++) await gql(second.port, CUSTOM, { ...ids, data: { n } });
      const resumed = follow(second.port, { ...ids, after: lastSeen.cursor });
      await until(() => resumed.events.length >= 2);
      await gql(second.port, CUSTOM, { ...ids, data: { n: 6 } });
      await until(() => resumed.events.length >= 3);
      expect(resumed.events.map((event) => event.data)).toEqual([{ n: 4 }, { n: 5 }, { n: 6 }]);
      await resumed.client.dispose();
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }, 90_000);
  },
);

describe('GatewayServer.stop()', () => {
  it('runs the onShutdown closers in order, after the in-flight requests finished', async () => {
    const gw = await startGateway();
    const order: string[] = [];
    gw.server.onShutdown(() => void order.push('websockets closed'));
    gw.server.onShutdown(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('listener closed');
    });
    const slow = slowPost(Number(new URL(gw.url).port), '{ __typename }');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = gw.stop().then(() => order.push('stopped'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(order).toEqual([]);
    order.push('request body completed');
    slow.finish();
    const { response } = await slow.answered;
    expect(response.statusCode).toBe(200);
    await stopped;
    expect(order).toEqual(['request body completed', 'websockets closed', 'listener closed', 'stopped']);
  });
});
