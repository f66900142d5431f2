// Live fan-out benchmark: K graphql-ws subscribers (one connection each) on one gateway
// instance, a second gateway as the writer (so the measured one only fans out), and, in the
// same run, the machine's floor: a bare `ws` server that sends one pre-serialised frame to the
// same K clients (bench/subscriptions/floor-server.ts). Then, unless --one-instance, the same K
// split over two instances. Prints, per system: delivered/expected, connect time for K,
// end-to-end latency (writer sends -> subscriber receives; p50/p99/max), server CPU per
// delivered message (gross, and net of the server's idle CPU), RSS per subscriber; and the
// ratios gateway/floor.
//
//   npm run bench -- subscriptions [--subscribers 10000] [--events 20] [--interval 1000] [--workers 2]
//                                  [--viewers 1] [--one-instance]
//
// --viewers N: N distinct non-admin users (the application's Manager role, an API token each)
// share the K subscriptions, subscriber j signing in as viewer j mod N (as
// ../shared/perf/live.sh's LIVE_VIEWERS); 1 (the default) is the admin token for all.
// Gateways run as child processes (`tsx src/main.ts`) on a fresh database of
// BENCH_DATABASE_URL (else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres),
// dropped afterwards. Subscribers live in `--workers` child processes. CPU and RSS come from
// /proc of the server processes (reading them costs the servers nothing).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { graphqlRequest } from '../test/helpers/graphql-client.ts';
import {
  openSubscriptions,
  percentile,
  processCpuSeconds,
  processRss,
  startGateway,
  type Gateway,
  type WorkerReport,
} from './subscriptions/support.ts';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const raw = index >= 0 ? process.argv[index + 1] : process.env[`BENCH_${name.toUpperCase()}`];
  const value = Number(raw ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const SUBSCRIBERS = option('subscribers', 10_000);
const EVENTS = option('events', 20);
const INTERVAL_MS = option('interval', 1000);
const WORKERS = option('workers', 2);
const VIEWERS = option('viewers', 1);
const WARMUP_EVENTS = 2;
const IDLE_MS = 5000;
const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;
const SERVER_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const WORKER_FILE = fileURLToPath(new URL('./subscriptions/worker.ts', import.meta.url));
const FLOOR_FILE = fileURLToPath(new URL('./subscriptions/floor-server.ts', import.meta.url));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One system under test: where clients connect, how many it holds, how to emit, its processes. */
interface Target {
  name: string;
  split: { url: string; pid: number; count: number; open(): Promise<number> }[];
  emit(data: Record<string, unknown>): Promise<void>;
}

async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sky_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await dropper.end();
    },
  };
}

const gql = (gateway: Gateway, query: string, variables: Record<string, unknown> = {}) =>
  graphqlRequest(gateway.url, ADMIN_TOKEN, query, variables);

/** N Manager users of the application with an API token each (the admin token when N is 1). */
async function viewerTokens(writer: Gateway, applicationId: string): Promise<string[]> {
  if (VIEWERS === 1) return [ADMIN_TOKEN];
  const roles = (await gql(writer, `query($a: ID!) { application(applicationId: $a) { roles { id name } } }`, { a: applicationId })).application.roles;
  const manager = roles.find((role: { name: string }) => role.name === 'Manager').id;
  const tokens: string[] = [];
  for (let n = 0; n < VIEWERS; n++) {
    const id = (await gql(writer, `mutation($u: String!) { createUser(username: $u, password: "bench-password-1") { id } }`, {
      u: `bench-viewer-${n}`,
    })).createUser.id;
    await gql(writer, `mutation($a: ID!, $r: ID!, $u: ID!) { addRoleParticipant(applicationId: $a, roleId: $r, participant: { id: $u }) { id } }`, {
      a: applicationId,
      r: manager,
      u: id,
    });
    tokens.push((await gql(writer, `mutation($id: ID!) { createApiToken(userId: $id, name: "bench") { token } }`, { id })).createApiToken.token);
  }
  return tokens;
}

