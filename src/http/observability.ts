// Logs and metrics. Every log line written while a request is handled carries its request
// id (and, once parsed, its operation name) through AsyncLocalStorage, so code deep in the
// domain logs without passing a logger around. Metrics live in a registry per server.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BlobStorage } from '../storage/types.ts';

export interface RequestScope {
  requestId: string;
  operationName?: string;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();

export function createLogger(level: string): Logger {
  return pino({ level, mixin: () => ({ ...requestScope.getStore() }) });
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Runs `handler` inside a request scope and logs the request when its response finishes. */
export function withRequestScope(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  handler: () => Promise<void>,
): Promise<void> {
  const given = req.headers['x-request-id'];
  const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  const scope: RequestScope = { requestId };
  res.setHeader('x-request-id', requestId);
  // The request line is an info line: at LOG_LEVEL=warn (production) nothing is timed or kept.
  if (!logger.isLevelEnabled('info')) return requestScope.run(scope, handler);
  const started = performance.now();
  res.on('finish', () => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health' || path === '/ready' || path === '/metrics') return;
    logger.info(
      { ...scope, method: req.method, path, status: res.statusCode, durationMs: Math.round(performance.now() - started) },
      'request',
    );
  });
  return requestScope.run(scope, handler);
}

/** Envelop plugin: names the operation in the request scope once it is known. */
export function useOperationName() {
  return {
    onExecute: ({ args }: { args: { operationName?: string | null; document: { definitions: readonly any[] } } }) => {
      const scope = requestScope.getStore();
      if (!scope) return;
      const operation = args.document.definitions.find((definition) => definition.kind === 'OperationDefinition');
      scope.operationName = args.operationName ?? operation?.name?.value ?? 'anonymous';
    },
  };
}

/** Counts the bytes of every completed write into `uploadBytes` (all writes are uploads). */
export function countingUploads(storage: BlobStorage, metrics: Pick<GatewayMetrics, 'uploadBytes'>): BlobStorage {
  return Object.assign(Object.create(storage) as BlobStorage, {
    async put(...args: Parameters<BlobStorage['put']>) {
      const stored = await storage.put(...args);
      metrics.uploadBytes.inc(stored.size);
      return stored;
    },
  });
}

export interface GatewayMetrics {
  registry: Registry;
  openSubscriptions: Gauge;
  eventsDelivered: Counter;
  eventDeliveryLag: Histogram;
  /** Executions of a subscription's selection for live events (one per event and sharing class). */
  liveExecutions: Counter;
  uploadBytes: Counter;
  /** Heavy operations executing, and waiting for their turn (src/graphql/admission.ts). */
  heavyOperations: { running: Gauge; waiting: Gauge };
}

export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    openSubscriptions: new Gauge({
      name: 'skylight_open_subscriptions',
      help: 'GraphQL subscriptions currently open on this instance.',
      registers: [registry],
    }),
    eventsDelivered: new Counter({
      name: 'skylight_events_delivered_total',
      help: 'Events delivered to subscribers by this instance.',
      registers: [registry],
    }),
    eventDeliveryLag: new Histogram({
      name: 'skylight_event_delivery_lag_seconds',
      help: 'Time from an event being committed to its live dispatch on this instance (once per event), or to its delivery from a replay or an SSE stream.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    liveExecutions: new Counter({
      name: 'skylight_live_executions_total',
      help: 'Executions of subscription selections for events: one per event and group of subscribers that share a result (same operation, variables and permission class).',
      registers: [registry],
    }),
    uploadBytes: new Counter({
      name: 'skylight_upload_bytes_total',
      help: 'Bytes of media stored by completed uploads.',
      registers: [registry],
    }),
    heavyOperations: {
      running: new Gauge({
        name: 'skylight_heavy_operations_running',
        help: 'Operations costing HEAVY_OPERATION_COST or more executing now (at most HEAVY_OPERATION_CONCURRENCY).',
        registers: [registry],
      }),
      waiting: new Gauge({
        name: 'skylight_heavy_operations_waiting',
        help: 'Operations costing HEAVY_OPERATION_COST or more waiting for their turn to execute.',
        registers: [registry],
      }),
    },
  };
}
