// The process as people run it: configuration checked at start, and a first `npm start` on
// an empty data folder serving GraphiQL with demo data and the token filled in.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../src/config.ts';

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
  ])('stops the process with one line naming the variable (%o)', async (env, message) => {
    const { code, stderr } = await run(env as Record<string, string>);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  it('has documented defaults', () => {
    const config = loadConfig({ DATA_DIR: '/tmp/skylight-defaults' });
    expect(config).toMatchObject({ port: 4000, host: '0.0.0.0', databaseUrl: null, graphiql: true, maxSessionDataBytes: 1048576 });
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://h/db' }).graphiql).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://h/db', GRAPHIQL: 'true' }).graphiql).toBe(true);
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(ConfigError);
  });
});

describe('first start on the embedded database', () => {
  it('migrates, seeds demo data, prints the token and serves GraphiQL signed in', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'skylight-start-'));
    const child = spawn(tsx, ['src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH!, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
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