function startWorkers(target: Target, tokens: string[], applicationId: string) {
  const workers: { child: ReturnType<typeof fork>; report: Promise<WorkerReport> }[] = [];
  let offset = 0;
  for (const part of target.split) {
    const perWorker = Math.ceil(part.count / WORKERS);
    for (let w = 0; w < WORKERS; w++) {
      const subscribers = Math.min(perWorker, part.count - w * perWorker);
      if (subscribers <= 0) continue;
      const child = fork(WORKER_FILE, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
      const report = new Promise<WorkerReport>((resolve, reject) => {
        child.on('message', (message: any) => message.type === 'report' && resolve(message.report));
        child.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
      });
      child.send({ type: 'start', url: part.url.replace(/^http/, 'ws') + '/graphql', tokens, offset, applicationId, subscribers, events: EVENTS });
      offset += subscribers;
      workers.push({ child, report });
    }
  }
  return workers;
}

const cpuOf = (target: Target) => target.split.reduce((sum, part) => sum + processCpuSeconds(part.pid), 0);
const rssOf = (target: Target) => target.split.map((part) => processRss(part.pid));

async function measure(target: Target, tokens: string[], applicationId: string) {
  const rssBefore = rssOf(target);
  const started = Date.now();
  const workers = startWorkers(target, tokens, applicationId);
  for (const part of target.split) {
    while ((await part.open()) < part.count) {
      if (Date.now() - started > 300_000) throw new Error(`${target.name}: subscribers did not connect within 5 minutes`);
      await sleep(250);
    }
  }
  const connectSeconds = (Date.now() - started) / 1000;
  for (let n = 0; n < WARMUP_EVENTS; n++) {
    await target.emit({ warmup: true, sentAt: Date.now() });
    await sleep(INTERVAL_MS);
  }
  await sleep(2000);
  const rssAfter = rssOf(target);
  const idleFrom = cpuOf(target);
  await sleep(IDLE_MS);
  const idlePerSecond = (cpuOf(target) - idleFrom) / (IDLE_MS / 1000);
  const cpuFrom = cpuOf(target);
  const windowFrom = performance.now();
  for (let seq = 0; seq < EVENTS; seq++) {
    await target.emit({ seq, sentAt: Date.now() });
    await sleep(INTERVAL_MS);
  }
  for (const { child } of workers) child.send({ type: 'finish' });
  const reports = await Promise.all(workers.map((worker) => worker.report));
  const cpu = cpuOf(target) - cpuFrom;
  const windowSeconds = (performance.now() - windowFrom) / 1000;
  const latencies = reports.flatMap((report) => report.latencies).sort((a, b) => a - b);
  const delivered = latencies.length;
  const perMessageUs = (seconds: number) => (delivered ? Math.round((seconds * 1e6) / delivered) : null);
  return {
    system: target.name,
    subscribers: SUBSCRIBERS,
    viewers: VIEWERS,
    delivered: `${delivered}/${SUBSCRIBERS * EVENTS}`,
    errors: reports.reduce((sum, report) => sum + report.errors, 0),
    connectS: Number(connectSeconds.toFixed(1)),
    p50ms: percentile(latencies, 0.5),
    p99ms: percentile(latencies, 0.99),
    maxms: latencies.at(-1) ?? null,
    cpuUsPerMsg: perMessageUs(cpu),
    netCpuUsPerMsg: perMessageUs(Math.max(0, cpu - idlePerSecond * windowSeconds)),
    rssKiBPerSub: target.split.map((part, k) => Math.round((rssAfter[k]! - rssBefore[k]!) / part.count / 1024)).join(' / '),
  };
}

function gatewayTarget(name: string, gateways: Gateway[], writer: Gateway, sessionId: string, applicationId: string): Target {
  const half = Math.floor(SUBSCRIBERS / gateways.length);
  return {
    name,
    split: gateways.map((gateway, k) => ({
      url: gateway.url,
      pid: gateway.process.pid!,
      count: k === gateways.length - 1 ? SUBSCRIBERS - half * (gateways.length - 1) : half,
      open: () => openSubscriptions(gateway),
    })),
    async emit(data) {
      await gql(writer, `mutation($a: ID!, $s: ID!, $data: JSON!) { createSessionEvent(applicationId: $a, sessionId: $s, data: $data) { id } }`, {
        a: applicationId,
        s: sessionId,
        data,
      });
    },
  };
}

async function startFloor(): Promise<{ target: Target; stop(): Promise<void> }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = fork(FLOOR_FILE, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, PORT: String(port) }, stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.on('message', (message: any) => message.type === 'listening' && resolve());
    child.on('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    target: {
      name: 'ws floor',
      split: [
        {
          url,
          pid: child.pid!,
          count: SUBSCRIBERS,
          open: async () => (await (await fetch(`${url}/stats`)).json()).subscribers,
        },
      ],
      async emit(data) {
        await fetch(`${url}/emit`, { method: 'POST', body: JSON.stringify(data) });
      },
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const database = await createDatabase();
const running: { stop(): Promise<void> }[] = [];
try {
  const env = { DATABASE_URL: database.url, ADMIN_TOKEN };
  const writer = await startGateway(env);
  running.push(writer);
  const app = (await gql(writer, `mutation { createApplication(input: { name: "bench" }) { id } }`)).createApplication.id;
  const session = (await gql(writer, `mutation($a: ID!) { createSession(input: { applicationId: $a, name: "bench" }) { id } }`, { a: app }))
    .createSession.id;
  const tokens = await viewerTokens(writer, app);
  const results = [];

  const one = await startGateway(env);
  running.push(one);
  results.push(await measure(gatewayTarget('gateway', [one], writer, session, app), tokens, app));
  await one.stop();

  const floor = await startFloor();
  running.push(floor);
  results.push(await measure(floor.target, tokens, app));
  await floor.stop();

  if (!process.argv.includes('--one-instance')) {
    const pair = [await startGateway(env), await startGateway(env)];
    running.push(...pair);
    results.push(await measure(gatewayTarget('gateway x2', pair, writer, session, app), tokens, app));
  }
  console.table(results);
  const [gateway, bare] = results as [(typeof results)[0], (typeof results)[0]];
  const ratio = (a: number | null, b: number | null) => (a !== null && b ? (a / b).toFixed(2) : 'n/a');
  console.log(
    `gateway/floor (same run): CPU per message ${ratio(gateway.cpuUsPerMsg, bare.cpuUsPerMsg)}x gross, ` +
      `${ratio(gateway.netCpuUsPerMsg, bare.netCpuUsPerMsg)}x net; p99 ${ratio(gateway.p99ms, bare.p99ms)}x; ` +
      `RSS per subscriber ${ratio(Number(gateway.rssKiBPerSub), Number(bare.rssKiBPerSub))}x; connect ${ratio(gateway.connectS, bare.connectS)}x`,
  );
  const os = await import('node:os');
  console.log(JSON.stringify({ benchmark: 'subscriptions', cpus: os.cpus().length, loadAverage: os.loadavg().map((x) => Number(x.toFixed(1))), results }));
} finally {
  await Promise.allSettled(running.map((process) => process.stop()));
  await database.drop();
}
