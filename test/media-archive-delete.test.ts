// Archive hides media from every read (NOT_FOUND, absent from lists, download 404) while
// keeping it; unarchive restores it; delete purges row and bytes for good.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { eventTable } from '../src/db/schema.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../src/domain/rows.ts';
import { LocalStorage } from '../src/storage/local.ts';
import { createApplication, codesOf, dataOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, uploadPhoto } from './helpers/media.ts';

const READS = `query($m: ID!, $uri: String!, $a: ID!, $s: ID!) {
  media(mediaId: $m) { id }
  mediaByUri(uri: $uri) { id }
  session(applicationId: $a, sessionId: $s) { media { totalCount edges { node { id } } } }
}`;

describe('archive and delete', () => {
  let gw: TestGateway;
  let mediaDir: string;
  let place: { applicationId: string; sessionId: string };
  let photo: any;

  beforeAll(async () => {
    mediaDir = mkdtempSync(join(tmpdir(), 'media-'));
    gw = await startGateway({ MEDIA_DIR: mediaDir });
    const app = await createApplication(gw);
    place = { applicationId: app.id, sessionId: await createSession(gw, app.id) };
    photo = await uploadPhoto(gw, place);
  });
  afterAll(() => gw?.stop());

  const reads = () => gw.gql(READS, { m: photo.id, uri: photo.uri, a: place.applicationId, s: place.sessionId });
  const download = (url = `/media/${photo.id}/content`, token: string | null = ADMIN_TOKEN) =>
    fetch(new URL(url, gw.url), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const fileOf = async (id: string) => {
    const [row] = rowsOf<{ storage_key: string }>(await gw.db.execute(sql`select storage_key from media where id = ${id}`));
    return (gw.server.services.storage as LocalStorage).pathOf(row!.storage_key);
  };

  it('archives: every read answers NOT_FOUND, lists leave it out, downloads 404', async () => {
    const signedUrl = photo.url;
    expect(dataOf(await gw.gql(`mutation($m: ID!) { archiveMedia(mediaId: $m) }`, { m: photo.id })).archiveMedia).toBe(photo.id);
    const response = await reads();
    expect(response.data?.media).toBeNull();
    expect(response.data?.mediaByUri).toBeNull();
    expect(codesOf(response)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(response.data?.session.media).toEqual({ totalCount: 0, edges: [] });
    expect((await download()).status).toBe(404);
    expect((await download(signedUrl, null)).status).toBe(404);
    expect(codesOf(await gw.gql(`mutation($m: ID!) { archiveMedia(mediaId: $m) }`, { m: photo.id }))).toEqual(['NOT_FOUND']);
    expect(codesOf(await gw.gql(`mutation($m: ID!) { updateSessionMedia(mediaId: $m, input: { title: "x" }) { id } }`, { m: photo.id }))).toEqual([
      'NOT_FOUND',
    ]);
    expect(existsSync(await fileOf(photo.id))).toBe(true);
  });

  it('unarchives: everything is back', async () => {
    const restored = dataOf(await gw.gql(`mutation($m: ID!) { unarchiveMedia(mediaId: $m) { id status } }`, { m: photo.id })).unarchiveMedia;
    expect(restored).toEqual({ id: photo.id, status: 'READY' });
    const data = dataOf(await reads());
    expect(data.media.id).toBe(photo.id);
    expect(data.mediaByUri.id).toBe(photo.id);
    expect(data.session.media.totalCount).toBe(1);
    expect((await download()).status).toBe(200);
  });

  it('deletes: row and file purged, later reads NOT_FOUND', async () => {
    const file = await fileOf(photo.id);
    expect(dataOf(await gw.gql(`mutation($m: ID!) { deleteMedia(mediaId: $m) }`, { m: photo.id })).deleteMedia).toBe(photo.id);
    expect(existsSync(file)).toBe(false);
    expect(rowsOf(await gw.db.execute(sql`select id from media where id = ${photo.id}`))).toEqual([]);
    expect(codesOf(await reads())).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect((await download()).status).toBe(404);
    expect(codesOf(await gw.gql(`mutation($m: ID!) { unarchiveMedia(mediaId: $m) { id } }`, { m: photo.id }))).toEqual(['NOT_FOUND']);
  });

  it('records archive, unarchive and delete events; once the media is deleted they name it but carry nothing of it', async () => {
    const response = await gw.gql(
      `query($a: ID!, $s: ID!) { events(applicationId: $a, sessionId: $s, types: [SESSION_MEDIA_ARCHIVED, SESSION_MEDIA_UNARCHIVED, SESSION_MEDIA_DELETED]) {
        edges { node { type ... on MediaEvent { mediaId media { id } } } } } }`,
      { a: place.applicationId, s: place.sessionId },
    );
    expect(response.data!.events.edges.map((e: any) => e.node)).toEqual([
      { type: 'SESSION_MEDIA_ARCHIVED', mediaId: photo.id, media: null },
      { type: 'SESSION_MEDIA_UNARCHIVED', mediaId: photo.id, media: null },
      { type: 'SESSION_MEDIA_DELETED', mediaId: photo.id, media: null },
    ]);
    expect(codesOf(response)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    const [stored] = await gw.db.select().from(eventTable).where(eq(eventTable.mediaId, photo.id)).limit(1);
    expect(stored!.payload).toBeNull();
  });

  it('deletes archived media too', async () => {
    const other = await uploadPhoto(gw, place);
    const file = await fileOf(other.id);
    dataOf(await gw.gql(`mutation($m: ID!) { archiveMedia(mediaId: $m) }`, { m: other.id }));
    dataOf(await gw.gql(`mutation($m: ID!) { deleteMedia(mediaId: $m) }`, { m: other.id }));
    expect(existsSync(file)).toBe(false);
  });
});
