// Safe defaults (issue 16): CSRF prevention for every POST a browser could send cross-site
// without a preflight, while GET queries and SSE keep working without headers; introspection
// off in production unless INTROSPECTION=true; a bound on labels per media; client timestamps
// outside a sane window refused with BAD_USER_INPUT before the database.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, createApplication, dataOf, unique } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, postMultipart, uploadPhoto, UPLOAD_SESSION_MEDIA, pngImage } from './helpers/media.ts';

const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };
const CREATE_APP = (name: string) => `mutation { createApplication(input: { name: "${name}" }) { id } }`;
const APPS = `query { applications(first: 100) { edges { node { name } } } }`;

let gw: TestGateway;
let place: { applicationId: string; sessionId: string };
beforeAll(async () => {
  gw = await startGateway({ MEDIA_DIR: mkdtempSync(join(tmpdir(), 'media-')), MAX_LABELS_PER_MEDIA: '100' });
  const app = await createApplication(gw);
  place = { applicationId: app.id, sessionId: await createSession(gw, app.id) };
});
afterAll(() => gw?.stop());

async function appNames(): Promise<string[]> {
  return dataOf(await gw.gql(APPS)).applications.edges.map((edge: any) => edge.node.name);
}

describe('CSRF prevention', () => {
  it('refuses a form-encoded, text/plain or untyped POST without a preflight header, and runs nothing', async () => {
    const names: string[] = [];
    for (const [type, encode] of [
      ['application/x-www-form-urlencoded', (query: string) => new URLSearchParams({ query }).toString()],
      ['text/plain', (query: string) => JSON.stringify({ query })],
      ['text/plain;charset=UTF-8', (query: string) => JSON.stringify({ query })],
      [null, (query: string) => JSON.stringify({ query })],
    ] as const) {
      const name = unique('csrf');
      names.push(name);
      const response = await fetch(gw.graphqlUrl, {
        method: 'POST',
        headers: { ...AUTH, ...(type ? { 'content-type': type } : {}) },
        body: type ? encode(CREATE_APP(name)) : new Blob([encode(CREATE_APP(name))]),
      });
      expect(response.status, String(type)).toBe(400);
      expect(codesOf((await response.json()) as any)).toEqual(['BAD_USER_INPUT']);
    }
    const existing = await appNames();
    for (const name of names) expect(existing).not.toContain(name);
  });

  it('keeps JSON POSTs, GET queries and SSE subscriptions working without the header', async () => {
    const name = unique('json');
    dataOf(await gw.gql(CREATE_APP(name)));
    expect(await appNames()).toContain(name);
    const get = await fetch(`${gw.graphqlUrl}?query=${encodeURIComponent('{ viewer { user { id } } }')}`, { headers: AUTH });
    expect(get.status).toBe(200);
    expect(((await get.json()) as any).data.viewer.user.id).toBeTruthy();
    const controller = new AbortController();
    const subscription = `subscription { sessionEvents(applicationId: "${place.applicationId}", sessionId: "${place.sessionId}") { id } }`;
    const sse = await fetch(`${gw.graphqlUrl}?query=${encodeURIComponent(subscription)}`, {
      headers: { ...AUTH, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    controller.abort();
    await sse.body?.cancel().catch(() => {});
  });

  it('accepts a simple-typed POST that carries a preflight header, and uploads with apollo-require-preflight', async () => {
    const response = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded', 'x-graphql-csrf': '1' },
      body: new URLSearchParams({ query: '{ __typename }' }).toString(),
    });
    expect(response.status).not.toBe(400);
    const upload = await postMultipart(gw, UPLOAD_SESSION_MEDIA, { a: place.applicationId, s: place.sessionId, input: {} }, [
      { name: 'p.png', type: 'image/png', bytes: pngImage(4, 4, [1, 2, 3]) },
    ], { headers: { 'x-graphql-csrf': '', 'apollo-require-preflight': 'true' } });
    expect(dataOf(upload.body).uploadSessionMedia.id).toBeTruthy();
  });
});

describe('introspection', () => {
  const SCHEMA = `{ __schema { queryType { name } } }`;
  const TYPE = `{ __type(name: "Query") { name } }`;

  it('is on outside production', async () => {
    expect(dataOf(await gw.gql(SCHEMA)).__schema.queryType.name).toBe('Query');
  });

  it('is off in production, for __schema and __type, unless INTROSPECTION=true', async () => {
    const production = await startGateway({ NODE_ENV: 'production' });
    try {
      for (const query of [SCHEMA, TYPE]) {
        const response = await production.gql(query, {}, null);
        expect(response.data ?? null).toBeNull();
        expect(new Set(codesOf(response))).toEqual(new Set(['BAD_USER_INPUT']));
        expect(response.errors![0]!.message).toMatch(/introspection has been disabled/);
      }
      expect(dataOf(await production.gql(`{ __typename }`, {}, null)).__typename).toBe('Query');
    } finally {
      await production.stop();
    }
    const opened = await startGateway({ NODE_ENV: 'production', INTROSPECTION: 'true' });
    try {
      expect(dataOf(await opened.gql(TYPE, {}, null)).__type.name).toBe('Query');
    } finally {
      await opened.stop();
    }
  });
});

describe('labels per media', () => {
  const labels = (count: number, length = 8) => Array.from({ length: count }, (_, i) => `${i}`.padStart(length, 'l'));
  const UPDATE = `mutation($m: ID!, $l: [String!]) { updateSessionMedia(mediaId: $m, input: { labels: $l }) { labels } }`;

  it('refuses more than MAX_LABELS_PER_MEDIA or a label over 200 characters, on upload and update', async () => {
    const upload = (input: Record<string, unknown>) =>
      postMultipart(gw, UPLOAD_SESSION_MEDIA, { a: place.applicationId, s: place.sessionId, input }, [
        { name: 'p.png', type: 'image/png', bytes: pngImage(4, 4, [1, 2, 3]) },
      ]);
    expect(codesOf((await upload({ labels: labels(101) })).body)).toEqual(['BAD_USER_INPUT']);
    expect(codesOf((await upload({ labels: ['x'.repeat(201)] })).body)).toEqual(['BAD_USER_INPUT']);
    const photo = await uploadPhoto(gw, place, { labels: labels(100) });
    expect(photo.labels).toHaveLength(100);
    expect(codesOf(await gw.gql(UPDATE, { m: photo.id, l: labels(100_000, 1) }))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await gw.gql(UPDATE, { m: photo.id, l: labels(101) }))).toEqual(['BAD_USER_INPUT']);
    expect(dataOf(await gw.gql(UPDATE, { m: photo.id, l: ['a', 'b'] })).updateSessionMedia.labels).toEqual(['a', 'b']);
  });
});

