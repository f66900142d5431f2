// /metrics: who may scrape it, and labels that cannot grow without bound.
//
// Access: with METRICS_TOKEN set, a scrape needs `Authorization: Bearer <METRICS_TOKEN>`
// (401 otherwise) from any address. Without it, /metrics answers only requests from this
// machine's loopback address outside production, and not at all (404) in production, where
// a reverse proxy on the same machine would make every request look local.
//
// Labels: the Prometheus plugins label series with the operation name of the client's
// document, the request URL and the error path, all chosen by the client. Each is mapped to
// a bounded set: the first `maxOperationNames` distinct values that match a strict pattern
// keep their name, every other value is `other`; URLs keep only their path.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Registry } from 'prom-client';
import { isLoopbackAddress } from './loopback.ts';

export type MetricsAccess = 'allowed' | 'unauthorized' | 'not-found';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function metricsAccess(options: { token: string | null; production: boolean }, req: IncomingMessage): MetricsAccess {
  if (options.token) {
    const given = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    return timingSafeEqual(digest(given), digest(options.token)) ? 'allowed' : 'unauthorized';
  }
  if (options.production) return 'not-found';
  return isLoopbackAddress(req.socket.remoteAddress) ? 'allowed' : 'not-found';
}

/** The first `limit` distinct values matching `pattern`; anything else is `other`. */
export class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(
    private readonly limit: number,
    private readonly pattern: RegExp,
  ) {}

  map(value: unknown): string {
    const text = String(value);
    if (this.seen.has(text)) return text;
    if (this.seen.size >= this.limit || !this.pattern.test(text)) return 'other';
    this.seen.add(text);
    return text;
  }
}

const GRAPHQL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const ERROR_PATH = /^[A-Za-z0-9_.]{1,128}$/;
const PATHS = new Set(['/graphql', '/metrics']);

function urlPath(value: unknown): string {
  let path = String(value);
  try {
    path = new URL(path, 'http://gateway').pathname;
  } catch {
    return 'other';
  }
  return PATHS.has(path) ? path : 'other';
}

/**
 * Wraps every metric of `registry` whose labels the client chooses, so what it records is
 * bounded. Call it once all metrics are registered (after createYoga).
 */
export function boundMetricLabels(registry: Registry, maxOperationNames: number): void {
  const operationNames = new BoundedLabel(maxOperationNames, GRAPHQL_NAME);
  const errorPaths = new BoundedLabel(maxOperationNames, ERROR_PATH);
  const bound = (labels: Record<string, unknown>) => {
    const out = { ...labels };
    if ('operationName' in out) out.operationName = operationNames.map(out.operationName);
    if ('url' in out) out.url = urlPath(out.url);
    if ('path' in out) out.path = errorPaths.map(out.path);
    return out;
  };
  for (const metric of registry.getMetricsAsArray()) {
    const names: string[] = (metric as unknown as { labelNames?: string[] }).labelNames ?? [];
    if (!names.some((name) => name === 'operationName' || name === 'url' || name === 'path')) continue;
    const target = metric as unknown as Record<string, unknown>;
    for (const method of ['observe', 'inc', 'dec', 'set', 'startTimer', 'labels', 'remove']) {
      const original = target[method];
      if (typeof original !== 'function') continue;
      target[method] = function (this: unknown, first: unknown, ...rest: unknown[]) {
        const labels = first !== null && typeof first === 'object' ? bound(first as Record<string, unknown>) : first;
        return (original as (...args: unknown[]) => unknown).call(this, labels, ...rest);
      };
    }
  }
}
