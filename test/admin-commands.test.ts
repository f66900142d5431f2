// The README's admin commands, run as a person would, against the real database in use.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from './helpers/database.ts';
import { startGateway } from './helpers/gateway.ts';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'skylight-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('admin commands', () => {
  it('npm run db:migrate, seed and token work on a fresh embedded database', async () => {
    const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' };
    const migrate = await run('npm', ['run', '--silent', 'db:migrate'], { cwd: root, env });
    expect(migrate.stdout).toContain('migrations applied (pglite)');
    const seed = await run('npm', ['run', '--silent', 'seed'], { cwd: root, env });
    expect(seed.stdout).toMatch(/demo data created; admin token: sk_/);
    const again = await run('npm', ['run', '--silent', 'seed'], { cwd: root, env });
    expect(again.stdout).toContain('demo data already present');
    const token = await run('npm', ['run', '--silent', 'token', '--', '--user', 'maria'], { cwd: root, env });
    expect(token.stdout.trim()).toMatch(/^sk_[A-Za-z0-9_-]{40,}$/);
    const missing = await run('npm', ['run', '--silent', 'token', '--', '--user', 'nobody'], { cwd: root, env }).catch((e) => e);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no user named "nobody"');
  }, 120_000);

  it.skipIf(!TEST_DATABASE_URL)('npm run token prints a token the server accepts (real PostgreSQL)', async () => {
    const gw = await startGateway();
    try {
      const env = { ...process.env, DATABASE_URL: gw.database.url! };
      const { stdout } = await run('npm', ['run', '--silent', 'token', '--', '--user', 'admin'], { cwd: root, env });
      const response = await gw.gql(`{ viewer { user { username } } }`, {}, stdout.trim());
      expect(response.data?.viewer.user.username).toBe('admin');
    } finally {
      await gw.stop();
    }
  }, 60_000);
});
