// A fresh database per test file: on the real server (TEST_DATABASE_URL) a new database
// created for the file and dropped after; otherwise an in-memory PGlite.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || null;
export const onRealPostgres = !!TEST_DATABASE_URL;

export interface TestDatabase {
  handle: DatabaseHandle;
  /** The connection URL on the real server; null on PGlite. */
  url: string | null;
  /** Opens another handle on the same database (a second gateway instance); real server only. */
  openAnother(): Promise<DatabaseHandle>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (!TEST_DATABASE_URL) {
    const handle = await openDatabase({ url: null });
    await handle.migrate();
    return {
      handle,
      url: null,
      openAnother: () => Promise.reject(new Error('a second instance needs the real PostgreSQL server')),
      drop: () => handle.close(),
    };
  }
  const name = `sky_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString() });
  await handle.migrate();
  const others: DatabaseHandle[] = [];
  return {
    handle,
    url: url.toString(),
    async openAnother() {
      const other = await openDatabase({ url: url.toString() });
      others.push(other);
      return other;
    },
    async drop() {
      await Promise.allSettled([handle.close(), ...others.map((other) => other.close())]);
      const dropper = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await dropper.end();
    },
  };
}
