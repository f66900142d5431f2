// The process as people run it: configuration checked at start, and a first `npm start` on
// an empty data folder serving GraphiQL with demo data and the token filled in.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism, networkInterfaces } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../src/config.ts';
import { createTestDatabase, onRealPostgres } from './helpers/database.ts';

const root = new URL('..', import.meta.url).pathname;
const tsx = join(root, 'node_modules/.bin/tsx');
const children: ChildProcess[] = [];
afterAll(() => children.forEach((child) => child.kill('SIGKILL')));

function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, ['src/main.ts'], { cwd: root, env: { PATH: process.env.PATH!, ...env } });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('configuration', () => {
  it.each([
    [{ PORT: 'eighty' }, /^configuration error: PORT must be an integer/],
    [{ NODE_ENV: 'production', DATABASE_URL: 'postgres://127.0.0.1/x' }, /^configuration error: JWT_SECRET is required when NODE_ENV=production/],
    [{ DATABASE_URL: 'mysql://x' }, /^configuration error: DATABASE_URL must use postgres: or postgresql:/],
    [{ LOG_LEVEL: 'loud' }, /^configuration error: LOG_LEVEL must be one of/],
    [{ GRAPHIQL: 'maybe' }, /^configuration error: GRAPHIQL must be true or false/],
    [{ GC_PARALLEL_SCAVENGE: 'some' }, /^configuration error: GC_PARALLEL_SCAVENGE must be auto, true or false/],
  ])('stops the process with one line naming the variable (%o)', async (env, message) => {
    const { code, stderr } = await run(env as Record<string, string>);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  it('has documented defaults', () => {
    const config = loadConfig({ DATA_DIR: '/tmp/skylight-defaults' });
    // The demo (embedded database) stays on this machine; a real deployment listens everywhere.
    expect(config).toMatchObject({ port: 4000, host: '127.0.0.1', demo: true, databaseUrl: null, graphiql: true, maxSessionDataBytes: 1048576 });
    expect(loadConfig({ DATA_DIR: '/tmp/skylight-defaults', HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ DATABASE_URL: 'postgres://h/db' })).toMatchObject({ host: '0.0.0.0', demo: false });
    expect(loadConfig({ DATABASE_URL: 'postgres://h/db', DEMO: 'true' }).host).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://h/db' }).graphiql).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://h/db', GRAPHIQL: 'true' }).graphiql).toBe(true);
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(ConfigError);
  });

  it('scavenges with helper threads only above two CPUs, unless told', () => {
    const base = { DATA_DIR: '/tmp/skylight-defaults' };
    expect(loadConfig(base).parallelScavenge).toBe(availableParallelism() > 2);
    expect(loadConfig({ ...base, GC_PARALLEL_SCAVENGE: 'auto' }).parallelScavenge).toBe(availableParallelism() > 2);
    expect(loadConfig({ ...base, GC_PARALLEL_SCAVENGE: 'true' }).parallelScavenge).toBe(true);
    expect(loadConfig({ ...base, GC_PARALLEL_SCAVENGE: 'false' }).parallelScavenge).toBe(false);
  });
});

describe('first start on the embedded database', () => {
  it('migrates, seeds demo data, prints the token and serves GraphiQL signed in', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'skylight-start-'));
    const child = spawn(tsx, ['src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH!, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', GC_PARALLEL_SCAVENGE: 'false' },
    });
    children.push(child);
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        const match = /GraphiQL:\s+(\S+)[\s\S]*Token:\s+(\S+)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`exited with ${code}: ${stdout}`)));
    });
    const token = /Token:\s+(\S+)/.exec(stdout)![1]!;
    // The process says how it collects garbage, as configured (the listening line comes before the banner).
    expect(stdout).toMatch(/"msg":"gateway listening"/);
    expect(stdout).toMatch(/"parallelScavenge":false/);
    const page = await fetch(url.replace('localhost', '127.0.0.1'), { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('GraphiQL');
    expect(html).toContain(token);

    const response = await fetch(url.replace('localhost', '127.0.0.1'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: `{ applications(first: 5) { edges { node { id name roles { name participants { type } }
          sessions(status: [OPEN, CLOSED]) { totalCount edges { node { name status properties participants { id } data } } } } } } }`,
      }),
    });
    const body = await response.json();
    const app = body.data.applications.edges[0].node;
    expect(app.name).toBe('Field Inspection');
    expect(app.roles.find((role: any) => role.name === 'User').participants).toEqual([{ type: 'GROUP' }]);
    // Demo sessions with properties, data, participants and a history of events.
    expect(app.sessions.totalCount).toBe(3);
    const pump = app.sessions.edges.map((e: any) => e.node).find((s: any) => s.properties.asset === 'pump-7');
    expect(pump).toMatchObject({ status: 'OPEN', data: { checklist: { valves: 'ok', seals: 'worn' } } });
    expect(pump.participants).toHaveLength(2);
    const events = await fetch(url.replace('localhost', '127.0.0.1'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `{ events(applicationId: "${app.id}", first: 100) { edges { node { type } } } }` }),
    });
    const types = (await events.json()).data.events.edges.map((e: any) => e.node.type);
    expect(types).toContain('SESSION_DATA_UPDATED');
    expect(types).toContain('SESSION_CLOSED');
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }, 180_000);
});

