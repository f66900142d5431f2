// Webhook delivery benchmark: a gateway (child process) delivers to local receivers that
// verify every signature with the standardwebhooks package, as real receivers would.
//
//   npm run bench -- webhooks [--backlog 3000] [--endpoints 4] [--stream 300] [--interval 100] [--instances 1]
//
// 1. Throughput, one endpoint: `--backlog` events are written while the webhook is paused,
//    then it is resumed; events per second = backlog / time until the receiver has them all.
//    Delivery to one endpoint is sequential (ordered), so this is the per-endpoint ceiling.
// 2. Throughput, `--endpoints` endpoints at once, the same backlog each (they run in parallel).
// Each throughput row also gives the CPU time the gateway process(es) spent per delivered
// event (from /proc), a figure less at the mercy of other load on the machine than the rate.
// 3. Latency: `--stream` events written one every `--interval` ms to one endpoint; per event,
//    from the writer sending the mutation to the receiver having the request (end to end), and
//    from the event's commit time (`createdAt`) to the receiver; p50/p99/max.
//
// The database is a fresh one on BENCH_DATABASE_URL (else TEST_DATABASE_URL, else the local
// server), dropped afterwards. `--instances 2` runs two gateways on it (both deliver).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import postgres from 'postgres';
import { Webhook } from 'standardwebhooks';
import { graphqlRequest } from '../test/helpers/graphql-client.ts';
import { percentile, startGateway, type Gateway } from './subscriptions/support.ts';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = Number(index >= 0 ? process.argv[index + 1] : fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const BACKLOG = option('backlog', 3000);
const ENDPOINTS = option('endpoints', 4);
const STREAM = option('stream', 300);
const INTERVAL_MS = option('interval', 100);
const INSTANCES = option('instances', 1);
const WRITERS = 8;
const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;
const SERVER_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

interface Receiver {
  url: string;
  server: Server;
  /** Arrival time (ms since epoch) of each distinct event, and the event. */
  arrivals: Map<string, { at: number; event: any }>;
  requests: number;
  badSignatures: number;
  outOfOrder: number;
  secret: string;
  waitFor(count: number, timeoutMs: number): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  let lastPosition = 0;
  const receiver = {
    url: '',
    arrivals: new Map(),
    requests: 0,
    badSignatures: 0,
    outOfOrder: 0,
    secret: '',
    async waitFor(count: number, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (receiver.arrivals.size < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${receiver.arrivals.size} of ${count} events in time`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  } as Receiver;
  receiver.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      receiver.requests++;
      try {
        new Webhook(receiver.secret).verify(body, req.headers as Record<string, string>);
      } catch {
        receiver.badSignatures++;
        res.writeHead(401).end();
        return;
      }
      const event = JSON.parse(body);
      const position = Number(Buffer.from(event.cursor, 'base64url').toString().split(':')[1]);
      if (position <= lastPosition && !receiver.arrivals.has(event.id)) receiver.outOfOrder++;
      lastPosition = Math.max(lastPosition, position);
      if (!receiver.arrivals.has(event.id)) receiver.arrivals.set(event.id, { at, event });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hook`;
  return receiver;
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

/** CPU time (user + system) a process has used so far, in ms; Linux only, else NaN. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

const CUSTOM_EVENT = `mutation($a: ID!, $s: ID!, $data: JSON!) { createSessionEvent(applicationId: $a, sessionId: $s, data: $data) { id } }`;

async function main() {
  const database = await createDatabase();
  const gateways: Gateway[] = [];
  const receivers: Receiver[] = [];
  try {
    const env = { DATABASE_URL: database.url, ADMIN_TOKEN, WEBHOOK_ALLOW_PRIVATE: 'true' };
    for (let k = 0; k < INSTANCES; k++) gateways.push(await startGateway(env));
    const gql = (query: string, variables: Record<string, unknown> = {}, k = 0) =>
      graphqlRequest(gateways[k % gateways.length]!.url, ADMIN_TOKEN, query, variables);
    const app = (await gql(`mutation { createApplication(input: { name: "bench" }) { id } }`)).createApplication.id;
    const session = (await gql(`mutation($a: ID!) { createSession(input: { applicationId: $a, name: "bench" }) { id } }`, { a: app })).createSession.id;

    async function endpoint() {
      const receiver = await startReceiver();
      receivers.push(receiver);
      const created = (
        await gql(`mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret webhook { id } } }`, {
          i: { applicationId: app, url: receiver.url, types: ['SESSION_EVENT_CREATED'] },
        })
      ).createWebhook;
      receiver.secret = created.secret;
      return { receiver, id: created.webhook.id as string };
    }
    const setPaused = (id: string, paused: boolean) =>
      gql(`mutation($a: ID!, $w: ID!) { ${paused ? 'pauseWebhook' : 'resumeWebhook'}(applicationId: $a, webhookId: $w) { id } }`, { a: app, w: id });

    /** Writes `count` events with WRITERS concurrent writers; answers the events per second written. */
    async function backlog(count: number): Promise<number> {
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          while (next < count) await gql(CUSTOM_EVENT, { a: app, s: session, data: { n: next++ } }, w);
        }),
      );
      return count / ((performance.now() - started) / 1000);
    }

    async function drain(count: number) {
      const targets = await Promise.all(Array.from({ length: count }, endpoint));
      for (const target of targets) await setPaused(target.id, true);
      const writtenPerSecond = await backlog(BACKLOG);
      const cpu = () => gateways.reduce((sum, gateway) => sum + cpuMs(gateway.process.pid), 0);
      const cpuBefore = cpu();
      const started = performance.now();
      await Promise.all(targets.map((target) => setPaused(target.id, false)));
      await Promise.all(targets.map((target) => target.receiver.waitFor(BACKLOG, 600_000)));
      const seconds = (performance.now() - started) / 1000;
      const cpuPerEvent = (cpu() - cpuBefore) / (BACKLOG * count);
      return {
        scenario: `backlog, ${count} endpoint${count > 1 ? 's' : ''}`,
        events: `${BACKLOG} × ${count}`,
        eventsPerSecond: Math.round((BACKLOG * count) / seconds),
        perEndpoint: Math.round(BACKLOG / seconds),
        gatewayCpuMsPerEvent: Number(cpuPerEvent.toFixed(2)),
        writtenPerSecond: Math.round(writtenPerSecond),
        requests: targets.reduce((sum, t) => sum + t.receiver.requests, 0),
        badSignatures: targets.reduce((sum, t) => sum + t.receiver.badSignatures, 0),
        outOfOrder: targets.reduce((sum, t) => sum + t.receiver.outOfOrder, 0),
      };
    }

    const results: Record<string, unknown>[] = [];
    results.push(await drain(1));
    results.push(await drain(ENDPOINTS));

    const live = await endpoint();
    const sent = new Map<string, number>();
    for (let n = 0; n < STREAM; n++) {
      const at = Date.now();
      const id = (await gql(CUSTOM_EVENT, { a: app, s: session, data: { n } }, n)).createSessionEvent.id as string;
      sent.set(id, at);
      await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
    }
    await live.receiver.waitFor(STREAM, 120_000);
    const endToEnd: number[] = [];
    const fromCommit: number[] = [];
    for (const [id, { at, event }] of live.receiver.arrivals) {
      endToEnd.push(at - sent.get(id)!);
      fromCommit.push(at - Date.parse(event.createdAt));
    }
    endToEnd.sort((x, y) => x - y);
    fromCommit.sort((x, y) => x - y);
    const latency = {
      scenario: `stream, 1 endpoint, one event every ${INTERVAL_MS} ms`,
      events: STREAM,
      p50ms: percentile(endToEnd, 0.5),
      p99ms: percentile(endToEnd, 0.99),
      maxms: endToEnd.at(-1),
      commitToReceiverP50ms: percentile(fromCommit, 0.5),
      commitToReceiverP99ms: percentile(fromCommit, 0.99),
      badSignatures: live.receiver.badSignatures,
      outOfOrder: live.receiver.outOfOrder,
    };
    console.table(results);
    console.table([latency]);
    console.log(
      JSON.stringify({
        benchmark: 'webhooks',
        instances: INSTANCES,
        cpus: os.cpus().length,
        loadAverage: os.loadavg().map((x) => Number(x.toFixed(1))),
        throughput: results,
        latency,
      }),
    );
  } finally {
    await Promise.allSettled(gateways.map((gateway) => gateway.stop()));
    for (const receiver of receivers) receiver.server.close();
    await database.drop();
  }
}

await main();
