// The hub's own view of the database: the same pool (or PGlite), but its statements are not
// added to `DatabaseHandle.statements`, which measures what requests cost; background reads
// triggered by wake-ups would otherwise land in whatever request a test is counting.
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type { Database, DatabaseHandle } from '../db/client.ts';
import { relations } from '../db/relations.ts';

export function backgroundDatabase(handle: DatabaseHandle): Database {
  if (handle.sql) return drizzlePostgres({ client: handle.sql, relations }) as unknown as Database;
  if (handle.pglite) return drizzlePglite({ client: handle.pglite, relations }) as unknown as Database;
  return handle.db;
}
