// Gateways as child processes for the benchmarks, and reading their own metrics.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface Gateway {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface WorkerReport {
  latencies: number[];
  /** Every subscriber of the worker received every event. */
  complete: boolean;
  errors: number;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A port nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const BENCH_METRICS_TOKEN = 'bench-metrics-token-0123456789';

/** `tsx src/main.ts` on a free port; resolves once /ready answers. */
export async function startGateway(env: Record<string, string>): Promise<Gateway> {
  const port = await freePort();
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of each gateway there (open in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789',
      LOG_LEVEL: 'warn',
      // NODE_ENV=production serves /metrics only with its token.
      METRICS_TOKEN: BENCH_METRICS_TOKEN,
      DEMO: 'false',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error('gateway did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function metric(gateway: Gateway, name: string): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } })).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

export const gatewayRss = (gateway: Gateway) => metric(gateway, 'process_resident_memory_bytes');
export const openSubscriptions = (gateway: Gateway) => metric(gateway, 'skylight_open_subscriptions');

/** The q-quantile of sorted values (nearest rank), rounded to 0.1 ms. */
export function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const value = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return Math.round(value * 10) / 10;
}

/** CPU seconds (user + system) a process has used, from /proc (costs the process nothing). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat (utime, stime), counted from after the command name; clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory of a process in bytes, from /proc. */
export function processRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}
