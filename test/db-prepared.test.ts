// The pool prepares the statements drizzle sends (planned reads included), so a repeated read
// is one round trip and no parse; past PREPARED_TEXTS distinct texts, queries run unnamed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { openDatabase, type DatabaseHandle } from '../src/db/client.ts';
import { prepareStatements } from '../src/db/prepared.ts';
import { relations } from '../src/db/relations.ts';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from './helpers/database.ts';

const reason = TEST_DATABASE_URL ? '' : ' (skipped: needs the real PostgreSQL server, TEST_DATABASE_URL; PGlite has no connection pool)';

describe.skipIf(!TEST_DATABASE_URL)(`prepared statements on PostgreSQL${reason}`, () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase();
    // One connection, so pg_prepared_statements (per connection) shows what the pool prepared.
    handle = await openDatabase({ url: database.url!, max: 1 });
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  /** The texts prepared on the pool's (single) connection that read `table`. */
  const preparedOn = async (sql: postgres.Sql, table: string) =>
    (await sql<{ statement: string }[]>`select statement from pg_prepared_statements`)
      .map((row) => row.statement)
      .filter((text) => text.includes(`from "${table}"`));

  it('a planned read repeated on a connection is prepared once and answers the same', async () => {
    const read = () =>
      handle.db.query.applicationTable.findMany({ columns: { id: true, name: true }, with: { roles: { columns: { name: true } } }, limit: 5 });
    const first = await read();
    const second = await read();
    expect(second).toEqual(first);
    const texts = await preparedOn(handle.sql!, 'application');
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain('"roles"');
  });

  it("a statement inside a transaction (a write's) is prepared on the transaction's connection too", async () => {
    const inTransaction = () =>
      handle.db.transaction((tx) => tx.query.applicationTable.findMany({ columns: { id: true, createdAt: true }, limit: 3 }));
    await inTransaction();
    await inTransaction();
    // Transactions have a pool of their own (src/db/client.ts), here of one connection too.
    const onTransactionConnection = await handle.sql!.begin((tx) => preparedOn(tx as unknown as postgres.Sql, 'application'));
    const texts = onTransactionConnection.filter((text) => text.includes('"createdAt"'));
    expect(texts).toHaveLength(1);
  });

  it('past the limit of distinct texts a query runs unnamed, and still answers', async () => {
    const sql = postgres(database.url!, { max: 1, onnotice: () => {} });
    try {
      prepareStatements(sql, 1);
      const db = drizzle({ client: sql, relations });
      // With a parameter (the limit): postgres.js sends a query without one as a simple query.
      await db.query.applicationTable.findMany({ columns: { id: true }, limit: 5 });
      const rows = await db.query.applicationTable.findMany({ columns: { id: true, name: true }, limit: 5 });
      expect(Array.isArray(rows)).toBe(true);
      const texts = await preparedOn(sql, 'application');
      expect(texts).toHaveLength(1);
      expect(texts[0]).not.toContain('"name"');
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
