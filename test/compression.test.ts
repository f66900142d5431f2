// Compression negotiated from Accept-Encoding (brotli, else gzip) for JSON results above
// COMPRESS_MIN_BYTES, the GraphiQL page and its bundle; never for media downloads or event
// streams. Read with node:http, which shows the bytes as sent (fetch would decode them).
import { request, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPRESS_MIN_BYTES, negotiateEncoding } from '../src/http/compression.ts';
import { createApplication, dataOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, postMultipart } from './helpers/media.ts';

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request; resolves with the raw body once `until` says enough has arrived, or at its end. */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; until?: (body: Buffer) => boolean } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      const done = () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (options.until?.(Buffer.concat(chunks))) {
          done();
          req.destroy();
        }
      });
      res.on('end', done);
    });
    req.on('error', (error) => (options.until ? undefined : reject(error)));
    req.end(options.body);
  });
}

const decode = (response: Raw) =>
  response.headers['content-encoding'] === 'br'
    ? brotliDecompressSync(response.body)
    : response.headers['content-encoding'] === 'gzip'
      ? gunzipSync(response.body)
      : response.body;

const BIG = JSON.stringify({ query: '{ __schema { types { name description fields { name description } } } }' });
const SMALL = JSON.stringify({ query: '{ viewer { user { username } } }' });

let gw: TestGateway;
const post = (body: string, acceptEncoding?: string) =>
  raw(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, ...(acceptEncoding !== undefined && { 'accept-encoding': acceptEncoding }) },
    body,
  });

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw?.stop());

describe('negotiation', () => {
  it.each([
    ['br, gzip', 'br'],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=1.0, br;q=0.5', 'gzip'],
    ['*', 'br'],
    ['*;q=0, gzip', 'gzip'],
    ['identity', null],
    ['deflate', null],
    ['', null],
  ])('Accept-Encoding %j chooses %s', (header, chosen) => {
    expect(negotiateEncoding(header)).toBe(chosen);
  });
});

describe('JSON results', () => {
  it('are compressed with brotli or gzip above the threshold, to the same document', async () => {
    const plain = await post(BIG);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(COMPRESS_MIN_BYTES);
    const document = JSON.parse(plain.body.toString());
    expect(document.errors).toBeUndefined();
    for (const [accept, encoding] of [['gzip, deflate, br', 'br'], ['gzip', 'gzip']] as const) {
      const response = await post(BIG, accept);
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBe(encoding);
      expect(response.headers.vary).toMatch(/Accept-Encoding/);
      expect(Number(response.headers['content-length'])).toBe(response.body.length);
      expect(response.body.length).toBeLessThan(plain.body.length / 3);
      expect(JSON.parse(decode(response).toString())).toEqual(document);
    }
  });

  it('are sent as they are below the threshold or when the client accepts no encoding', async () => {
    const small = await post(SMALL, 'br, gzip');
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.body.length).toBeLessThan(COMPRESS_MIN_BYTES);
    expect(small.headers.vary).toMatch(/Accept-Encoding/);
    expect(JSON.parse(small.body.toString()).data.viewer.user.username).toBe('admin');
    const identity = await post(BIG, 'identity');
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.headers.vary).toMatch(/Accept-Encoding/);
    expect(JSON.parse(identity.body.toString()).errors).toBeUndefined();
  });
});

