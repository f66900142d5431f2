// /metrics as Prometheus scrapes it: the gateway's own series next to Yoga's, moving with traffic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw?.stop());

async function scrape(): Promise<{ text: string; value(name: string, labels?: Record<string, string>): number }> {
  const response = await fetch(`${gw.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await response.text();
  return {
    text,
    /** Sum of the samples of `name` whose labels include `labels`. */
    value(name, labels = {}) {
      let sum = 0;
      for (const line of text.split('\n')) {
        const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
        if (!match || match[1] !== name) continue;
        const set = match[2] ?? '';
        if (Object.entries(labels).every(([key, value]) => set.includes(`${key}="${value}"`))) sum += Number(match[3]);
      }
      return sum;
    },
  };
}

describe('metrics', () => {
  it('exposes the gateway series with help and type', async () => {
    const { text } = await scrape();
    for (const [name, type] of [
      ['skylight_open_subscriptions', 'gauge'],
      ['skylight_events_delivered_total', 'counter'],
      ['skylight_event_delivery_lag_seconds', 'histogram'],
      ['skylight_upload_bytes_total', 'counter'],
    ]) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} ${type}`);
    }
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
  });

  it('request and resolver timings move after traffic, per operation', async () => {
    const before = await scrape();
    for (let i = 0; i < 4; i++) await gw.gql(`query MetricsProbe { viewer { user { id } } }`);
    await gw.gql(`query Broken { nope }`);
    const after = await scrape();
    const requests = (s: typeof before) => s.value('graphql_envelop_request_duration_count', { operationName: 'MetricsProbe' });
    expect(requests(after) - requests(before)).toBe(4);
    const resolvers = (s: typeof before) =>
      s.value('graphql_envelop_execute_resolver_count', { operationName: 'MetricsProbe', fieldName: 'viewer' });
    expect(resolvers(after) - resolvers(before)).toBe(4);
    expect(after.value('graphql_envelop_error_result_total') + after.value('graphql_envelop_phase_validate_count')).toBeGreaterThan(0);
  });

  it('the gateway series are registered per server, so two instances do not share counts', async () => {
    const other = gw.server.services.metrics;
    other.uploadBytes.inc(1234);
    const { value } = await scrape();
    expect(value('skylight_upload_bytes_total')).toBeGreaterThanOrEqual(1234);
    const second = await import('../src/http/observability.ts').then((m) => m.createMetrics());
    expect(await second.registry.getSingleMetricAsString('skylight_upload_bytes_total')).toMatch(/skylight_upload_bytes_total 0$/m);
  });
});
