// Named prepared statements for the pool's queries. drizzle-orm runs every query it builds
// (the planned reads of plugin-drizzle included) as an unnamed statement: postgres.js then sends
// Parse and Describe, waits for the answer, and only then Bind and Execute, and PostgreSQL parses
// and plans the text again each time. Prepared, a statement costs one round trip and no parse
// after its first run on a connection.
//
// A connection keeps what it prepared until it is recycled (postgres.js's max_lifetime, 30 to 60
// minutes), on both sides. The texts come from a bounded set of query shapes, but a client that
// sends ever new selections makes ever new texts, so only the first PREPARED_TEXTS distinct texts
// are prepared; any other text still runs, unnamed, as before.
import type postgres from 'postgres';

/** How many distinct query texts the pool prepares; the rest run as unnamed statements. */
export const PREPARED_TEXTS = 500;

type Unsafe = postgres.Sql['unsafe'];
type Begin = postgres.Sql['begin'];

/**
 * Lets `sql.unsafe` prepare the queries drizzle sends unprepared, up to `limit` distinct texts,
 * and the same on the connection of every transaction `sql.begin` opens (drizzle's writes).
 */
export function prepareStatements(sql: postgres.Sql, limit = PREPARED_TEXTS): void {
  const admitted = new Set<string>();
  const admit = (text: string) => admitted.has(text) || (admitted.size < limit && !!admitted.add(text));
  const prepareOn = (client: postgres.Sql | postgres.TransactionSql) => {
    const unsafe: Unsafe = client.unsafe.bind(client);
    client.unsafe = ((text: string, args?: never[], options?: postgres.UnsafeQueryOptions) =>
      unsafe(text, args, options?.prepare === false && admit(text) ? { ...options, prepare: true } : options)) as Unsafe;
  };
  prepareOn(sql);
  const begin = sql.begin.bind(sql) as (...args: unknown[]) => Promise<unknown>;
  sql.begin = ((...args: unknown[]) => {
    const body = args.pop() as (tx: postgres.TransactionSql) => unknown;
    return begin(...args, (tx: postgres.TransactionSql) => {
      prepareOn(tx);
      return body(tx);
    });
  }) as Begin;
}
