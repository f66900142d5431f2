// Migrations apply once even when several instances start together on one empty database.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.ts';
import { TEST_DATABASE_URL, onRealPostgres } from './helpers/database.ts';

describe.skipIf(!onRealPostgres)('migrations (needs the real PostgreSQL server: TEST_DATABASE_URL)', () => {
  it('three instances migrating one empty database at once all succeed, each migration applied once', async () => {
    const admin = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
    const name = `sky_migrate_${randomBytes(5).toString('hex')}`;
    await admin.unsafe(`create database ${name}`);
    const url = new URL(TEST_DATABASE_URL!);
    url.pathname = `/${name}`;
    const handles = await Promise.all([0, 1, 2].map(() => openDatabase({ url: url.toString(), max: 3 })));
    try {
      await Promise.all(handles.map((handle) => handle.migrate()));
      const probe = postgres(url.toString(), { max: 1, onnotice: () => {} });
      const applied = await probe`select count(*)::int as n from drizzle.__drizzle_migrations`;
      const tables = await probe`select count(*)::int as n from information_schema.tables where table_name = 'session'`;
      await probe.end();
      expect(applied[0]!.n).toBeGreaterThanOrEqual(2);
      expect(tables[0]!.n).toBe(1);
      const { readdirSync } = await import('node:fs');
      const folders = readdirSync(new URL('../drizzle/', import.meta.url), { withFileTypes: true }).filter((d) => d.isDirectory());
      expect(applied[0]!.n).toBe(folders.length);
    } finally {
      await Promise.all(handles.map((handle) => handle.close()));
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
