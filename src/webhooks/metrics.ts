// Prometheus series of webhook delivery, in the server's registry. Attempts and failures are
// counted by the instance that made them (sum them across instances); the lag is read from
// the database when scraped and is the same on every instance (take the max, not the sum).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FailureKind } from './send.ts';

export interface WebhookMetrics {
  attempts: Counter<'outcome'>;
  failures: Counter<'reason'>;
  deliveryLag: Histogram;
}

export function createWebhookMetrics(registry: Registry, lag: () => Promise<Map<string, number>>): WebhookMetrics {
  new Gauge({
    name: 'skylight_webhook_lag_events',
    help: 'Events after each webhook cursor that its filter takes (counted up to 100,000), per webhook id; the same on every instance.',
    labelNames: ['webhook_id'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [webhookId, events] of await lag().catch(() => new Map<string, number>())) this.set({ webhook_id: webhookId }, events);
    },
  });
  return {
    attempts: new Counter({
      name: 'skylight_webhook_attempts_total',
      help: 'Webhook delivery attempts made by this instance (redeliveries included), by outcome.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'skylight_webhook_failures_total',
      help: 'Failed webhook delivery attempts made by this instance, by reason: status (not 2xx), timeout, network, refused (private address).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    deliveryLag: new Histogram({
      name: 'skylight_webhook_delivery_lag_seconds',
      help: 'Time from an event being committed to a receiver answering 2xx for it (first deliveries only).',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
  };
}

export function countAttempt(metrics: WebhookMetrics, failure: FailureKind | null): void {
  metrics.attempts.inc({ outcome: failure ? 'failure' : 'success' });
  if (failure) metrics.failures.inc({ reason: failure });
}
