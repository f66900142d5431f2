// The embedded database belongs to one process at a time (src/db/data-dir-lock.ts): a second
// gateway on the same DATA_DIR exits with one line, `npm run token` asks the running gateway,
// a stale lock (a killed process) is taken over, and a clean stop removes the lock.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { graphqlRequest } from './helpers/graphql-client.ts';
import { startProcess, type Store } from './helpers/gateway-process.ts';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'skylight-lock-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const store: Store = { dataDir, database: null };
const lockFile = join(dataDir, 'gateway.lock');
// The demo: the embedded database with its users (maria) and DATA_DIR/demo-token.
const demo = { DEMO: 'true', DATABASE_URL: '' };

/** `npm run token` as a person runs it: only DATA_DIR, no ADMIN_TOKEN. */
const token = (user: string) =>
  run('npm', ['run', '--silent', 'token', '--', '--user', user], {
    cwd: root,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn' },
  });

/** src/main.ts as a second process on the same folder: its exit code and stderr. */
function secondGateway(): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH!, DATA_DIR: dataDir, DATABASE_URL: '', DEMO: 'true', PORT: '0', LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

const usernameOf = async (port: number, secret: string) =>
  (await graphqlRequest(`http://127.0.0.1:${port}`, secret, '{ viewer { user { username } } }')).viewer.user.username;

describe('one process per embedded database', () => {
  it('a second gateway on the same DATA_DIR exits with one line; npm run token asks the running one', async () => {
    const first = await startProcess(demo, store);
    try {
      const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
      expect(lock).toMatchObject({ pid: first.child.pid, holder: 'gateway', url: `http://127.0.0.1:${first.port}` });

      const second = await secondGateway();
      expect(second.code).toBe(1);
      expect(second.stderr.trim().split('\n')).toEqual([
        `gateway: the embedded database in ${dataDir} is in use by a running gateway (pid ${first.child.pid}, http://127.0.0.1:${first.port}); stop it first, or use another DATA_DIR, or DATABASE_URL for several processes`,
      ]);
      // The first one never noticed.
      expect(await usernameOf(first.port, readFileSync(join(dataDir, 'demo-token'), 'utf8').trim())).toBe('admin');

      const printed = await token('maria');
      const secret = printed.stdout.trim();
      expect(secret).toMatch(/^sk_[A-Za-z0-9_-]{40,}$/);
      // Created by the running gateway: it knows the token at once.
      expect(await usernameOf(first.port, secret)).toBe('maria');

      const missing = await token('nobody').catch((error) => error);
      expect(missing.code).toBe(1);
      expect(missing.stderr.trim()).toBe('no user named "nobody"');

      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      // A clean stop gives the folder back.
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      first.child.kill('SIGKILL');
    }
  }, 300_000);

  it('a lock left by a killed process is taken over; with no gateway running npm run token opens the database itself', async () => {
    // A pid that surely is not running any more.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.on('exit', resolve));
    writeFileSync(lockFile, JSON.stringify({ pid: dead.pid, holder: 'gateway', startedAt: new Date().toISOString(), url: 'http://127.0.0.1:1' }));

    const gateway = await startProcess(demo, store);
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(gateway.child.pid);
    gateway.child.kill('SIGKILL');
    await gateway.exited;
    // kill -9 leaves the lock behind, naming a dead pid.
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(gateway.child.pid);

    const secret = (await token('maria')).stdout.trim();
    expect(secret).toMatch(/^sk_/);
    expect(existsSync(lockFile)).toBe(false);

    const again = await startProcess(demo, store);
    try {
      expect(await usernameOf(again.port, secret)).toBe('maria');
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  }, 300_000);
});
