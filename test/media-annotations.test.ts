// Annotations: only on photos, stored apart from the original, sanitised (no script, event
// handler, external reference or foreignObject survives), size bounded, with their events.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, codesOf, dataOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, uploadPhoto } from './helpers/media.ts';

const ADD = `mutation($m: ID!, $svg: String!) { addMediaAnnotation(mediaId: $m, svg: $svg) { id mediaId svg createdBy } }`;
const DELETE = `mutation($m: ID!, $id: ID!) { deleteMediaAnnotation(mediaId: $m, annotationId: $id) }`;
const MEDIA = `query($m: ID!) { media(mediaId: $m) { sha256 annotations { id svg } } }`;

// A minimal MP4 header (ftyp box) is enough for the signature check to call it a video.
const MP4 = Buffer.concat([
  Buffer.from([0, 0, 0, 0x18]),
  Buffer.from('ftypisom', 'ascii'),
  Buffer.from([0, 0, 2, 0]),
  Buffer.from('isomiso2', 'ascii'),
  Buffer.alloc(64),
]);

const HOSTILE = [
  '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><circle r="5"/></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="5" height="5" onclick="steal()"/></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><image href="http://evil.test/x.png"/><use xlink:href="https://evil.test/s.svg#a"/></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><iframe src="javascript:alert(1)"></iframe></body></foreignObject></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><text>x</text></a><rect fill="url(http://evil.test/p#g)" style="background:url(http://evil.test)"/></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="/><style>@import url(http://evil.test/a.css);</style></svg>',
];

describe('annotations', () => {
  let gw: TestGateway;
  let place: { applicationId: string; sessionId: string };
  let photo: any;

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: mkdtempSync(join(tmpdir(), 'media-')), MAX_ANNOTATION_BYTES: '4096' });
    const app = await createApplication(gw);
    place = { applicationId: app.id, sessionId: await createSession(gw, app.id) };
    photo = await uploadPhoto(gw, place);
  });
  afterAll(() => gw?.stop());

  it('adds an annotation kept apart from the untouched original', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs><linearGradient id="g"/></defs><circle cx="5" cy="5" r="3" fill="url(#g)"/></svg>';
    const added = dataOf(await gw.gql(ADD, { m: photo.id, svg })).addMediaAnnotation;
    expect(added.mediaId).toBe(photo.id);
    expect(added.svg).toContain('<circle');
    expect(added.svg).toContain('url(#g)');
    const media = dataOf(await gw.gql(MEDIA, { m: photo.id })).media;
    expect(media.sha256).toBe(photo.sha256);
    expect(media.annotations.map((a: any) => a.id)).toEqual([added.id]);
  });

  it.each(HOSTILE.map((svg, index) => [index, svg]))('cleans hostile SVG #%i', async (_index, svg) => {
    const added = dataOf(await gw.gql(ADD, { m: photo.id, svg })).addMediaAnnotation;
    const clean: string = added.svg;
    expect(clean).toMatch(/^<svg/);
    expect(clean).not.toMatch(/<script|onload|onclick|foreignObject|iframe|javascript:|evil\.test|data:|<style/i);
  });

  it('refuses what is not SVG, and SVG over MAX_ANNOTATION_BYTES', async () => {
    expect(codesOf(await gw.gql(ADD, { m: photo.id, svg: '<html><body>hi</body></html>' }))).toEqual(['BAD_USER_INPUT']);
    const big = `<svg xmlns="http://www.w3.org/2000/svg">${'<circle r="1"/>'.repeat(400)}</svg>`;
    expect(codesOf(await gw.gql(ADD, { m: photo.id, svg: big }))).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  it('refuses an annotation on a video', async () => {
    const video = await uploadPhoto(gw, place, {}, { file: { name: 'clip.mp4', type: 'video/mp4', bytes: MP4 } });
    expect(video.kind).toBe('VIDEO');
    expect(codesOf(await gw.gql(ADD, { m: video.id, svg: '<svg xmlns="http://www.w3.org/2000/svg"/>' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('deletes an annotation and records both events', async () => {
    const added = dataOf(await gw.gql(ADD, { m: photo.id, svg: '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>' }))
      .addMediaAnnotation;
    expect(dataOf(await gw.gql(DELETE, { m: photo.id, id: added.id })).deleteMediaAnnotation).toBe(added.id);
    expect(codesOf(await gw.gql(DELETE, { m: photo.id, id: added.id }))).toEqual(['NOT_FOUND']);
    const events = dataOf(
      await gw.gql(
        `query($a: ID!, $s: ID!) { events(applicationId: $a, sessionId: $s, types: [SESSION_MEDIA_ANNOTATION_CREATED, SESSION_MEDIA_ANNOTATION_DELETED], first: 100) {
          edges { node { type ... on MediaEvent { annotationId media { annotations { id } } } } } } }`,
        { a: place.applicationId, s: place.sessionId },
        ADMIN_TOKEN,
      ),
    ).events.edges.map((e: any) => e.node);
    const mine = events.filter((e: any) => e.annotationId === added.id);
    expect(mine.map((e: any) => e.type)).toEqual(['SESSION_MEDIA_ANNOTATION_CREATED', 'SESSION_MEDIA_ANNOTATION_DELETED']);
    // Events resolve the media as it is now: the annotation is gone from both.
    for (const event of mine) expect(event.media.annotations.map((a: any) => a.id)).not.toContain(added.id);
  });
});