/** Starts `npm start`'s program and resolves with its banner once GraphiQL's address is printed. */
function startForBanner(env: Record<string, string>): Promise<{ child: ChildProcess; banner: string; url: string }> {
  const child = spawn(tsx, ['src/main.ts'], { cwd: root, env: { PATH: process.env.PATH!, PORT: '0', LOG_LEVEL: 'warn', ...env } });
  children.push(child);
  let stdout = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = /GraphiQL:\s+(\S+)[\s\S]*\n\n/.exec(stdout);
      if (match) resolve({ child, banner: stdout, url: match[1]! });
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${stdout}`)));
  });
}

const stop = (child: ChildProcess) => new Promise((resolve) => (child.kill('SIGTERM'), child.on('exit', resolve)));
const external = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

describe('the start banner', () => {
  it('names the embedded database, and says the demo listens on this machine only and how to expose it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'skylight-banner-'));
    const { child, banner, url } = await startForBanner({ DATA_DIR: dataDir });
    try {
      expect(banner).toContain(`Skylight gateway (embedded database in ${dataDir}, demo data)`);
      expect(banner).toMatch(/Token:\s+sk_/);
      expect(banner).toContain('Only this machine can reach it (HOST=127.0.0.1). To let other machines in: HOST=0.0.0.0 npm start');
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      expect((await fetch(url.replace('/graphql', '/health'))).status).toBe(200);
      if (external) {
        const port = new URL(url).port;
        await expect(fetch(`http://${external}:${port}/health`)).rejects.toThrow();
      }
    } finally {
      await stop(child);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it.skipIf(!onRealPostgres)(
    `names PostgreSQL, without the password, when DATABASE_URL is set${onRealPostgres ? '' : ' (skipped: needs TEST_DATABASE_URL)'}`,
    async () => {
      const database = await createTestDatabase();
      await database.handle.close();
      const dataDir = mkdtempSync(join(tmpdir(), 'skylight-banner-'));
      const withPassword = new URL(database.url!);
      withPassword.password = 'not-shown';
      const { child, banner } = await startForBanner({ DATA_DIR: dataDir, DATABASE_URL: withPassword.toString(), DEMO: 'true' });
      try {
        expect(banner).not.toContain('embedded');
        expect(banner).not.toContain('not-shown');
        const shown = new URL(database.url!);
        shown.password = '';
        expect(banner).toContain(`Skylight gateway (PostgreSQL ${shown.toString()}, demo data)`);
      } finally {
        await stop(child);
        await database.drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
