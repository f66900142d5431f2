// Memory per live subscriber, deterministic and cheap (no events, no CPU load): a gateway and
// the floor (floor-server.ts) as child processes with --expose-gc and a preload that, on SIGUSR2,
// collects garbage fully and writes process.memoryUsage() (and optionally a heap snapshot).
// For each: open WARM sockets (one applicationEvents subscription each, token in
// connectionParams, as worker.ts), measure; open N more, measure; per subscriber = delta / N.
//
//   node --import tsx bench/subscriptions/memory.ts [--subscribers 2000] [--snapshots <dir>] [--only gateway|floor]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './support.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import WebSocket from 'ws';

const arg = (name: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const N = Number(arg('subscribers') ?? 2000);
const WARM = Number(arg('warm') ?? 200);
const SNAPSHOTS = arg('snapshots');
const ONLY = arg('only');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;
const METRICS_TOKEN = 'bench-metrics-token-0123456789';
const QUERY = `subscription($a: ID!) { applicationEvents(applicationId: $a) { id type cursor ... on SessionDataEvent { data } } }`;
const work = mkdtempSync(join(tmpdir(), 'sub-mem-'));
const HOOK = join(work, 'gc-hook.mjs');
writeFileSync(
  HOOK,
  `import { writeFileSync, readFileSync, existsSync, unlinkSync } from 'node:fs';
import v8 from 'node:v8';
process.on('SIGUSR2', () => {
  for (let i = 0; i < 4; i++) globalThis.gc();
  const ctl = process.env.MEM_CTL;
  if (ctl && existsSync(ctl)) {
    const path = readFileSync(ctl, 'utf8').trim();
    unlinkSync(ctl);
    if (path) v8.writeHeapSnapshot(path);
    for (let i = 0; i < 2; i++) globalThis.gc();
  }
  const usage = process.memoryUsage();
  writeFileSync(process.env.MEM_OUT, JSON.stringify(usage));
});
`,
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


interface Proc {
  name: string;
  child: ChildProcess;
  url: string;
  out: string;
  ctl: string;
  count(): Promise<number>;
}

async function spawnServer(name: string, script: string, env: Record<string, string>, count: (url: string) => Promise<number>, ready: string): Promise<Proc> {
  const port = await freePort();
  const out = join(work, `${name}.json`);
  const ctl = join(work, `${name}.ctl`);
  const child = spawn(process.execPath, ['--expose-gc', '--import', HOOK, '--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', MEM_OUT: out, MEM_CTL: ctl },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    if (await fetch(`${url}${ready}`).then((r) => r.status < 500, () => false)) break;
    if (Date.now() > deadline) throw new Error(`${name} did not become ready`);
    await sleep(200);
  }
  return { name, child, url, out, ctl, count: () => count(url) };
}

async function usage(proc: Proc, snapshot?: string): Promise<NodeJS.MemoryUsage> {
  if (existsSync(proc.out)) rmSync(proc.out);
  if (snapshot) writeFileSync(proc.ctl, snapshot);
  proc.child.kill('SIGUSR2');
  while (!existsSync(proc.out)) await sleep(50);
  await sleep(50);
  return JSON.parse(readFileSync(proc.out, 'utf8'));
}

const sockets: WebSocket[] = [];

function subscribe(url: string, applicationId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
    sockets.push(socket);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_TOKEN}` } })));
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw));
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY, variables: { a: applicationId } } }));
        resolve();
      } else if (message.type === 'ping') socket.send('{"type":"pong"}');
    });
    socket.on('error', reject);
    socket.on('close', (code) => reject(new Error(`closed ${code}`)));
  });
}

async function open(proc: Proc, count: number, applicationId: string) {
  const target = sockets.length + count;
  for (let from = sockets.length; from < target; from += 200) {
    await Promise.all(Array.from({ length: Math.min(200, target - from) }, () => subscribe(proc.url, applicationId)));
  }
  const deadline = Date.now() + 60_000;
  while ((await proc.count()) < target) {
    if (Date.now() > deadline) throw new Error(`${proc.name}: ${await proc.count()} of ${target} subscribed`);
    await sleep(100);
  }
  await sleep(500);
}

async function closeAll() {
  for (const socket of sockets.splice(0)) {
    socket.removeAllListeners('close');
    socket.on('error', () => {});
    socket.terminate();
  }
  await sleep(500);
}

async function measure(proc: Proc, applicationId: string) {
  await open(proc, WARM, applicationId);
  const before = await usage(proc, SNAPSHOTS ? join(SNAPSHOTS, `${proc.name}-before.heapsnapshot`) : undefined);
  await open(proc, N, applicationId);
  const after = await usage(proc, SNAPSHOTS ? join(SNAPSHOTS, `${proc.name}-after.heapsnapshot`) : undefined);
  await closeAll();
  const per = (key: keyof NodeJS.MemoryUsage) => Math.round(((after[key] - before[key]) / N / 1024) * 100) / 100;
  return { system: proc.name, subscribers: N, rssKiB: per('rss'), heapUsedKiB: per('heapUsed'), externalKiB: per('external'), arrayBuffersKiB: per('arrayBuffers') };
}

const stop = (proc: Proc) =>
  new Promise<void>((resolve) => {
    if (proc.child.exitCode !== null) return resolve();
    proc.child.once('exit', () => resolve());
    proc.child.kill('SIGTERM');
  });

const dbName = `sky_mem_${randomBytes(4).toString('hex')}`;
const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${dbName}`);
const dbUrl = new URL(SERVER_URL);
dbUrl.pathname = `/${dbName}`;
const results = [];
try {
  if (ONLY !== 'floor') {
    const gateway = await spawnServer(
      'gateway',
      'src/main.ts',
      {
        DATABASE_URL: dbUrl.toString(),
        ADMIN_TOKEN,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        DEMO: 'false',
        JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789',
        METRICS_TOKEN,
      },
      async (url) => {
        const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
        return Number(/^skylight_open_subscriptions (\S+)$/m.exec(text)?.[1] ?? NaN);
      },
      '/ready',
    );
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: `mutation { createApplication(input: { name: "bench" }) { id } }` }),
    });
    const applicationId = ((await response.json()) as any).data.createApplication.id;
    results.push(await measure(gateway, applicationId));
    await stop(gateway);
  }
  if (ONLY !== 'gateway') {
    const floor = await spawnServer(
      'floor',
      'bench/subscriptions/floor-server.ts',
      {},
      async (url) => ((await (await fetch(`${url}/stats`)).json()) as any).subscribers,
      '/stats',
    );
    results.push(await measure(floor, 'app'));
    await stop(floor);
  }
  console.table(results);
} finally {
  await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {});
  await admin.end();
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
