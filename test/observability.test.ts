// Operations: Prometheus metrics that move with traffic, and logs that name the request.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestScope } from '../src/http/observability.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

const lines: any[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});

let gw: TestGateway;
beforeAll(async () => {
  const logger = pino({ level: 'info', mixin: () => ({ ...requestScope.getStore() }) }, sink);
  gw = await startGateway({}, { logger });
});
afterAll(() => gw?.stop());

const metric = (text: string, name: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);

describe('metrics', () => {
  it('serves Prometheus metrics that move after traffic', async () => {
    const before = await (await fetch(`${gw.url}/metrics`)).text();
    expect(before).toContain('skylight_open_subscriptions');
    expect(before).toContain('process_resident_memory_bytes');
    for (let i = 0; i < 3; i++) await gw.gql(`query Who { viewer { user { id } } }`);
    const after = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metric(after, 'graphql_envelop_request_duration_count')).toBeGreaterThanOrEqual(
      metric(before, 'graphql_envelop_request_duration_count') + 3,
    );
    // Resolver timing is off by default (METRICS_RESOLVERS; test/metrics.test.ts turns it on).
    expect(after).not.toMatch(/graphql_envelop_execute_resolver_count\{[^}]*fieldName="viewer"/);
  });
});

describe('logs', () => {
  it('writes structured lines carrying the request id and operation name', async () => {
    const response = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-admin-token-0123456789abcdef', 'x-request-id': 'req-abc-123' },
      body: JSON.stringify({ query: 'query NamedOperation { viewer { user { id } } }' }),
    });
    expect(response.headers.get('x-request-id')).toBe('req-abc-123');
    await response.text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const line = lines.find((entry) => entry.requestId === 'req-abc-123' && entry.msg === 'request');
    expect(line).toMatchObject({ operationName: 'NamedOperation', method: 'POST', path: '/graphql', status: 200 });
    expect(typeof line.durationMs).toBe('number');
  });

  it('gives each request its own id when the client sends none', async () => {
    const first = await fetch(`${gw.graphqlUrl}?query={__typename}`);
    const second = await fetch(`${gw.graphqlUrl}?query={__typename}`);
    expect(first.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
  });
});
