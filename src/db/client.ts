// One code path for both databases: PostgreSQL through `postgres`, or PGlite embedded in
// the process with its data in a local folder. Both get the same migrations and relations.
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgAsyncDatabase } from 'drizzle-orm/pg-core/async/db';
import type { PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { prepareStatements } from './prepared.ts';
import { relations, type Relations } from './relations.ts';

export type Database = PgAsyncDatabase<PgQueryResultHKT, Relations>;
/** A database or a transaction: every domain function takes one of these first. */
export type Executor = Database | Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseHandle {
  db: Database;
  kind: 'postgres' | 'pglite';
  /**
   * Counts statements sent, so tests can prove a request costs a fixed number of them; with
   * `texts` set (tests), also keeps their SQL.
   */
  statements: { count: number; texts?: string[] };
  /** The raw `postgres` client (real server only), for LISTEN. */
  sql: postgres.Sql | null;
  pglite: PGlite | null;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface DatabaseOptions {
  url: string | null;
  /** PGlite data folder; `memory://` keeps it in memory (tests). */
  dataDir?: string;
  max?: number;
  /** How long opening a connection may take before the query fails as UNAVAILABLE. */
  connectTimeoutMs?: number;
}

/** DATABASE_CONNECT_TIMEOUT_MS's default: a server that does not answer fails fast, not after 30 s. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Advisory lock key serialising migrations across instances: 'skym' as int. */
const MIGRATION_LOCK = 0x736b796d;

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const statements: DatabaseHandle['statements'] = { count: 0 };
  const logger = {
    logQuery: (query: string) => {
      statements.count++;
      statements.texts?.push(query);
    },
  };
  if (options.url) {
    const sql = connectPool(options.url, options);
    // Transactions run on connections of their own. postgres.js 3.4 sends a BEGIN to a
    // connection busy with other queries when none is idle (it pipelines), and when that write
    // meets a full socket buffer or a full pipeline it forgets to reserve the connection: the
    // transaction then has no connection of its own (a TypeError, answered as an internal
    // error), and the pool hands the connection, inside the open transaction, to other
    // requests' queries (porsager/postgres#823, #1204, #1218). A pool that runs nothing but
    // transactions has no busy connection to pipeline onto: a BEGIN goes to an idle
    // connection, or waits for one.
    const transactions = connectPool(options.url, options);
    sql.begin = transactions.begin.bind(transactions) as postgres.Sql['begin'];
    const db = drizzlePostgres({ client: sql, relations, logger }) as unknown as Database;
    // drizzle sets its date parsers and serializers on the client it was given; a transaction's
    // rows are parsed with its own pool's.
    Object.assign(transactions.options.parsers, sql.options.parsers);
    Object.assign(transactions.options.serializers, sql.options.serializers);
    return {
      db,
      kind: 'postgres',
      statements,
      sql,
      pglite: null,
      migrate: async () => {
        // Instances starting together take turns: a session-level advisory lock on a
        // connection of its own, held while the pool applies the migrations.
        const lock = await sql.reserve();
        try {
          await lock`select pg_advisory_lock(${MIGRATION_LOCK})`;
          await migratePostgres(db as never, { migrationsFolder });
        } finally {
          await lock`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
          lock.release();
        }
      },
      close: async () => {
        await Promise.all([sql.end({ timeout: 5 }), transactions.end({ timeout: 5 })]);
      },
    };
  }
  const pglite = new PGlite(options.dataDir ?? 'memory://');
  await pglite.waitReady;
  const db = drizzlePglite({ client: pglite, relations, logger }) as unknown as Database;
  return {
    db,
    kind: 'pglite',
    statements,
    sql: null,
    pglite,
    migrate: async () => {
      await migratePglite(db as never, { migrationsFolder });
    },
    close: () => pglite.close(),
  };
}

/** A pool of `postgres` connections with the gateway's settings; its queries run prepared. */
function connectPool(url: string, options: DatabaseOptions): postgres.Sql {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // Seconds (fractions allowed). A refused connection fails at once; an unreachable host
    // after this long. Either way the request answers UNAVAILABLE and the next query reconnects.
    connect_timeout: (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) / 1000,
    // Seconds a connection waits before reconnecting after a failure. The driver's default
    // grows to 20 s during an outage, and a query waits for it: requests would hang that long
    // before answering UNAVAILABLE, and the first ones after the database is back too.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.5) * (0.5 + Math.random() / 2),
    connection: { application_name: 'skylight-gateway' },
  });
  // postgres.js reads the server's array types on every new connection, in a promise nobody
  // awaits: a connection lost at that moment (the database restarting) is an unhandled
  // rejection. The types do not change, so once the first connection has read them the pool
  // (whose options every connection shares) stops asking.
  sql`select 1`.then(
    () => void ((sql.options as { fetch_types: boolean }).fetch_types = false),
    () => {},
  );
  prepareStatements(sql);
  return sql;
}
