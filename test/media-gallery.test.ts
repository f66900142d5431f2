// The session gallery: snapshot and shared naming and properties, labels ANY vs ALL, sources,
// pagination with totalCount, and a statement count that does not grow with the page size.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, dataOf } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, uploadPhoto } from './helpers/media.ts';

const GALLERY = `query($a: ID!, $s: ID!, $labels: [String!], $match: LabelMatch, $sources: [MediaSource!], $first: Int, $after: String) {
  session(applicationId: $a, sessionId: $s) {
    media(labels: $labels, labelMatch: $match, sources: $sources, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id filename title labels source annotations { id } } }
    }
  }
}`;

describe('session gallery', () => {
  let gw: TestGateway;
  let place: { applicationId: string; sessionId: string };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: mkdtempSync(join(tmpdir(), 'media-')) });
    const app = await createApplication(gw);
    place = { applicationId: app.id, sessionId: await createSession(gw, app.id) };
    ids.a = (await uploadPhoto(gw, place, { labels: ['valve', 'ok'], source: 'CAPTURE' })).id;
    ids.b = (await uploadPhoto(gw, place, { labels: ['valve', 'defect'], source: 'CAPTURE' })).id;
    ids.c = (await uploadPhoto(gw, place, { labels: ['pump'] })).id;
  });
  afterAll(() => gw?.stop());

  const gallery = async (variables: Record<string, unknown>) =>
    dataOf(await gw.gql(GALLERY, { a: place.applicationId, s: place.sessionId, ...variables })).session.media;
  const idsOf = (page: any) => page.edges.map((e: any) => e.node.id);

  it('names a snapshot LiveSnapshot… with roomId and wasRemotelyRequested', async () => {
    const media = await uploadPhoto(gw, place, { source: 'SNAPSHOT', roomId: 'room-1', wasRemotelyRequested: true });
    expect(media.filename).toMatch(/^LiveSnapshot/);
    expect(media.properties).toEqual({ roomId: 'room-1', wasRemotelyRequested: 'true' });
    expect(media.source).toBe('SNAPSHOT');
    ids.snapshot = media.id;
  });

  it('keeps the original filename of shared media with roomId and sharedMedia', async () => {
    const media = await uploadPhoto(gw, place, { source: 'SHARED', roomId: 'room-1', properties: { note: 'x' } });
    expect(media.filename).toBe('photo.png');
    expect(media.properties).toEqual({ note: 'x', roomId: 'room-1', sharedMedia: 'true' });
    ids.shared = media.id;
  });

  it('filters labels with ANY (default) and ALL', async () => {
    expect(idsOf(await gallery({ labels: ['valve', 'pump'] }))).toEqual([ids.a, ids.b, ids.c]);
    expect(idsOf(await gallery({ labels: ['valve', 'ok'], match: 'ALL' }))).toEqual([ids.a]);
    expect(idsOf(await gallery({ labels: ['valve', 'ok'], match: 'ANY' }))).toEqual([ids.a, ids.b]);
    expect((await gallery({ labels: ['valve'], match: 'ALL' })).totalCount).toBe(2);
  });

  it('filters sources', async () => {
    expect(idsOf(await gallery({ sources: ['SNAPSHOT', 'SHARED'] }))).toEqual([ids.snapshot, ids.shared]);
    expect((await gallery({ sources: ['CAPTURE'] })).totalCount).toBe(2);
  });

  it('pages with cursors and counts every match', async () => {
    const first = await gallery({ first: 2 });
    expect(first.totalCount).toBe(5);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await gallery({ first: 2, after: first.pageInfo.endCursor });
    const third = await gallery({ first: 2, after: second.pageInfo.endCursor });
    expect([...idsOf(first), ...idsOf(second), ...idsOf(third)]).toEqual([ids.a, ids.b, ids.c, ids.snapshot, ids.shared]);
    expect(third.pageInfo.hasNextPage).toBe(false);
  });

  it('costs the same number of statements for a page of 1 and a page of 5', async () => {
    const statements = gw.database.handle.statements;
    const count = async (first: number) => {
      // Once the live fan-out (which shares the statement counter) has settled.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = statements.count;
      const page = await gallery({ first });
      expect(page.edges).toHaveLength(first);
      return statements.count - before;
    };
    expect(await count(5)).toBe(await count(1));
  });
});
