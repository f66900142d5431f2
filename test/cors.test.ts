// CORS from CORS_ORIGINS only, on /graphql (queries, uploads, SSE) and media downloads, with
// preflights answered: `*` (the development default) never with credentials, a list reflects
// only its origins, and production's default sends nothing. The GraphiQL page is never
// readable from another origin. (test/cross-origin-browser.test.ts does the same in Chromium.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createApplication } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, postMultipart, uploadPhoto, UPLOAD_SESSION_MEDIA, pngImage } from './helpers/media.ts';

const APP = 'https://app.example';
const QUERY = JSON.stringify({ query: '{ viewer { user { username } } }' });

const post = (gw: TestGateway, origin: string | null, body = QUERY, headers: Record<string, string> = {}) =>
  fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, ...(origin && { origin }), ...headers },
    body,
  });

const preflight = (url: string, origin: string, method: string, requestHeaders: string) =>
  fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders },
  });

const cors = (response: Response) =>
  Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'));

describe('CORS with the development default (*)', () => {
  let gw: TestGateway;
  let place: { applicationId: string; sessionId: string };
  let photo: { id: string; url: string };
  beforeAll(async () => {
    gw = await startGateway();
    const application = await createApplication(gw);
    place = { applicationId: application.id, sessionId: await createSession(gw, application.id) };
    photo = await uploadPhoto(gw, place);
  });
  afterAll(() => gw?.stop());

  it('lets any origin read /graphql, without credentials', async () => {
    const response = await post(gw, APP);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect((await response.json()).data.viewer.user.username).toBe('admin');
  });

  it('answers the preflight of /graphql with the methods and the headers asked for', async () => {
    const response = await preflight(gw.graphqlUrl, APP, 'POST', 'authorization, content-type, x-client-timestamp');
    expect(response.status).toBe(204);
    expect(cors(response)).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type, x-client-timestamp',
      'access-control-max-age': '600',
    });
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('answers the preflight of a media download (it was 405) and serves it cross-origin', async () => {
    const url = `${gw.url}/media/${photo.id}/content`;
    const answer = await preflight(url, APP, 'GET', 'authorization, range');
    expect(answer.status).toBe(204);
    expect(cors(answer)).toMatchObject({ 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD, OPTIONS' });
    const download = await fetch(url, { headers: { origin: APP, authorization: `Bearer ${ADMIN_TOKEN}`, range: 'bytes=0-3' } });
    expect(download.status).toBe(206);
    expect(download.headers.get('access-control-allow-origin')).toBe('*');
    expect(download.headers.get('access-control-expose-headers')).toMatch(/content-disposition.*content-range/);
    // The signed URL works from another origin without any header.
    const signed = await fetch(photo.url, { headers: { origin: APP } });
    expect(signed.status).toBe(200);
    expect(signed.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('lets another origin read an SSE stream', async () => {
    const controller = new AbortController();
    const query = `subscription { sessionEvents(applicationId: "${place.applicationId}", sessionId: "${place.sessionId}") { type } }`;
    const response = await fetch(`${gw.graphqlUrl}?query=${encodeURIComponent(query)}`, {
      headers: { origin: APP, accept: 'text/event-stream', authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    controller.abort();
  });

  it('lets another origin upload (multipart with the preflight header)', async () => {
    const { status, body } = await postMultipart(
      gw,
      UPLOAD_SESSION_MEDIA,
      { a: place.applicationId, s: place.sessionId },
      [{ name: 'photo.png', type: 'image/png', bytes: pngImage(4, 4, [1, 2, 3]) }],
      { headers: { origin: APP } },
    );
    expect(status).toBe(200);
    expect(body.data?.uploadSessionMedia.status).toBe('READY');
    const answer = await preflight(gw.graphqlUrl, APP, 'POST', 'authorization, apollo-require-preflight');
    expect(answer.headers.get('access-control-allow-headers')).toBe('authorization, apollo-require-preflight');
  });

  it('never lets another origin read the GraphiQL page', async () => {
    const page = await fetch(gw.graphqlUrl, { headers: { origin: APP, accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends nothing to a request without an Origin', async () => {
    const headers = Object.keys(cors(await post(gw, null)));
    expect(headers.filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });
});

describe('CORS with a list of origins', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ CORS_ORIGINS: `${APP}, http://localhost:5173` });
  });
  afterAll(() => gw?.stop());

  it('reflects a listed origin, with credentials, and varies on Origin', async () => {
    for (const origin of [APP, 'http://localhost:5173']) {
      const response = await post(gw, origin);
      expect(cors(response)).toMatchObject({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
      });
      expect(response.headers.get('vary')).toMatch(/Origin/);
    }
    const answer = await preflight(gw.graphqlUrl, APP, 'POST', 'authorization, content-type');
    expect(cors(answer)).toMatchObject({ 'access-control-allow-origin': APP, 'access-control-allow-credentials': 'true' });
  });

  it('gives any other origin no CORS header, not even on the preflight', async () => {
    const response = await post(gw, 'https://attacker.example');
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('vary')).toMatch(/Origin/);
    const answer = await preflight(gw.graphqlUrl, 'https://attacker.example', 'POST', 'authorization');
    expect(answer.status).toBe(204);
    expect(Object.keys(cors(answer)).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('keeps Vary: Origin next to Accept-Encoding on a compressed response', async () => {
    const big = JSON.stringify({ query: '{ __schema { types { name description } } }' });
    const response = await post(gw, APP, big, { 'accept-encoding': 'gzip' });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(response.headers.get('vary')).toMatch(/Origin/);
    expect(response.headers.get('vary')).toMatch(/Accept-Encoding/);
  });
});

describe('CORS in production', () => {
  it('is off unless CORS_ORIGINS names origins', async () => {
    const gw = await startGateway({ NODE_ENV: 'production' });
    try {
      const response = await post(gw, APP);
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      const answer = await preflight(gw.graphqlUrl, APP, 'POST', 'authorization');
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await gw.stop();
    }
  });

  it('validates CORS_ORIGINS', () => {
    const base = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://h/db' };
    expect(loadConfig(base).corsOrigins).toEqual([]);
    expect(loadConfig({ ...base, CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    expect(loadConfig({ ...base, CORS_ORIGINS: 'none' }).corsOrigins).toEqual([]);
    expect(loadConfig({ ...base, CORS_ORIGINS: 'https://a.example/, http://b.example:8080' }).corsOrigins).toEqual(['https://a.example', 'http://b.example:8080']);
    expect(loadConfig({ DATA_DIR: '/tmp/skylight-cors' }).corsOrigins).toBe('*');
    for (const bad of ['ftp://a.example', 'https://a.example/app', 'a.example', 'https://a.example,*']) {
      expect(() => loadConfig({ ...base, CORS_ORIGINS: bad }), bad).toThrow(ConfigError);
    }
  });
});
