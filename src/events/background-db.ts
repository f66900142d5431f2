// The hub's own view of the database: the same pool (or PGlite), but its statements are not
// added to `DatabaseHandle.statements`, which measures what requests cost; background reads
// triggered by wake-ups would otherwise land in whatever request a test is counting.
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type { Database, DatabaseHandle } from '../db/client.ts';
import { relations } from '../db/relations.ts';

/** `statements`, when given, counts what this view sends (for tests of a background worker's cost). */
export function backgroundDatabase(handle: DatabaseHandle, statements?: { count: number }): Database {
  const logger = statements ? { logQuery: () => void statements.count++ } : undefined;
  if (handle.sql) return drizzlePostgres({ client: handle.sql, relations, logger }) as unknown as Database;
  if (handle.pglite) return drizzlePglite({ client: handle.pglite, relations, logger }) as unknown as Database;
  return handle.db;
}
