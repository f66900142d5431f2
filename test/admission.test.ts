// Heavy operations take turns: with HEAVY_OPERATION_CONCURRENCY=1, a second wide read waits
// while the first runs, a light operation (the same text with a small page, or any cheap one)
// does not, and both heavy reads answer in full once the first can go on. The first is held
// in PostgreSQL by a lock on `session` taken from another connection, so what runs and what
// waits is decided by the gateway and read from its /metrics gauges, not from timing.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, dataOf } from './helpers/factories.ts';
import { TEST_DATABASE_URL } from './helpers/database.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';

const reason = TEST_DATABASE_URL ? '' : ' (skipped: needs the real PostgreSQL server, TEST_DATABASE_URL, to lock a table from a second connection)';

const PAGE = `query Page($a: ID!, $first: Int!) {
  sessions(applicationId: $a, first: $first) { edges { node { id name media(first: 5) { edges { node { id title } } } } } }
}`;

describe.skipIf(!TEST_DATABASE_URL)(`heavy operations take turns${reason}`, () => {
  let gw: TestGateway;
  let app: { id: string };

  const gauge = async (name: string) => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  };
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await check()).toBe(true);
  };

  beforeAll(async () => {
    gw = await startGateway({ HEAVY_OPERATION_CONCURRENCY: '1', HEAVY_OPERATION_COST: '1000' });
    app = await createApplication(gw);
    for (let i = 0; i < 3; i++) {
      await gw.gql(`mutation($a: ID!, $n: String!) { createSession(input: { applicationId: $a, name: $n }) { id } }`, { a: app.id, n: `s${i}` });
    }
  }, 60_000);
  afterAll(() => gw?.stop());

  it('a second heavy read waits for the first; light ones do not; both answer in full', async () => {
    // The first request of a text is executed as it comes: it tells the gateway the text's cost.
    const full = dataOf(await gw.gql(PAGE, { a: app.id, first: 50 })).sessions.edges;
    expect(full).toHaveLength(3);
    dataOf(await gw.gql(PAGE, { a: app.id, first: 1 }));

    const locker = postgres(gw.database.url!, { max: 1, onnotice: () => {} });
    const held = locker.reserve();
    const connection = await held;
    try {
      await connection`begin`;
      await connection`lock table session in access exclusive mode`;
      const first = gw.gql(PAGE, { a: app.id, first: 50 });
      await until(async () => (await gauge('skylight_heavy_operations_running')) === 1);
      const second = gw.gql(PAGE, { a: app.id, first: 50 });
      await until(async () => (await gauge('skylight_heavy_operations_waiting')) === 1);

      // Not heavy: a cheap operation, and the same text with a page of one (it would wait for
      // the lock in PostgreSQL, not for a turn: it is counted neither running nor waiting).
      expect(dataOf(await gw.gql(`query { applications(first: 1) { edges { node { id } } } }`)).applications).toBeTruthy();
      const small = gw.gql(PAGE, { a: app.id, first: 1 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await gauge('skylight_heavy_operations_running')).toBe(1);
      expect(await gauge('skylight_heavy_operations_waiting')).toBe(1);

      await connection`rollback`;
      const [a, b, c] = await Promise.all([first, second, small]);
      expect(dataOf(a).sessions.edges).toEqual(full);
      expect(dataOf(b).sessions.edges).toEqual(full);
      expect(dataOf(c).sessions.edges).toHaveLength(1);
      await until(async () => (await gauge('skylight_heavy_operations_running')) === 0 && (await gauge('skylight_heavy_operations_waiting')) === 0);
    } finally {
      connection.release();
      await locker.end();
    }
  });

  it('a client that goes away mid-answer gives its turn back', async () => {
    const locker = postgres(gw.database.url!, { max: 1, onnotice: () => {} });
    const connection = await locker.reserve();
    try {
      await connection`begin`;
      await connection`lock table session in access exclusive mode`;
      const abort = new AbortController();
      const gone = fetch(gw.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query: PAGE, variables: { a: app.id, first: 50 } }),
        signal: abort.signal,
      }).catch((error: Error) => error);
      await until(async () => (await gauge('skylight_heavy_operations_running')) === 1);
      const next = gw.gql(PAGE, { a: app.id, first: 50 });
      await until(async () => (await gauge('skylight_heavy_operations_waiting')) === 1);
      abort.abort();
      expect(await gone).toBeInstanceOf(Error);
      // The turn passed on while the first read still waits in PostgreSQL for the lock.
      await until(async () => (await gauge('skylight_heavy_operations_waiting')) === 0);
      expect(await gauge('skylight_heavy_operations_running')).toBe(1);
      await connection`rollback`;
      expect(dataOf(await next).sessions.edges).toHaveLength(3);
      await until(async () => (await gauge('skylight_heavy_operations_running')) === 0);
    } finally {
      connection.release();
      await locker.end();
    }
  });
});
