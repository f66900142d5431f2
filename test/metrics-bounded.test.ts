// /metrics is not public and does not grow with what clients send: METRICS_TOKEN guards it
// (401 without), production without a token does not serve it (404), and series labelled by
// the client's operation name or URL are bounded (the first METRICS_OPERATION_NAMES names
// that look like GraphQL names, then `other`; the URL's path only). On the old code 6,000
// requests with random names and query strings grew /metrics by tens of megabytes.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

async function scrape(gw: TestGateway, token: string | null = METRICS_TOKEN) {
  return fetch(`${gw.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** Distinct GraphQL series (sample lines; the process's own, like GC kinds, come and go) and the size. */
async function shape(gw: TestGateway) {
  const text = await (await scrape(gw)).text();
  const series = text.split('\n').filter((line) => line.startsWith('graphql_'));
  return { text, series: series.length, bytes: Buffer.byteLength(text) };
}

/** One request with a random operation name and a random query string, GET or POST. */
function randomRequest(gw: TestGateway, i: number, tag: string) {
  const name = `Op${tag}${randomBytes(6).toString('hex')}`;
  const query = `query ${name} { __typename }`;
  const noise = `${randomBytes(8).toString('hex')}=${randomBytes(8).toString('hex')}`;
  if (i % 2 === 0) {
    return fetch(`${gw.graphqlUrl}?query=${encodeURIComponent(query)}&${noise}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  }
  return fetch(`${gw.graphqlUrl}?${noise}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query, operationName: i % 4 === 1 ? name : `${name}-not-a-graphql-name` }),
  });
}

async function flood(gw: TestGateway, count: number, tag: string) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < count; i = next++) await (await randomRequest(gw, i, tag)).arrayBuffer();
    }),
  );
}

describe('metrics access and bounds', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ METRICS_TOKEN, METRICS_OPERATION_NAMES: '100' });
  });
  afterAll(() => gw?.stop());

  it('needs the METRICS_TOKEN bearer token', async () => {
    for (const token of [null, 'wrong-token-0123456789abcdef', ADMIN_TOKEN]) {
      const response = await scrape(gw, token);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.text()).not.toContain('graphql_');
    }
    const ok = await scrape(gw);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('# TYPE process_resident_memory_bytes gauge');
  });

  it('6,000 requests with random operation names and query strings do not grow /metrics', { timeout: 180_000 }, async () => {
    // The first round takes every slot for names; afterwards the set of series is fixed.
    await flood(gw, 300, 'A');
    const settled = await shape(gw);
    await flood(gw, 6000, 'B');
    const after = await shape(gw);
    expect(after.series).toBe(settled.series);
    expect(after.bytes).toBeLessThan(settled.bytes * 1.05);
    expect(after.bytes).toBeLessThan(1024 * 1024);
    expect(after.text).not.toMatch(/OpB[0-9a-f]{12}/);
    expect(after.text).not.toContain('not-a-graphql-name');
    expect(after.text).toContain('operationName="other"');
    // The URL label is the path alone, never the query string.
    expect(after.text).not.toMatch(/url="[^"]*\?/);
    expect(after.text).toMatch(/url="\/graphql"/);
  });
});

describe('metrics in production without METRICS_TOKEN', () => {
  it('are not served at all', async () => {
    const gw = await startGateway({ NODE_ENV: 'production' });
    try {
      const response = await scrape(gw, null);
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('process_resident_memory_bytes');
    } finally {
      await gw.stop();
    }
  });
});
