// The machine's floor for live fan-out: a bare `ws` server (no GraphQL, no database) sends
// one event-sized message to each of N WebSocket connections, once a second; clients in two
// worker processes report when each arrives. Whatever the gateway does, it cannot deliver
// faster than this on the same machine. Compare with bench/subscriptions.ts.
//
//   npm run bench -- ws-floor [--subscribers 10000] [--events 10]
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = Number(index >= 0 ? process.argv[index + 1] : fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

async function worker(port: number, count: number) {
  const opened: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`);
    socket.on('message', (data) => process.send!({ latency: Date.now() - (JSON.parse(String(data)) as { t: number }).t }));
    opened.push(new Promise((resolve) => socket.on('open', resolve)));
    if (i % 500 === 499) await Promise.all(opened.slice(-500));
  }
  await Promise.all(opened);
  process.send!({ ready: true });
}

async function main() {
  const subscribers = option('subscribers', 10_000);
  const events = option('events', 10);
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.on('listening', resolve));
  const port = (wss.address() as { port: number }).port;
  const file = fileURLToPath(import.meta.url);
  const half = Math.ceil(subscribers / 2);
  const workers = [half, subscribers - half].map((count) =>
    fork(file, ['--worker', String(port), String(count)], { execArgv: ['--import', 'tsx'] }),
  );
  const latencies: number[] = [];
  await new Promise<void>((resolve) => {
    let ready = 0;
    for (const child of workers) {
      child.on('message', (message: { ready?: boolean; latency?: number }) => {
        if (message.ready && ++ready === workers.length) resolve();
        else if (message.latency !== undefined) latencies.push(message.latency);
      });
    }
  });
  const loops: number[] = [];
  for (let e = 0; e < events; e++) {
    const message = JSON.stringify({
      t: Date.now(),
      id: randomUUID(),
      type: 'next',
      payload: { data: { applicationEvents: { id: randomUUID(), type: 'SESSION_EVENT_CREATED', applicationId: randomUUID(), sessionId: randomUUID(), cursor: 'ZXZlbnQ6MTIzNDU', data: { i: e } } } },
    });
    const started = performance.now();
    for (const client of wss.clients) client.send(message);
    loops.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
  const result = {
    benchmark: 'ws-floor',
    cpus: cpus().length,
    loadAverage: loadavg().map((l) => Number(l.toFixed(1))),
    subscribers,
    delivered: `${latencies.length}/${subscribers * events}`,
    sendLoopMs: Math.round(loops.reduce((a, b) => a + b, 0) / loops.length),
    p50ms: at(0.5),
    p99ms: at(0.99),
  };
  console.table([result]);
  console.log(JSON.stringify(result));
  for (const child of workers) child.kill();
  wss.close();
}

if (process.argv[2] === '--worker') await worker(Number(process.argv[3]), Number(process.argv[4]));
else await main();
