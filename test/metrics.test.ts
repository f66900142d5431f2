// /metrics as Prometheus scrapes it: the gateway's own series next to Yoga's, moving with traffic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/index.ts';
import { createApplication, dataOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';

const haveSubscriptions = !!schema.getSubscriptionType()?.getFields().sessionEvents;
const haveUploads = !!schema.getMutationType()?.getFields().uploadSessionMedia;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ METRICS_RESOLVERS: 'true' });
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

  it('times resolvers only when METRICS_RESOLVERS is on', async () => {
    const plain = await startGateway();
    try {
      await plain.gql(`query MetricsProbe { viewer { user { id } } }`);
      const text = await (await fetch(`${plain.url}/metrics`)).text();
      expect(text).toMatch(/graphql_envelop_request_duration_count\{[^}]*operationName="MetricsProbe"/);
      expect(text).not.toMatch(/graphql_envelop_execute_resolver_count\{/);
    } finally {
      await plain.stop();
    }
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

async function newSession(): Promise<{ a: string; s: string }> {
  const application = await createApplication(gw);
  const created = dataOf(
    await gw.gql(`mutation($a: ID!) { createSession(input: { applicationId: $a, name: "metrics" }) { id } }`, { a: application.id }),
  );
  return { a: application.id, s: created.createSession.id };
}

describe.skipIf(!haveSubscriptions)(`live event metrics${haveSubscriptions ? '' : ' (skipped: no subscriptions in the schema yet)'}`, () => {
  it('open subscriptions, events delivered and delivery lag move with a subscriber', async () => {
    const ids = await newSession();
    const before = await scrape();
    const abort = new AbortController();
    // A subscription over SSE, read until its first event.
    const response = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({
        query: `subscription($a: ID!, $s: ID!) { sessionEvents(applicationId: $a, sessionId: $s) { type } }`,
        variables: ids,
      }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    let received = '';
    const firstEvent = (async () => {
      while (!received.includes('SESSION_DATA_UPDATED')) {
        const { value, done } = await reader.read();
        if (done) break;
        received += new TextDecoder().decode(value);
      }
    })();
    await expect.poll(async () => (await scrape()).value('skylight_open_subscriptions'), { timeout: 10_000 }).toBe(
      before.value('skylight_open_subscriptions') + 1,
    );
    dataOf(await gw.gql(`mutation($a: ID!, $s: ID!) { patchSessionData(applicationId: $a, sessionId: $s, data: { x: 1 }) }`, ids));
    await firstEvent;
    expect(received).toContain('SESSION_DATA_UPDATED');
    const during = await scrape();
    expect(during.value('skylight_events_delivered_total')).toBeGreaterThan(before.value('skylight_events_delivered_total'));
    expect(during.value('skylight_event_delivery_lag_seconds_count')).toBeGreaterThan(before.value('skylight_event_delivery_lag_seconds_count'));
    abort.abort();
    await expect.poll(async () => (await scrape()).value('skylight_open_subscriptions'), { timeout: 10_000 }).toBe(
      before.value('skylight_open_subscriptions'),
    );
  });
});

describe.skipIf(!haveUploads)(`upload metrics${haveUploads ? '' : ' (skipped: no uploads in the schema yet)'}`, () => {
  it('upload bytes grow by the size of an upload', async () => {
    const ids = await newSession();
    const before = (await scrape()).value('skylight_upload_bytes_total');
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
    const form = new FormData();
    form.append(
      'operations',
      JSON.stringify({
        query: `mutation($a: ID!, $s: ID!, $file: Upload!) { uploadSessionMedia(applicationId: $a, sessionId: $s, file: $file) { size } }`,
        variables: { ...ids, file: null },
      }),
    );
    form.append('map', JSON.stringify({ 0: ['variables.file'] }));
    form.append('0', new Blob([bytes], { type: 'application/octet-stream' }), 'data.bin');
    const response = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'x-graphql-csrf': '1', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
    expect(dataOf((await response.json()) as never).uploadSessionMedia.size).toBe(bytes.length);
    expect((await scrape()).value('skylight_upload_bytes_total') - before).toBe(bytes.length);
  });
});
