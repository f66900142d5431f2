// npm run bench -- reads [--seconds 10] [--connections 16] [--viewer admin|manager|participant]:
// the frontend's nested read (N: 50 sessions × participants × application name × 5 media with
// title) and the single read (S: one session by id; `--query N` or `--query S` loads one alone; `--query H` the floor, `{ __typename }`), the queries of ../shared/perf. Prints, per
// query: SQL statements per request for each viewer (counted in-process, warm), then req/s,
// p50/p99 and the gateway's CPU per request under a closed-loop load against the gateway run
// as `npm start` runs it. A quick regression check; ../shared/perf/run.sh is the judge (it
// measures PostGraphile and the plain SQL side by side). Needs PostgreSQL: a fresh database on
// TEST_DATABASE_URL's server (or BENCH_DATABASE_URL's). `--profile DIR` writes V8 CPU profiles;
// `--rounds R [--pause S]` alternates N and S R times in one gateway (heap and RSS per slice).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../src/config.ts';
import { ensureBuiltinAdmin } from '../src/domain/identity.ts';
import { buildServer } from '../src/server.ts';
import { createTestDatabase } from '../test/helpers/database.ts';
import { graphqlRequest } from '../test/helpers/graphql-client.ts';
import { pngImage } from '../src/demo/media.ts';

const arg = (name: string, fallback: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1]! : fallback;
};
const SECONDS = Number(arg('seconds', '10'));
const CONNECTIONS = Number(arg('connections', '16'));
const VIEWER = arg('viewer', 'admin');
/** Which reads to load: `N`, `S` or both (`--query N` profiles one alone). */
const QUERIES = arg('query', 'N,S').split(',');
/**
 * `--ab NAME=VALUE[,NAME=VALUE]`: a second gateway with these variables set, loaded in
 * alternating slices with the first (A B B A ...), so that drift of a shared machine cancels.
 * `ROOT=DIR` runs B from another checkout of the gateway (a `git worktree` of an earlier commit
 * sharing this one's node_modules), to compare code rather than settings.
 */
const AB = arg('ab', '');
/**
 * `--rounds R`: N and S alternate R times in one gateway, as ../shared/perf's rounds do, and
 * each slice prints its req/s, CPU per request and the gateway's heap and RSS after it, so a
 * figure that drifts from round to round shows which slice it follows and what grew.
 */
const ROUNDS = Number(arg('rounds', '0'));
/** `--pause S`: with `--rounds`, the gateway idles S seconds after each slice, as it does while ../shared/perf loads its peers. */
const PAUSE = Number(arg('pause', '0'));
/** A directory for V8 CPU profiles of the gateway under load (`--profile DIR`). */
const PROFILE = arg('profile', '');
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const root = fileURLToPath(new URL('..', import.meta.url));

const N = `query N($a: ID!, $first: Int!, $media: Int!) { sessions(applicationId: $a, first: $first) { edges { node {
  id name properties participants { id type } application { name }
  media(first: $media) { edges { node { id title filename kind status } } } } } } }`;
const S = `query S($a: ID!, $s: ID!) { session(applicationId: $a, sessionId: $s) { id name properties } }`;
/**
 * H (`--query H`, not loaded by default): `{ __typename }` with the viewer's token, the gateway's
 * floor (authentication, limits, metrics, no resolver, no SQL), to set beside the harness's bare
 * Yoga hello world: what S costs above it is the read itself.
 */
const H = `query H { __typename }`;
/** The queries `--query` selects, with their texts. */
const SELECTED = ([['N', N], ['S', S], ['H', H]] as const).filter(([name]) => QUERIES.includes(name));
type Variables = Record<'N' | 'S' | 'H', Record<string, unknown>>;