describe('GraphiQL', () => {
  it('serves a small page and a bundle compressed once, cached by the browser for good', async () => {
    const page = await raw(gw.graphqlUrl, { headers: { accept: 'text/html', 'accept-encoding': 'br, gzip' } });
    expect(page.status).toBe(200);
    const html = decode(page).toString();
    expect(html).toContain('YogaGraphiQL.renderYogaGraphiQL');
    const assets = [...html.matchAll(/(?:src|href)="(\/graphiql\/[0-9a-f]+\.(?:js|css|ico))"/g)].map((match) => match[1]!);
    expect(assets).toHaveLength(3);
    let whole = Buffer.byteLength(html);
    let sent = page.body.length;
    for (const path of assets) {
      const plain = await raw(`${gw.url}${path}`);
      const compressed = await raw(`${gw.url}${path}`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(compressed.status).toBe(200);
      expect(compressed.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(decode(compressed).equals(plain.body)).toBe(true);
      if (!path.endsWith('.ico')) {
        expect(compressed.headers['content-encoding']).toBe('br');
        expect(compressed.body.length).toBeLessThan(plain.body.length / 2);
      }
      const again = await raw(`${gw.url}${path}`, { headers: { 'if-none-match': String(compressed.headers.etag) } });
      expect(again.status).toBe(304);
      whole += plain.body.length;
      sent += compressed.body.length;
    }
    // What one first page load transfers, for the report.
    console.log(`GraphiQL first load: ${(whole / 2 ** 20).toFixed(2)} MiB uncompressed, ${(sent / 2 ** 20).toFixed(2)} MiB sent with brotli`);
    expect(sent).toBeLessThan(whole / 3);
    expect((await raw(`${gw.url}/graphiql/0000000000.js`)).status).toBe(404);
  });
});

describe('never compressed', () => {
  let place: { applicationId: string; sessionId: string };
  beforeAll(async () => {
    const application = await createApplication(gw);
    place = { applicationId: application.id, sessionId: await createSession(gw, application.id) };
  });

  it('media downloads, even of a compressible type, whole or in ranges', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ readings: Array.from({ length: 500 }, (_, i) => ({ i, value: 'ok' })) }));
    const { body } = await postMultipart(
      gw,
      `mutation($a: ID!, $s: ID!, $file: Upload!) { uploadSessionMedia(applicationId: $a, sessionId: $s, file: $file) { id contentType size } }`,
      { a: place.applicationId, s: place.sessionId },
      [{ name: 'readings.json', type: 'application/json', bytes }],
    );
    const media = dataOf(body).uploadSessionMedia;
    expect(media.contentType).toBe('application/json');
    const url = `${gw.url}/media/${media.id}/content`;
    const whole = await raw(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'accept-encoding': 'br, gzip' } });
    expect(whole.status).toBe(200);
    expect(whole.headers['content-encoding']).toBeUndefined();
    expect(whole.body.equals(Buffer.from(bytes))).toBe(true);
    expect(Number(whole.headers['content-length'])).toBe(bytes.length);
    const part = await raw(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'accept-encoding': 'br, gzip', range: 'bytes=10-2009' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-encoding']).toBeUndefined();
    expect(part.body.equals(Buffer.from(bytes.subarray(10, 2010)))).toBe(true);
  });

  it('SSE streams: each event arrives as it happens, as text', async () => {
    const query = `subscription { sessionEvents(applicationId: "${place.applicationId}", sessionId: "${place.sessionId}") { type ... on SessionDataEvent { data } } }`;
    const padding = 'x'.repeat(2 * COMPRESS_MIN_BYTES);
    const stream = raw(`${gw.graphqlUrl}?query=${encodeURIComponent(query)}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${ADMIN_TOKEN}`, 'accept-encoding': 'br, gzip' },
      until: (body) => body.toString().includes(padding),
    });
    // Keep changing the session until the stream (established asynchronously) carries a change.
    let answered: Raw | null = null;
    void stream.then((response) => (answered = response));
    for (let attempt = 0; attempt < 50 && !answered; attempt++) {
      dataOf(
        await gw.gql(`mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $d) }`, {
          a: place.applicationId,
          s: place.sessionId,
          d: { padding },
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const response = await stream;
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    // Yoga says `none` outright, so that no proxy on the way buffers the stream to compress it.
    expect(response.headers['content-encoding']).toBe('none');
    expect(response.body.toString()).toMatch(/event: next\ndata: \{"data":\{"sessionEvents":\{"type":"SESSION_DATA_UPDATED"/);
  });
});
