// Who sees what of media: each gated field needs its session:media:read:* child (else null
// with FORBIDDEN while the rest resolves); changes need their permissions; invisible sessions
// hide their media; after close only integration users and admins read session media.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, createRole, codesOf, dataOf, userWithRole, type TestUser } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, pngImage, postMultipart, UPLOAD_SESSION_MEDIA, uploadPhoto } from './helpers/media.ts';

const FIELDS = `query($m: ID!) { media(mediaId: $m) { id filename title labels properties annotations { id } url } }`;
const png = { name: 'p.png', type: 'image/png', bytes: pngImage(4, 4, [9, 9, 9]) };

describe('media permissions', () => {
  let gw: TestGateway;
  let app: { id: string; roles: Record<string, string> };
  let place: { applicationId: string; sessionId: string };
  let photo: any;
  let titleOnly: TestUser;
  let readerNoMedia: TestUser;
  let labelsOnly: TestUser;
  let participantUser: TestUser;
  let integration: TestUser;
  let manager: TestUser;

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: mkdtempSync(join(tmpdir(), 'media-')) });
    app = await createApplication(gw);
    place = { applicationId: app.id, sessionId: await createSession(gw, app.id) };
    photo = await uploadPhoto(gw, place, { title: 'Valve', labels: ['v'], properties: { k: 'v' } });
    const titleRole = await createRole(gw, app.id, ['application:read', 'session:read:any', 'session:media:read:title', 'session:media:read:content']);
    titleOnly = await userWithRole(gw, app.id, titleRole);
    readerNoMedia = await userWithRole(gw, app.id, await createRole(gw, app.id, ['application:read', 'session:read:any']));
    labelsOnly = await userWithRole(gw, app.id, await createRole(gw, app.id, ['application:read', 'session:read:any', 'session:media:read:labels']));
    participantUser = await userWithRole(gw, app.id, app.roles.User!);
    manager = await userWithRole(gw, app.id, app.roles.Manager!);
    integration = await userWithRole(gw, app.id, app.roles.Manager!, { isIntegration: true });
  });
  afterAll(() => gw?.stop());

  it('nulls each gated field the viewer lacks, with FORBIDDEN, and resolves the rest', async () => {
    const response = await gw.gql(FIELDS, { m: photo.id }, titleOnly.token);
    expect(response.data?.media).toMatchObject({ id: photo.id, filename: 'photo.png', title: 'Valve', labels: null, properties: null, annotations: null });
    expect(response.data?.media.url).toContain(`${gw.url}/media/`);
    // (The errors carry no path yet: src/graphql/errors.ts returns the unlocated original.)
    expect(codesOf(response)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
  });

  it('gates the fields of event snapshots the same way, at a fixed cost per page', async () => {
    const query = `query($a: ID!, $s: ID!) { events(applicationId: $a, sessionId: $s, types: [SESSION_MEDIA_CREATED, SESSION_MEDIA_UPDATED]) {
      edges { node { ... on MediaEvent { media { id title labels } } } } } }`;
    const response = await gw.gql(query, { a: place.applicationId, s: place.sessionId }, titleOnly.token);
    const snapshots = response.data?.events.edges.map((e: any) => e.node.media);
    expect(snapshots.length).toBeGreaterThanOrEqual(2);
    expect(snapshots.every((m: any) => m.title === 'Valve' && m.labels === null)).toBe(true);
    expect(new Set(codesOf(response))).toEqual(new Set(['FORBIDDEN']));
    // Measured once the live fan-out (which shares the statement counter) has settled.
    const statements = gw.database.handle.statements;
    const cost = async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = statements.count;
      await gw.gql(query, { a: place.applicationId, s: place.sessionId }, titleOnly.token);
      return statements.count - before;
    };
    const one = await cost();
    for (let i = 0; i < 3; i++) await uploadPhoto(gw, place, { title: 'Valve' });
    expect(await cost()).toBe(one);
  });

  it('gates the download like the url field, naming the missing permission', async () => {
    const response = await fetch(`${gw.url}/media/${photo.id}/content`, { headers: { authorization: `Bearer ${labelsOnly.token}` } });
    expect(response.status).toBe(403);
    const fields = await gw.gql(FIELDS, { m: photo.id }, labelsOnly.token);
    expect(fields.data?.media.url).toBeNull();
    const urlError = fields.errors?.find((error) => error.path?.includes('url'));
    expect(urlError?.extensions).toMatchObject({ code: 'FORBIDDEN', permission: 'session:media:read:content' });
    const allowed = await fetch(`${gw.url}/media/${photo.id}/content`, { headers: { authorization: `Bearer ${titleOnly.token}` } });
    expect(allowed.status).toBe(200);
  });

  it('hides session media from a viewer without any session:media:read permission (NOT_FOUND, 404)', async () => {
    expect(codesOf(await gw.gql(FIELDS, { m: photo.id }, readerNoMedia.token))).toEqual(['NOT_FOUND']);
    const download = await fetch(`${gw.url}/media/${photo.id}/content`, { headers: { authorization: `Bearer ${readerNoMedia.token}` } });
    expect(download.status).toBe(404);
  });

  it('hides media of a session the viewer may not see (NOT_FOUND, 404)', async () => {
    const response = await gw.gql(FIELDS, { m: photo.id }, participantUser.token);
    expect(codesOf(response)).toEqual(['NOT_FOUND']);
    const download = await fetch(`${gw.url}/media/${photo.id}/content`, { headers: { authorization: `Bearer ${participantUser.token}` } });
    expect(download.status).toBe(404);
  });

  it('needs session:media:create to upload', async () => {
    const { body } = await postMultipart(gw, UPLOAD_SESSION_MEDIA, { a: place.applicationId, s: place.sessionId }, [png], {
      token: readerNoMedia.token,
    });
    expect(codesOf(body)).toEqual(['FORBIDDEN']);
    const own = await createSession(gw, app.id, participantUser.token);
    const mine = await uploadPhoto(gw, { applicationId: app.id, sessionId: own }, {}, { token: participantUser.token });
    expect(mine.status).toBe('READY');
  });

  it('needs the update, archive and delete permissions for changes', async () => {
    const update = `mutation($m: ID!) { updateSessionMedia(mediaId: $m, input: { labels: ["x"] }) { labels } }`;
    expect(codesOf(await gw.gql(update, { m: photo.id }, titleOnly.token))).toEqual(['FORBIDDEN']);
    expect(dataOf(await gw.gql(update, { m: photo.id }, manager.token)).updateSessionMedia.labels).toEqual(['x']);
    const remove = `mutation($m: ID!) { deleteMedia(mediaId: $m) }`;
    expect(codesOf(await gw.gql(remove, { m: photo.id }, manager.token))).toEqual(['FORBIDDEN']);
    const archive = `mutation($m: ID!) { archiveMedia(mediaId: $m) }`;
    expect(codesOf(await gw.gql(archive, { m: photo.id }, titleOnly.token))).toEqual(['FORBIDDEN']);
  });

  it('after close, only integration users and admins read session media', async () => {
    const session = await createSession(gw, app.id);
    const closedPlace = { applicationId: app.id, sessionId: session };
    const media = await uploadPhoto(gw, closedPlace);
    dataOf(await gw.gql(`mutation($a: ID!, $s: ID!) { closeSession(applicationId: $a, sessionId: $s) { status } }`, { a: app.id, s: session }));
    const gallery = `query($a: ID!, $s: ID!) { session(applicationId: $a, sessionId: $s) { media { totalCount edges { node { id } } } } }`;
    expect(codesOf(await gw.gql(FIELDS, { m: media.id }, manager.token))).toEqual(['NOT_FOUND']);
    expect(dataOf(await gw.gql(gallery, { a: app.id, s: session }, manager.token)).session.media.totalCount).toBe(0);
    const download = (token: string) => fetch(`${gw.url}/media/${media.id}/content`, { headers: { authorization: `Bearer ${token}` } });
    expect((await download(manager.token)).status).toBe(404);
    expect(dataOf(await gw.gql(FIELDS, { m: media.id }, integration.token)).media.id).toBe(media.id);
    expect(dataOf(await gw.gql(gallery, { a: app.id, s: session }, integration.token)).session.media.totalCount).toBe(1);
    expect((await download(integration.token)).status).toBe(200);
    expect(dataOf(await gw.gql(FIELDS, { m: media.id })).media.id).toBe(media.id);
    const { body } = await postMultipart(gw, UPLOAD_SESSION_MEDIA, { a: app.id, s: session }, [png]);
    expect(codesOf(body)).toEqual(['FAILED_PRECONDITION']);
  });
});