describe('client timestamps', () => {
  const EVENT = `mutation($a: ID!, $s: ID!, $t: DateTime) { createSessionEvent(applicationId: $a, sessionId: $s, data: { x: 1 }, timestamp: $t) { id timestamp } }`;
  const event = (t: string | null, headers: Record<string, string> = {}) =>
    gw.gql(EVENT, { a: place.applicationId, s: place.sessionId, t }, ADMIN_TOKEN, headers);

  it('refuses an x-client-timestamp outside 1970 .. a day from now, or unreadable, before the database', async () => {
    const twoDaysAhead = String(Date.now() + 2 * 24 * 3600 * 1000);
    for (const header of ['+275760-09-13T00:00:00.000Z', '8640000000000000', '1969-12-31T23:59:59Z', twoDaysAhead, '9999-01-01T00:00:00Z', 'soon']) {
      const response = await event(null, { 'x-client-timestamp': header });
      expect(codesOf(response), header).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.extensions!.field).toBe('x-client-timestamp');
    }
    const now = new Date().toISOString();
    expect(dataOf(await event(null, { 'x-client-timestamp': now })).createSessionEvent.timestamp).toBe(now);
  });

  it('refuses a DateTime argument outside the window', async () => {
    for (const t of ['1900-01-01T00:00:00Z', '9999-01-01T00:00:00Z']) expect(codesOf(await event(t)), t).toEqual(['BAD_USER_INPUT']);
    expect(dataOf(await event('2026-01-02T03:04:05.000Z')).createSessionEvent.timestamp).toBe('2026-01-02T03:04:05.000Z');
  });
});
