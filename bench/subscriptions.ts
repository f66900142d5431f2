// Live fan-out benchmark: N graphql-ws subscribers (one connection each) on one gateway
// instance, one writer; then the same N split over two instances on one PostgreSQL, written
// through the first. Prints end-to-end delivery latency (mutation sent -> event received,
// p50/p99/max), whether every event reached every subscriber, and the gateway's RSS per
// subscriber (from its own /metrics).
//
//   npm run bench -- subscriptions [--subscribers 10000] [--events 20] [--interval 1000] [--workers 2] [--one-instance]
//
// Gateways run as child processes (`tsx src/main.ts`) on a fresh database of
// BENCH_DATABASE_URL (else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres),
// dropped afterwards. Subscribers live in `--workers` child processes so that the clients'
// work does not stall the measuring process.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { graphqlRequest } from '../test/helpers/graphql-client.ts';
import { gatewayRss, openSubscriptions, percentile, startGateway, type Gateway, type WorkerReport } from './subscriptions/support.ts';

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
const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;
const SERVER_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const WORKER_FILE = fileURLToPath(new URL('./subscriptions/worker.ts', import.meta.url));

interface Scenario {
  name: string;
  /** Subscribers per gateway. */
  split: [Gateway, number][];
  writer: Gateway;
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

/** Connects the scenario's subscribers in worker processes and resolves once the gateways have them all. */
async function connect(scenario: Scenario, applicationId: string) {
  const workers: { child: ReturnType<typeof fork>; report: Promise<WorkerReport> }[] = [];
  for (const [gateway, count] of scenario.split) {
    const perWorker = Math.ceil(count / WORKERS);
    for (let w = 0; w < WORKERS; w++) {
      const subscribers = Math.min(perWorker, count - w * perWorker);
      if (subscribers <= 0) continue;
      const child = fork(WORKER_FILE, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
      const report = new Promise<WorkerReport>((resolve, reject) => {
        child.on('message', (message: any) => message.type === 'report' && resolve(message.report));
        child.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
      });
      child.send({ type: 'start', url: gateway.url.replace(/^http/, 'ws') + '/graphql', token: ADMIN_TOKEN, applicationId, subscribers, events: EVENTS });
      workers.push({ child, report });
    }
  }
  const started = Date.now();
  for (const [gateway, count] of scenario.split) {
    while ((await openSubscriptions(gateway)) < count) {
      if (Date.now() - started > 300_000) throw new Error('subscribers did not connect within 5 minutes');
      // Not too often: each scrape of /metrics counts the open file descriptors (10,000 sockets).
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  return { workers, connectSeconds: (Date.now() - started) / 1000 };
}

async function run(scenario: Scenario, applicationId: string, sessionId: string) {
  scenario.split = scenario.split.filter(([, count]) => count > 0);
  const rssBefore = await Promise.all(scenario.split.map(([gateway]) => gatewayRss(gateway)));
  const { workers, connectSeconds } = await connect(scenario, applicationId);
  const rssAfter = await Promise.all(scenario.split.map(([gateway]) => gatewayRss(gateway)));
  const roundTrips: number[] = [];
  for (let seq = 0; seq < EVENTS; seq++) {
    const sent = performance.now();
    await gql(
      scenario.writer,
      `mutation($a: ID!, $s: ID!, $data: JSON!) { createSessionEvent(applicationId: $a, sessionId: $s, data: $data) { id } }`,
      { a: applicationId, s: sessionId, data: { seq, sentAt: Date.now() } },
    );
    roundTrips.push(performance.now() - sent);
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
  }
  for (const { child } of workers) child.send({ type: 'finish' });
  const reports = await Promise.all(workers.map((worker) => worker.report));
  const latencies = reports.flatMap((report) => report.latencies).sort((a, b) => a - b);
  const expected = scenario.split.reduce((sum, [, count]) => sum + count, 0) * EVENTS;
  const subscribers = scenario.split.reduce((sum, [, count]) => sum + count, 0);
  return {
    scenario: scenario.name,
    subscribers,
    events: EVENTS,
    delivered: `${latencies.length}/${expected}`,
    complete: reports.every((report) => report.complete),
    errors: reports.reduce((sum, report) => sum + report.errors, 0),
    connectSeconds: Number(connectSeconds.toFixed(1)),
    mutationP50ms: percentile(roundTrips.sort((x, y) => x - y), 0.5),
    p50ms: percentile(latencies, 0.5),
    p99ms: percentile(latencies, 0.99),
    maxms: latencies.at(-1) ?? null,
    rssPerSubscriberKiB: scenario.split.map(([, count], k) => Math.round((rssAfter[k]! - rssBefore[k]!) / count / 1024)).join(' / '),
    rssMiB: rssAfter.map((rss) => Math.round(rss / 1024 / 1024)).join(' / '),
  };
}

const database = await createDatabase();
const gateways: Gateway[] = [];
try {
  const env = { DATABASE_URL: database.url, ADMIN_TOKEN };
  const a = await startGateway(env);
  gateways.push(a);
  const app = (await gql(a, `mutation { createApplication(input: { name: "bench" }) { id } }`)).createApplication.id;
  const session = (await gql(a, `mutation($a: ID!) { createSession(input: { applicationId: $a, name: "bench" }) { id } }`, { a: app }))
    .createSession.id;
  const results = [];
  results.push(await run({ name: 'one instance', split: [[a, SUBSCRIBERS]], writer: a }, app, session));
  if (!process.argv.includes('--one-instance')) {
    // Fresh processes for the second scenario, so RSS is not inherited from the first.
    await a.stop();
    gateways.length = 0;
    const first = await startGateway(env);
    const second = await startGateway(env);
    gateways.push(first, second);
    const half = Math.max(1, Math.floor(SUBSCRIBERS / 2));
    const split: [Gateway, number][] = [[first, half], [second, SUBSCRIBERS - half]];
    results.push(await run({ name: 'two instances', split, writer: first }, app, session));
  }
  console.table(results);
  const os = await import('node:os');
  console.log(JSON.stringify({ benchmark: 'subscriptions', cpus: os.cpus().length, loadAverage: os.loadavg().map((x) => Number(x.toFixed(1))), results }));
} finally {
  await Promise.allSettled(gateways.map((gateway) => gateway.stop()));
  await database.drop();
}
