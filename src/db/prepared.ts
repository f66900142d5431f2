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

/** Lets `sql.unsafe` prepare the queries drizzle sends unprepared, up to `limit` distinct texts. */
export function prepareStatements(sql: postgres.Sql, limit = PREPARED_TEXTS): void {
  const admitted = new Set<string>();
  const admit = (text: string) => admitted.has(text) || (admitted.size < limit && !!admitted.add(text));
  const unsafe: Unsafe = sql.unsafe.bind(sql);
  sql.unsafe = ((text: string, args?: never[], options?: postgres.UnsafeQueryOptions) =>
    unsafe(text, args, options?.prepare === false && admit(text) ? { ...options, prepare: true } : options)) as Unsafe;
}
