// Upload and download round trip: exact bytes, sha256, ETag, Range, the UPLOADING → READY
// events, and the signed URL.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMediaUrl } from '../src/domain/media-urls.ts';
import { createApplication, dataOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, postMultipart, UPLOAD_SESSION_MEDIA } from './helpers/media.ts';

const EVENTS = `query($a: ID!, $s: ID!) { events(applicationId: $a, sessionId: $s, first: 50) { edges { node {
  type ... on MediaEvent { mediaId media { status size sha256 } } } } } }`;

describe('media upload and download', () => {
  let gw: TestGateway;
  let place: { applicationId: string; sessionId: string };
  const bytes = randomBytes(300_000);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let media: any;

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: mkdtempSync(join(tmpdir(), 'media-')) });
    const app = await createApplication(gw);
    place = { applicationId: app.id, sessionId: await createSession(gw, app.id) };
    const { body } = await postMultipart(gw, UPLOAD_SESSION_MEDIA, { a: place.applicationId, s: place.sessionId }, [
      { name: 'blob.bin', type: 'application/octet-stream', bytes },
    ]);
    media = dataOf(body).uploadSessionMedia;
  });
  afterAll(() => gw?.stop());

  it('answers READY with the size, sha256, uri and kind', () => {
    expect(media).toMatchObject({ status: 'READY', size: bytes.length, sha256, kind: 'OTHER', source: 'UPLOAD', filename: 'blob.bin' });
    expect(media.uri).toBe(`skylight://${media.id}`);
  });

  it('records SESSION_MEDIA_CREATED (UPLOADING) then SESSION_MEDIA_UPDATED (READY)', async () => {
    const events = dataOf(await gw.gql(EVENTS, { a: place.applicationId, s: place.sessionId })).events.edges.map((e: any) => e.node);
    const mine = events.filter((e: any) => e.mediaId === media.id);
    // Both resolve the media as it is now: READY.
    expect(mine.map((e: any) => [e.type, e.media?.status])).toEqual([
      ['SESSION_MEDIA_CREATED', 'READY'],
      ['SESSION_MEDIA_UPDATED', 'READY'],
    ]);
    expect(mine[1].media).toMatchObject({ size: bytes.length, sha256 });
  });

  it('downloads the exact bytes with the bearer token and the right headers', async () => {
    const response = await fetch(`${gw.url}/media/${media.id}/content`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    expect(response.headers.get('etag')).toBe(`"${sha256}"`);
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-disposition')).toContain('filename="blob.bin"');
  });

  it('answers 304 to If-None-Match with the ETag', async () => {
    const response = await fetch(`${gw.url}/media/${media.id}/content`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'if-none-match': `"${sha256}"` },
    });
    expect(response.status).toBe(304);
  });

  it('honours Range with 206 and refuses an unsatisfiable one with 416', async () => {
    const partial = await fetch(`${gw.url}/media/${media.id}/content`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, range: 'bytes=100-1099' },
    });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 100-1099/${bytes.length}`);
    expect(Buffer.from(await partial.arrayBuffer()).equals(bytes.subarray(100, 1100))).toBe(true);
    const suffix = await fetch(`${gw.url}/media/${media.id}/content`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, range: 'bytes=-10' },
    });
    expect(Buffer.from(await suffix.arrayBuffer()).equals(bytes.subarray(bytes.length - 10))).toBe(true);
    const beyond = await fetch(`${gw.url}/media/${media.id}/content`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, range: `bytes=${bytes.length}-` },
    });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
  });

  it('answers HEAD with the headers alone', async () => {
    const response = await fetch(`${gw.url}/media/${media.id}/content`, { method: 'HEAD', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('needs a token or a signature', async () => {
    expect((await fetch(`${gw.url}/media/${media.id}/content`)).status).toBe(401);
  });

  it('serves the signed URL without any header', async () => {
    const response = await fetch(new URL(media.url, gw.url));
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('refuses a tampered or expired signed URL', async () => {
    const tampered = media.url.replace(/sig=([A-Za-z0-9_-])/, (_: string, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    expect((await fetch(new URL(tampered, gw.url))).status).toBe(403);
    const otherMedia = media.url.replace(media.id, '00000000-0000-4000-8000-000000000000');
    expect((await fetch(new URL(otherMedia, gw.url))).status).toBe(403);
    const userId = new URL(media.url, gw.url).searchParams.get('u')!;
    const expired = signMediaUrl({ secret: gw.config.jwtSecret, ttlSeconds: 60 }, media.id, userId, Date.now() - 120_000);
    const response = await fetch(`${gw.url}${expired}`);
    expect(response.status).toBe(403);
    expect((await response.json()).errors[0].message).toMatch(/expired/);
  });

  it('finds the media by id and by skylight:// uri', async () => {
    const data = dataOf(
      await gw.gql(`query($id: ID!, $uri: String!) { media(mediaId: $id) { id size } mediaByUri(uri: $uri) { id } }`, {
        id: media.id,
        uri: media.uri,
      }),
    );
    expect(data.media).toEqual({ id: media.id, size: bytes.length });
    expect(data.mediaByUri.id).toBe(media.id);
  });
});
