// SPEC 5: several gateway instances on one database deliver every event to the subscribers of
// all of them, woken by LISTEN/NOTIFY or by Redis pub/sub; when the listening connection is
// cut mid-stream the instance notices, listens again and catches up: nothing is lost.
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, dataOf, unique, userWithRole } from './helpers/factories.ts';
import { onRealPostgres } from './helpers/database.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { APPLICATION_EVENTS, CREATE_SESSION, CUSTOM_EVENT, positionOf, subscribeWs, wsClient, type Stream } from './helpers/live-clients.ts';

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

// The safety poll is off (EVENT_POLL_MS=0): only wake-ups and re-listening can deliver here.
describe.skipIf(!onRealPostgres).each([
  ['LISTEN/NOTIFY', {}],
  ['Redis pub/sub', { REDIS_URL }],
] as const)('two instances on one PostgreSQL, woken by %s (needs the real server: PGlite lives in one process)', (wakeName, env) => {
  let a: TestGateway;
  let b: TestGateway;
  const cleanup: (() => unknown)[] = [];
  beforeAll(async () => {
    a = await startGateway({ EVENT_POLL_MS: '0', ...env });
    b = await a.startAnother();
  });
  afterAll(async () => {
    for (const step of cleanup) await step();
    await b?.stop();
    await a?.stop();
  });

  async function setup() {
    const app = await createApplication(a);
    const session = dataOf(await a.gql(CREATE_SESSION, { input: { applicationId: app.id, name: unique('s') } })).createSession.id;
    const client = wsClient(b, ADMIN_TOKEN);
    const before = b.server.services.events.subscriberCount;
    const stream = subscribeWs(client, APPLICATION_EVENTS, { a: app.id, types: ['SESSION_EVENT_CREATED'] });
    cleanup.push(() => client.dispose());
    while (b.server.services.events.subscriberCount === before) await new Promise((resolve) => setTimeout(resolve, 10));
    let n = 0;
    const emit = async (count: number) => {
      for (let k = 0; k < count; k++) dataOf(await a.gql(CUSTOM_EVENT, { a: app.id, s: session, data: { n: n++ } }));
    };
    return { stream, emit };
  }

  function expectExactlyInOrder(stream: Stream, count: number) {
    expect(stream.events.map((e) => e.data.n)).toEqual(Array.from({ length: count }, (_, k) => k));
    const positions = stream.events.map((e) => positionOf(e.cursor));
    for (let k = 1; k < positions.length; k++) expect(positions[k]).toBeGreaterThan(positions[k - 1]!);
  }

  /** How many wake-up connections of instance `id` are open now (Redis subscriber or LISTEN backend). */
  async function listenerConnections(id: string): Promise<number> {
    if (wakeName === 'Redis pub/sub') {
      const redis = new Redis(REDIS_URL);
      const list = String(await redis.client('LIST'));
      await redis.quit();
      return list.split('\n').filter((entry) => entry.includes(`name=skylight-events-${id}-sub`)).length;
    }
    const admin = postgres(a.database.url!, { max: 1, onnotice: () => {} });
    const rows = await admin`select 1 from pg_stat_activity where application_name = ${`skylight-events-listener-${id}`}`;
    await admin.end();
    return rows.length;
  }

  it('uses the configured wake-up', () => {
    expect(b.server.services.events.wakeKind).toBe(wakeName === 'Redis pub/sub' ? 'redis' : 'postgres');
  });

  it('delivers to a subscriber of one instance what is written through the other', async () => {
    const { stream, emit } = await setup();
    await emit(5);
    await stream.untilEvents(5, 5000);
    expectExactlyInOrder(stream, 5);
  });

  it('stops delivering on one instance when a role is removed through the other', async () => {
    const app = await createApplication(a);
    const user = await userWithRole(a, app.id, app.roles.Manager!);
    const session = dataOf(await a.gql(CREATE_SESSION, { input: { applicationId: app.id, name: unique('s') } })).createSession.id;
    const client = wsClient(b, user.token);
    cleanup.push(() => client.dispose());
    const before = b.server.services.events.subscriberCount;
    const stream = subscribeWs(client, APPLICATION_EVENTS, { a: app.id, types: ['SESSION_EVENT_CREATED'] });
    while (b.server.services.events.subscriberCount === before) await new Promise((resolve) => setTimeout(resolve, 10));
    dataOf(await a.gql(CUSTOM_EVENT, { a: app.id, s: session, data: { n: 0 } }));
    await stream.untilEvents(1, 5000);
    dataOf(
      await a.gql(
        `mutation($a: ID!, $r: ID!, $u: ID!) { removeRoleParticipant(applicationId: $a, roleId: $r, participant: { id: $u }) { id } }`,
        { a: app.id, r: app.roles.Manager!, u: user.id },
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    dataOf(await a.gql(CUSTOM_EVENT, { a: app.id, s: session, data: { n: 1 } }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stream.events.map((e) => e.data.n)).toEqual([0]);
  });

  it('loses nothing when the listening connection is cut mid-stream, and notices within seconds', async () => {
    const { stream, emit } = await setup();
    await emit(5);
    await stream.untilEvents(5, 5000);
    const id = b.server.services.events.instanceId;
    if (wakeName === 'Redis pub/sub') {
      const redis = new Redis(REDIS_URL);
      const list = String(await redis.client('LIST'));
      const line = list.split('\n').find((entry) => entry.includes(`name=skylight-events-${id}-sub`));
      expect(line).toBeTruthy();
      await redis.client('KILL', 'ID', /id=(\d+)/.exec(line!)![1]!);
      await redis.quit();
    } else {
      const admin = postgres(a.database.url!, { max: 1, onnotice: () => {} });
      const killed = await admin`select pg_terminate_backend(pid) as done from pg_stat_activity
        where application_name = ${`skylight-events-listener-${id}`} and datname = current_database()`;
      expect(killed).toHaveLength(1);
      await admin.end();
    }
    const cut = Date.now();
    await emit(5);
    await stream.untilEvents(10, 10_000);
    expect(Date.now() - cut).toBeLessThan(8000);
    await emit(5);
    await stream.untilEvents(15, 5000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expectExactlyInOrder(stream, 15);
    expect(await listenerConnections(id)).toBe(1);
  });
});