if (!process.env.TEST_DATABASE_URL && process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;
if (!process.env.TEST_DATABASE_URL) {
  console.error('bench reads needs PostgreSQL: set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)');
  process.exit(2);
}
const database = await createTestDatabase();
const env = { NODE_ENV: 'production', LOG_LEVEL: 'warn', DEMO: 'false', ADMIN_TOKEN, JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789' };

/** Seeds through the API (one uploaded photo, copied by SQL to 5 per session) and counts statements in-process. */
async function seedAndCount() {
  const config = loadConfig({ ...env, DATABASE_URL: database.url!, DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-reads-')), PORT: '0' });
  await ensureBuiltinAdmin(database.handle.db);
  const server = await buildServer({ config, database: database.handle, logger: pino({ level: 'silent' }) });
  const { url } = await server.start(0, '127.0.0.1');
  const gql = (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) => graphqlRequest(url, token, query, variables);
  const app = (await gql(`mutation { createApplication(input: { name: "bench" }) { id roles { id name } } }`)).createApplication;
  const role = (name: string) => app.roles.find((r: { name: string }) => r.name === name).id;
  const tokens: Record<string, string> = { admin: ADMIN_TOKEN };
  const users: Record<string, string> = {};
  for (const [name, roleName] of [['manager', 'Manager'], ['participant', 'User']] as const) {
    const id = (await gql(`mutation($u: String!) { createUser(username: $u) { id } }`, { u: `bench-${name}` })).createUser.id;
    await gql(`mutation($a: ID!, $r: ID!, $u: ID!) { addRoleParticipant(applicationId: $a, roleId: $r, participant: { id: $u }) { id } }`, { a: app.id, r: role(roleName), u: id });
    tokens[name] = (await gql(`mutation($u: ID!) { createApiToken(userId: $u, name: "bench") { token } }`, { u: id })).createApiToken.token;
    users[name] = id;
  }
  const sessions: string[] = [];
  for (let i = 0; i < 150; i++) {
    const s = (await gql(`mutation($a: ID!, $n: String!) { createSession(input: { applicationId: $a, name: $n, properties: { site: "north", shift: "a" } }) { id } }`, { a: app.id, n: `Inspection ${i}` })).createSession.id;
    if (i % 3 === 0) {
      await gql(`mutation($a: ID!, $s: ID!, $u: ID!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: { id: $u }) { id } }`, { a: app.id, s, u: users.participant });
    }
    sessions.push(s);
  }
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: `mutation($a: ID!, $s: ID!, $file: Upload!) { uploadSessionMedia(applicationId: $a, sessionId: $s, file: $file, input: { title: "photo" }) { id } }`, variables: { a: app.id, s: sessions[0], file: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new Blob([pngImage(16, 16, [1, 2, 3]) as Uint8Array<ArrayBuffer>], { type: 'image/png' }), 'photo.png');
  await fetch(`${url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-graphql-csrf': '1' }, body: form });
  await database.handle.db.execute(sql`insert into media (scope, application_id, session_id, filename, content_type, kind, size, sha256, status, source, title, labels, properties, storage_key, created_by)
    select m.scope, m.application_id, s.id, m.filename, m.content_type, m.kind, m.size, m.sha256, m.status, m.source, m.title, m.labels, m.properties, m.storage_key, m.created_by
    from media m, session s, generate_series(1, 5) where m.session_id = ${sessions[0]} and s.application_id = ${app.id} and s.id <> m.session_id`);
  const variables: Variables = { N: { a: app.id, first: 50, media: 5 }, S: { a: app.id, s: sessions[144] }, H: {} };
  const counts: Record<string, Record<string, number>> = { N: {}, S: {}, H: {} };
  for (const [name, token] of Object.entries(tokens)) {
    for (const [query, text] of SELECTED) {
      await gql(text, variables[query], token);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = database.handle.statements.count;
      await gql(text, variables[query], token);
      counts[query]![name] = database.handle.statements.count - before;
    }
  }
  await server.stop();
  return { variables, counts, token: tokens[VIEWER]! };
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The gateway as `npm start` runs it, with the conventions of ../shared/perf (production, LOG_LEVEL=warn). */
async function startChild(dataDir: string, extra: Record<string, string> = {}, cwd = root) {
  const profile = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE] : [];
  const port = await freePort();
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/main.ts'], {
    cwd,
    env: { PATH: process.env.PATH!, ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}), ...env, DATABASE_URL: database.url!, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', EVENT_POLL_MS: '0', ...extra },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    const up = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (up) break;
    if (tries > 600 || child.exitCode !== null) throw new Error('the gateway did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url };
}

/** Closed-loop load: CONNECTIONS requests in flight for `seconds`; latencies in ms. */
async function load(url: string, token: string, body: string, seconds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const target = new URL(`${url}/graphql`);
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const req = request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          latencies.push(performance.now() - started);
          resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (performance.now() < deadline) await one();
  }));
  agent.destroy();
  return latencies;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** `--ab`: A and B in alternating slices of SECONDS / 4 each, eight slices per query. */
async function abRun(variables: Variables, token: string) {
  const { ROOT: otherRoot, ...extra } = Object.fromEntries(AB.split(',').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  const dirs = [mkdtempSync(join(tmpdir(), 'bench-reads-a-')), mkdtempSync(join(tmpdir(), 'bench-reads-b-'))];
  const gateways: Awaited<ReturnType<typeof startChild>>[] = [];
  try {
    gateways.push(await startChild(dirs[0]!));
    gateways.push(await startChild(dirs[1]!, extra, otherRoot ?? root));
    console.log(`A/B: A as is, B with ${AB}; ${CONNECTIONS} connections, 8 alternating slices of ${SECONDS / 4} s per query`);
    for (const [query, text] of SELECTED) {
      const body = JSON.stringify({ query: text, variables: variables[query] });
      for (const gateway of gateways) await load(gateway.url, token, body, Math.min(3, SECONDS));
      const totals = gateways.map(() => ({ requests: 0, ticks: 0, latencies: [] as number[] }));
      for (const index of [0, 1, 1, 0, 0, 1, 1, 0]) {
        const gateway = gateways[index]!;
        const before = cpuTicks(gateway.child.pid!);
        const latencies = await load(gateway.url, token, body, SECONDS / 4);
        totals[index]!.requests += latencies.length;
        totals[index]!.latencies.push(...latencies);
        totals[index]!.ticks += cpuTicks(gateway.child.pid!) - before;
      }
      const line = (name: string, t: { requests: number; ticks: number; latencies: number[] }) =>
        `${name} ${(t.requests / (SECONDS)).toFixed(0)} req/s, p99 ${percentile(t.latencies.sort((a, b) => a - b), 0.99).toFixed(0)} ms, ${((t.ticks * 10) / t.requests).toFixed(2)} ms CPU/req`;
      const ratio = (totals[1]!.ticks / totals[1]!.requests) / (totals[0]!.ticks / totals[0]!.requests);
      console.log(`${query}: ${line('A', totals[0]!)}; ${line('B', totals[1]!)}; CPU/req B/A ${ratio.toFixed(3)}`);
    }
  } finally {
    for (const gateway of gateways) {
      gateway.child.kill('SIGTERM');
      await new Promise((resolve) => gateway.child.once('exit', resolve));
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** Heap used and RSS of the gateway, in MB, from its /metrics (with the bench's METRICS_TOKEN). */
async function memoryOf(url: string): Promise<string> {
  const text = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer bench-metrics-token' } }).then((r) => r.text(), () => '');
  const mb = (name: string) => (Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 1e6).toFixed(0);
  return `heap ${mb('nodejs_heap_size_used_bytes')} MB, rss ${mb('process_resident_memory_bytes')} MB`;
}

/** One gateway, as `npm start` runs it, for the length of `work`. */
async function withGateway(extra: Record<string, string>, work: (gateway: Awaited<ReturnType<typeof startChild>>) => Promise<void>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-reads-gw-'));
  const gateway = await startChild(dataDir, extra);
  try {
    await work(gateway);
  } finally {
    gateway.child.kill('SIGTERM');
    await new Promise((resolve) => gateway.child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One slice of load: its latencies (sorted), req/s and the gateway's CPU ms per request. */
async function slice(gateway: Awaited<ReturnType<typeof startChild>>, token: string, body: string) {
  const ticksBefore = cpuTicks(gateway.child.pid!);
  const latencies = (await load(gateway.url, token, body, SECONDS)).sort((a, b) => a - b);
  const cpuMs = ((cpuTicks(gateway.child.pid!) - ticksBefore) * 10) / latencies.length;
  return { latencies, rps: (latencies.length / SECONDS).toFixed(0), cpuMs };
}

/** `--rounds`: N then S, R times, in one gateway; one line per slice. */
function roundsRun(variables: Variables, token: string) {
  return withGateway({ METRICS_TOKEN: 'bench-metrics-token' }, async (gateway) => {
    console.log(`viewer: ${VIEWER}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s per query in one gateway`);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [query, text] of SELECTED) {
        const { latencies, rps, cpuMs } = await slice(gateway, token, JSON.stringify({ query: text, variables: variables[query] }));
        console.log(`round ${round} ${query}: ${rps} req/s, p99 ${percentile(latencies, 0.99).toFixed(1)} ms, CPU ${cpuMs.toFixed(3)} ms/req, ${await memoryOf(gateway.url)}`);
        if (PAUSE > 0) await new Promise((resolve) => setTimeout(resolve, PAUSE * 1000));
      }
    }
  });
}

try {
  const { variables, counts, token } = await seedAndCount();
  if (ROUNDS > 0) {
    await roundsRun(variables, token);
    await database.drop();
    process.exit(0);
  }
  if (AB) {
    await abRun(variables, token);
    await database.drop();
    process.exit(0);
  }
  await withGateway({}, async (gateway) => {
    console.log(`viewer: ${VIEWER}, ${CONNECTIONS} connections, ${SECONDS} s per query, PostgreSQL`);
    for (const [query, text] of SELECTED) {
      const body = JSON.stringify({ query: text, variables: variables[query] });
      await load(gateway.url, token, body, Math.min(3, SECONDS));
      const { latencies, rps, cpuMs } = await slice(gateway, token, body);
      const statements = Object.entries(counts[query]!).map(([who, n]) => `${who} ${n}`).join(', ');
      console.log(
        `${query}: ${rps} req/s, p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms, ` +
          `gateway CPU ${cpuMs.toFixed(2)} ms/req, statements per request: ${statements}`,
      );
    }
  });
} finally {
  await database.drop();
}
