// A transaction keeps its connection to itself, however busy the pool is. postgres.js 3.4
// pipelines a BEGIN onto a connection busy with other queries when none is idle, and when the
// BEGIN is the query that fills that connection's pipeline (100 queries in flight) it forgets
// to reserve it: the transaction fails with a TypeError and the pool keeps sending other
// queries into the open transaction (porsager/postgres#823, #1218). Seen here as one internal
// error among 200 concurrent `patchSessionData` requests. The gateway runs its transactions
// on connections of their own (src/db/client.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql as drizzleSql } from 'drizzle-orm';
import { openDatabase, type DatabaseHandle } from '../src/db/client.ts';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from './helpers/database.ts';

const reason = TEST_DATABASE_URL ? '' : ' (skipped: needs the real PostgreSQL server, TEST_DATABASE_URL; PGlite has no connection pool)';

describe.skipIf(!TEST_DATABASE_URL)(`transactions beside a pipelining pool on PostgreSQL${reason}`, () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = await openDatabase({ url: database.url!, max: 2 });
    await handle.db.execute(drizzleSql`create table tx_probe (k int primary key, v int not null)`);
    await handle.db.execute(drizzleSql`insert into tx_probe values (1, 0)`);
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  it('commits every transaction whose BEGIN arrives as the 100th query in flight on each connection', async () => {
    const sql = handle.sql!;
    // Both connections open and idle.
    await Promise.all([sql`select 1`, sql`select 1`]);
    // Both busy (a query each), then 99 more pipelined on each: the next query fills a pipeline.
    // Sent at once (`execute`; a query is otherwise sent when first awaited), and without
    // parameters (one with parameters the connection has not prepared waits for its Describe).
    const sleeps = [sql`select pg_sleep(0.5)`.execute(), sql`select pg_sleep(0.5)`.execute()];
    const reads = Array.from({ length: 198 }, () => sql`select 7 as i`.execute());
    const transactions = [0, 1].map(() =>
      handle.db.transaction(async (tx) => {
        const [row] = (await tx.execute(drizzleSql`select v from tx_probe where k = 1 for update`)) as unknown as { v: number }[];
        await tx.execute(drizzleSql`update tx_probe set v = ${row!.v + 1} where k = 1`);
      }),
    );
    const outcomes = await Promise.allSettled([...sleeps, ...reads, ...transactions]);
    const failures = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => String((outcome as PromiseRejectedResult).reason));
    expect(failures).toEqual([]);
    expect((await Promise.all(reads)).map((rows) => rows[0]!.i)).toEqual(Array(198).fill(7));
    const [row] = (await handle.db.execute(drizzleSql`select v from tx_probe where k = 1`)) as unknown as { v: number }[];
    expect(row!.v).toBe(2);
    // Nothing was left open on the server.
    const [open] = await sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`;
    expect(open!.n).toBe(0);
  });
});
