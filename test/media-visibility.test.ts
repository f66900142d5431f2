// Media without permission is not there: a viewer holding no session:media:read* permission
// sees no session media in the gallery, its totalCount or media(id), exactly as the history
// and the live stream leave their events out; with some child permissions the media is listed.
// A media event resolves its media as it is now. A person asking for media of a closed session
// learns why it is NOT_FOUND; nobody else learns anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, createApplication, createRole, dataOf, userWithRole, type TestUser } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, uploadPhoto } from './helpers/media.ts';

const GALLERY = `query($a: ID!, $s: ID!) { session(applicationId: $a, sessionId: $s) { media(first: 10) { totalCount edges { node { id filename sha256 } } } } }`;
const ONE = `query($m: ID!) { media(mediaId: $m) { id } }`;
const MEDIA_EVENTS = `query($a: ID!, $s: ID!) { events(applicationId: $a, sessionId: $s, types: [SESSION_MEDIA_CREATED]) {
  edges { node { type ... on MediaEvent { mediaId media { id title } } } } } }`;

describe('media visibility', () => {
  let gw: TestGateway;
  let app: { id: string; roles: Record<string, string> };
  let place: { applicationId: string; sessionId: string };
  let photo: { id: string };
  let auditor: TestUser;
  let labelsOnly: TestUser;
  let worker: TestUser;

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: `/tmp/media-visibility-${process.pid}` });
    app = await createApplication(gw);
    worker = await userWithRole(gw, app.id, app.roles.User!);
    place = { applicationId: app.id, sessionId: await createSession(gw, app.id, worker.token) };
    photo = await uploadPhoto(gw, place, { title: 'before' });
    auditor = await userWithRole(gw, app.id, await createRole(gw, app.id, ['application:read', 'session:read:any']));
    labelsOnly = await userWithRole(gw, app.id, await createRole(gw, app.id, ['application:read', 'session:read:any', 'session:media:read:labels']));
  });
  afterAll(() => gw?.stop());

  it('shows no session media to a viewer without any media read permission, the same as its events', async () => {
    const gallery = dataOf(await gw.gql(GALLERY, { a: place.applicationId, s: place.sessionId }, auditor.token)).session.media;
    expect(gallery).toEqual({ totalCount: 0, edges: [] });
    expect(codesOf(await gw.gql(ONE, { m: photo.id }, auditor.token))).toEqual(['NOT_FOUND']);
    expect(dataOf(await gw.gql(MEDIA_EVENTS, { a: app.id, s: place.sessionId }, auditor.token)).events.edges).toEqual([]);
  });

  it('lists it, with the fields it may read, to a viewer with some media read permission', async () => {
    const gallery = dataOf(await gw.gql(GALLERY, { a: place.applicationId, s: place.sessionId }, labelsOnly.token)).session.media;
    expect(gallery.totalCount).toBe(1);
    expect(gallery.edges[0].node).toMatchObject({ id: photo.id, filename: 'photo.png' });
    const events = await gw.gql(MEDIA_EVENTS, { a: app.id, s: place.sessionId }, labelsOnly.token);
    expect(events.data!.events.edges.map((e: any) => e.node.media)).toEqual([{ id: photo.id, title: null }]);
    expect(events.errors!.map((e) => e.extensions)).toEqual([{ code: 'FORBIDDEN', permission: 'session:media:read:title' }]);
  });

  it('resolves a media event to the media as it is now', async () => {
    dataOf(await gw.gql(`mutation($m: ID!) { updateSessionMedia(mediaId: $m, input: { title: "after" }) { id } }`, { m: photo.id }));
    const events = dataOf(await gw.gql(MEDIA_EVENTS, { a: app.id, s: place.sessionId })).events.edges;
    expect(events.map((e: any) => e.node.media)).toEqual([{ id: photo.id, title: 'after' }]);
  });

  it('tells a person that a media is NOT_FOUND because its session is closed, and tells others nothing', async () => {
    dataOf(await gw.gql(`mutation($a: ID!, $s: ID!) { closeSession(applicationId: $a, sessionId: $s) { id } }`, { a: app.id, s: place.sessionId }));
    const person = await gw.gql(ONE, { m: photo.id }, worker.token);
    expect(person.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND', reason: 'SESSION_CLOSED' });
    const stranger = await userWithRole(gw, app.id, await createRole(gw, app.id, ['application:read', 'session:read:participant', 'session:media:read']));
    expect((await gw.gql(ONE, { m: photo.id }, stranger.token)).errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND' });
    expect((await gw.gql(ONE, { m: photo.id }, auditor.token)).errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND' });
    const download = await fetch(`${gw.url}/media/${photo.id}/content`, { headers: { authorization: `Bearer ${worker.token}` } });
    expect(download.status).toBe(404);
  });
});
