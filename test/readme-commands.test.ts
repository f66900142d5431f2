// The README tells people what to run and what to set: every `npm run` it names is a script,
// every variable the configuration reads is in its table (and nothing else is), and the admin
// commands work on a fresh PostgreSQL database. (test/admin-commands.test.ts runs them on the
// embedded database.)
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, onRealPostgres } from './helpers/database.ts';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const scripts = Object.keys(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).scripts);

describe('README', () => {
  it('names only npm scripts that exist', () => {
    const named = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1]);
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((name) => !scripts.includes(name))).toEqual([]);
    expect(named).toEqual(expect.arrayContaining(['db:migrate', 'seed', 'token', 'bench']));
  });

  it('documents every environment variable the configuration reads, and no other', () => {
    const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
    const read = new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]+)|'([A-Z][A-Z0-9_]{2,})'/g)].map((m) => m[1] ?? m[2]));
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
    const documented = new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((n) => n[1])));
    expect([...read].filter((name) => !documented.has(name)).sort()).toEqual([]);
    expect([...documented].filter((name) => !read.has(name)).sort()).toEqual([]);
  });

  it('has the scale-out section with its diagram and the S3 download choice', () => {
    expect(readme).toContain('## Scale-out');
    expect(readme).toMatch(/```mermaid\n[\s\S]*PostgreSQL[\s\S]*```/);
    expect(readme).toContain('Downloads are streamed by the gateway');
  });
});

describe.skipIf(!onRealPostgres)(
  `README admin commands on a fresh PostgreSQL database${onRealPostgres ? '' : ' (skipped: needs TEST_DATABASE_URL)'}`,
  () => {
    it('npm run db:migrate, seed and token -- --user admin', async () => {
      const database = await createTestDatabase();
      try {
        await database.handle.close();
        // Start from nothing: drop what the helper migrated, so db:migrate does the work.
        const sql = postgres(database.url!, { max: 1, onnotice: () => {} });
        await sql.unsafe('drop schema public cascade; create schema public; drop schema if exists drizzle cascade');
        await sql.end();
        const env = { ...process.env, DATABASE_URL: database.url!, LOG_LEVEL: 'warn' };
        const migrate = await run('npm', ['run', '--silent', 'db:migrate'], { cwd: root, env });
        expect(migrate.stdout).toContain('migrations applied (postgres)');
        const seed = await run('npm', ['run', '--silent', 'seed'], { cwd: root, env });
        expect(seed.stdout).toMatch(/demo data created; admin token: sk_/);
        const token = await run('npm', ['run', '--silent', 'token', '--', '--user', 'admin'], { cwd: root, env });
        expect(token.stdout.trim()).toMatch(/^sk_[A-Za-z0-9_-]{40,}$/);
        const check = postgres(database.url!, { max: 1, onnotice: () => {} });
        const [{ count }] = await check`select count(*)::int as count from application`;
        await check.end();
        expect(count).toBeGreaterThan(0);
      } finally {
        await database.drop();
      }
    }, 120_000);
  },
);
