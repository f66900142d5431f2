// Application media: upload (application:media:manage), read with application:read, list on
// Application.media, skylight:// lookup, update title and content, delete purging the bytes.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../src/domain/rows.ts';
import { LocalStorage } from '../src/storage/local.ts';
import { createApplication, codesOf, dataOf, userWithRole, type TestUser } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { pngImage, postMultipart } from './helpers/media.ts';

const UPLOAD = `mutation($a: ID!, $file: Upload!, $title: String) {
  uploadApplicationMedia(applicationId: $a, file: $file, title: $title) { id uri scope sessionId title kind size sha256 url }
}`;
const UPDATE = `mutation($m: ID!, $title: String, $file: Upload) {
  updateApplicationMedia(mediaId: $m, title: $title, file: $file) { id title size sha256 filename }
}`;
const LIST = `query($a: ID!) { application(applicationId: $a) { media(first: 10) { totalCount edges { node { id title } } } } }`;

describe('application media', () => {
  let gw: TestGateway;
  let app: { id: string; roles: Record<string, string> };
  let reader: TestUser;
  let media: any;
  const logo = pngImage(16, 16, [200, 10, 10]);

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: mkdtempSync(join(tmpdir(), 'media-')) });
    app = await createApplication(gw);
    reader = await userWithRole(gw, app.id, app.roles.User!);
  });
  afterAll(() => gw?.stop());

  const fileOf = async (id: string) => {
    const [row] = rowsOf<{ storage_key: string }>(await gw.db.execute(sql`select storage_key from media where id = ${id}`));
    return (gw.server.services.storage as LocalStorage).pathOf(row!.storage_key);
  };

  it('uploads with application:media:manage and refuses without it', async () => {
    const refused = await postMultipart(gw, UPLOAD, { a: app.id, title: 'Logo' }, [{ name: 'logo.png', type: 'image/png', bytes: logo }], {
      token: reader.token,
    });
    expect(codesOf(refused.body)).toEqual(['FORBIDDEN']);
    const { body } = await postMultipart(gw, UPLOAD, { a: app.id, title: 'Logo' }, [{ name: 'logo.png', type: 'image/png', bytes: logo }]);
    media = dataOf(body).uploadApplicationMedia;
    expect(media).toMatchObject({ scope: 'APPLICATION', sessionId: null, title: 'Logo', kind: 'PHOTO', size: logo.length });
    expect(media.sha256).toBe(createHash('sha256').update(logo).digest('hex'));
  });

  it('lists it on Application.media and finds it by skylight:// for application:read', async () => {
    const list = dataOf(await gw.gql(LIST, { a: app.id }, reader.token)).application.media;
    expect(list).toEqual({ totalCount: 1, edges: [{ node: { id: media.id, title: 'Logo' } }] });
    const byUri = dataOf(await gw.gql(`query($u: String!) { mediaByUri(uri: $u) { id title } }`, { u: `skylight://${media.id}` }, reader.token));
    expect(byUri.mediaByUri).toEqual({ id: media.id, title: 'Logo' });
    expect(codesOf(await gw.gql(`query { mediaByUri(uri: "http://elsewhere/x") { id } }`, {}, reader.token))).toEqual(['NOT_FOUND']);
    const download = await fetch(`${gw.url}/media/${media.id}/content`, { headers: { authorization: `Bearer ${reader.token}` } });
    expect(Buffer.from(await download.arrayBuffer()).equals(logo)).toBe(true);
  });

  it('hides it from users without application:read', async () => {
    const stranger = await createApplication(gw);
    const outsider = await userWithRole(gw, stranger.id, stranger.roles.Owner!);
    expect(codesOf(await gw.gql(`query($m: ID!) { media(mediaId: $m) { id } }`, { m: media.id }, outsider.token))).toEqual(['NOT_FOUND']);
  });

  it('updates the title alone, then replaces the content and drops the old bytes', async () => {
    const renamed = dataOf(await gw.gql(UPDATE, { m: media.id, title: 'Brand' })).updateApplicationMedia;
    expect(renamed).toMatchObject({ title: 'Brand', size: logo.length });
    const oldFile = await fileOf(media.id);
    const next = pngImage(32, 32, [0, 0, 255]);
    const { body } = await postMultipart(gw, UPDATE, { m: media.id }, [{ name: 'logo-2.png', type: 'image/png', bytes: next }]);
    const replaced = dataOf(body).updateApplicationMedia;
    expect(replaced).toMatchObject({ title: 'Brand', size: next.length, filename: 'logo-2.png' });
    expect(existsSync(oldFile)).toBe(false);
    expect(existsSync(await fileOf(media.id))).toBe(true);
  });

  it('deletes for good: row and bytes', async () => {
    const file = await fileOf(media.id);
    expect(dataOf(await gw.gql(`mutation($m: ID!) { deleteApplicationMedia(mediaId: $m) }`, { m: media.id })).deleteApplicationMedia).toBe(media.id);
    expect(existsSync(file)).toBe(false);
    expect(codesOf(await gw.gql(`query($m: ID!) { media(mediaId: $m) { id } }`, { m: media.id }))).toEqual(['NOT_FOUND']);
    const types = dataOf(
      await gw.gql(`query($a: ID!) { events(applicationId: $a) { edges { node { type } } } }`, { a: app.id }, ADMIN_TOKEN),
    ).events.edges.map((e: any) => e.node.type);
    expect(types).toEqual(['APPLICATION_MEDIA_CREATED', 'APPLICATION_MEDIA_UPDATED', 'APPLICATION_MEDIA_UPDATED', 'APPLICATION_MEDIA_DELETED']);
  });
});
