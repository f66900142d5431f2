// What the multipart endpoint refuses: files over MAX_UPLOAD_BYTES or too many files
// (PAYLOAD_TOO_LARGE), a request without a preflight header (CSRF), malformed bodies (4xx,
// never 500), a content type the bytes contradict; and an aborted upload leaves nothing.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../src/domain/rows.ts';
import { createApplication, codesOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, pngImage, postMultipart, UPLOAD_SESSION_MEDIA } from './helpers/media.ts';

const MAX = 64 * 1024;

function filesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(path, entry.name));
      else found.push(join(path, entry.name));
    }
  };
  walk(dir);
  return found;
}

describe('upload limits and refusals', () => {
  let gw: TestGateway;
  let mediaDir: string;
  let vars: { a: string; s: string };

  beforeAll(async () => {
    mediaDir = mkdtempSync(join(tmpdir(), 'media-'));
    gw = await startGateway({ MEDIA_DIR: mediaDir, MAX_UPLOAD_BYTES: String(MAX), MAX_UPLOAD_FILES: '1' });
    const app = await createApplication(gw);
    vars = { a: app.id, s: await createSession(gw, app.id) };
  });
  afterAll(() => gw?.stop());

  const mediaRows = async () => rowsOf<{ status: string }>(await gw.db.execute(sql`select status from media where session_id = ${vars.s}`));

  it('refuses a file over MAX_UPLOAD_BYTES with PAYLOAD_TOO_LARGE and keeps nothing', async () => {
    const { status, body } = await postMultipart(gw, UPLOAD_SESSION_MEDIA, vars, [
      { name: 'big.bin', type: 'application/octet-stream', bytes: new Uint8Array(MAX + 1) },
    ]);
    expect(status).toBe(200);
    expect(codesOf(body)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(await mediaRows()).toEqual([]);
    expect(filesUnder(mediaDir)).toEqual([]);
  });

  it('accepts a file of exactly MAX_UPLOAD_BYTES', async () => {
    const { body } = await postMultipart(gw, UPLOAD_SESSION_MEDIA, vars, [
      { name: 'max.bin', type: 'application/octet-stream', bytes: new Uint8Array(MAX) },
    ]);
    expect(body.data?.uploadSessionMedia.size).toBe(MAX);
  });

  it('refuses more files than MAX_UPLOAD_FILES with 413 PAYLOAD_TOO_LARGE', async () => {
    const small = { name: 'a.bin', type: 'application/octet-stream', bytes: new Uint8Array(10) };
    const { status, body } = await postMultipart(gw, UPLOAD_SESSION_MEDIA, vars, [small, small]);
    expect(status).toBe(413);
    expect(codesOf(body)).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  it('refuses a multipart request without a preflight header (CSRF)', async () => {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: '{ viewer { id } }' }));
    form.append('map', '{}');
    const response = await fetch(gw.graphqlUrl, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: form });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].message).toMatch(/CSRF/);
  });

  it.each([
    ['no boundary', 'multipart/form-data', 'garbage'],
    ['bad operations JSON', 'multipart/form-data; boundary=X', '--X\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{nope\r\n--X--\r\n'],
    ['map before operations', 'multipart/form-data; boundary=X', '--X\r\nContent-Disposition: form-data; name="map"\r\n\r\n{}\r\n--X--\r\n'],
    ['no fields at all', 'multipart/form-data; boundary=X', '--X--\r\n'],
    ['truncated body', 'multipart/form-data; boundary=X', '--X\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{ viewer { id } }"}'],
  ])('answers a malformed body (%s) with a 4xx', async (_name, contentType, body) => {
    const response = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-graphql-csrf': '1', 'content-type': contentType },
      body,
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('refuses a content type that the bytes contradict', async () => {
    const { body } = await postMultipart(gw, UPLOAD_SESSION_MEDIA, vars, [
      { name: 'evil.png', type: 'image/png', bytes: new TextEncoder().encode('<svg onload="alert(1)"></svg>') },
    ]);
    expect(codesOf(body)).toEqual(['BAD_USER_INPUT']);
    const { body: video } = await postMultipart(gw, UPLOAD_SESSION_MEDIA, vars, [
      { name: 'clip.mp4', type: 'video/mp4', bytes: pngImage(4, 4, [1, 2, 3]) },
    ]);
    expect(codesOf(video)).toEqual(['BAD_USER_INPUT']);
  });

  it('takes the kind from the checked content type', async () => {
    const { body } = await postMultipart(gw, UPLOAD_SESSION_MEDIA, vars, [
      { name: 'p.png', type: 'application/octet-stream', bytes: pngImage(4, 4, [1, 2, 3]) },
    ]);
    expect(body.data?.uploadSessionMedia).toMatchObject({ kind: 'PHOTO', contentType: 'image/png' });
  });

  it('leaves neither bytes nor a row when the client aborts mid-upload', async () => {
    const before = filesUnder(mediaDir).length;
    const rowsBefore = (await mediaRows()).length;
    const controller = new AbortController();
    const boundary = 'AbortBoundary';
    const head =
      `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n` +
      JSON.stringify({ query: UPLOAD_SESSION_MEDIA, variables: { ...vars, file: null } }) +
      `\r\n--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="slow.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(stream) {
        if (sent === 0) stream.enqueue(new TextEncoder().encode(head));
        if (sent === 5) {
          controller.abort();
          return;
        }
        sent++;
        stream.enqueue(new Uint8Array(8 * 1024).fill(7));
        await new Promise((resolve) => setTimeout(resolve, 30));
      },
    });
    await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-graphql-csrf': '1', 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      signal: controller.signal,
      duplex: 'half',
    } as RequestInit).catch(() => {});
    await expect.poll(async () => (await mediaRows()).length, { timeout: 5000 }).toBe(rowsBefore);
    expect(filesUnder(mediaDir).length).toBe(before);
    const events = rowsOf<{ type: string }>(
      await gw.db.execute(sql`select type from event where session_id = ${vars.s} and type like 'SESSION_MEDIA_%' order by position desc limit 2`),
    );
    expect(events.map((e) => e.type)).toEqual(['SESSION_MEDIA_DELETED', 'SESSION_MEDIA_CREATED']);
  });
});
