// Annotation SVG costs bounded work: a deeply nested or huge document is refused with
// BAD_USER_INPUT by the streaming sanitiser's element and depth bounds (SVG_LIMITS) after a
// linear pass, and the process keeps answering other requests meanwhile. On the old
// DOMPurify-on-jsdom sanitiser one such 50 KB annotation held the event loop for seconds
// (or overflowed the stack), so ten in flight kept /health waiting past this test's timeout.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SVG_LIMITS } from '../src/domain/svg.ts';
import { codesOf, createApplication, dataOf } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, uploadPhoto } from './helpers/media.ts';

const ADD = `mutation($m: ID!, $svg: String!) { addMediaAnnotation(mediaId: $m, svg: $svg) { id svg } }`;
const NESTED_50K = '<svg>' + '<g>'.repeat(10000) + '</g>'.repeat(5000);
const NESTED_250K = '<svg xmlns="http://www.w3.org/2000/svg">' + '<g>'.repeat(50_000) + '</g>'.repeat(25_000);

describe('bounded SVG annotations', () => {
  let gw: TestGateway;
  let photo: any;

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: mkdtempSync(join(tmpdir(), 'media-')) });
    const app = await createApplication(gw);
    const place = { applicationId: app.id, sessionId: await createSession(gw, app.id) };
    photo = await uploadPhoto(gw, place);
  });
  afterAll(() => gw?.stop());

  it('refuses ten 50 KB nested annotations with BAD_USER_INPUT while /health keeps answering', { timeout: 20_000 }, async () => {
    const order: string[] = [];
    const mutations = Array.from({ length: 10 }, (_, i) =>
      gw.gql(ADD, { m: photo.id, svg: NESTED_50K }).then((response) => {
        order.push(`mutation ${i}`);
        return response;
      }),
    );
    // Sent while the ten are in flight; each answer needs the event loop free.
    const health = Array.from({ length: 3 }, () =>
      fetch(`${gw.url}/health`).then(async (response) => {
        order.push('health');
        return response.status;
      }),
    );
    const answers = await Promise.all(mutations);
    expect(await Promise.all(health)).toEqual([200, 200, 200]);
    for (const answer of answers) expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
    expect(answers[0]!.errors![0]!.message).toMatch(new RegExp(`${SVG_LIMITS.maxDepth} elements deep`));
    expect(order.filter((entry) => entry === 'health')).toHaveLength(3);
  });

  it('refuses 250 KB of nested <g> from the hostile corpus without crashing', { timeout: 20_000 }, async () => {
    expect(Buffer.byteLength(NESTED_250K)).toBeGreaterThan(250_000);
    expect(codesOf(await gw.gql(ADD, { m: photo.id, svg: NESTED_250K }))).toEqual(['BAD_USER_INPUT']);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });

  it('refuses more elements than the bound, keeps a document at the bound', { timeout: 20_000 }, async () => {
    const flat = (count: number) => `<svg xmlns="http://www.w3.org/2000/svg">${'<rect/>'.repeat(count - 1)}</svg>`;
    const over = await gw.gql(ADD, { m: photo.id, svg: flat(SVG_LIMITS.maxElements + 1) });
    expect(codesOf(over)).toEqual(['BAD_USER_INPUT']);
    const at = dataOf(await gw.gql(ADD, { m: photo.id, svg: flat(SVG_LIMITS.maxElements) })).addMediaAnnotation;
    expect(at.svg.match(/<rect\/>/g)).toHaveLength(SVG_LIMITS.maxElements - 1);
  });

  it('refuses an element with more attributes than the bound', async () => {
    const attributes = (count: number) => Array.from({ length: count }, (_, i) => `data-a${i}="1"`).join(' ');
    const over = `<svg xmlns="http://www.w3.org/2000/svg"><rect ${attributes(SVG_LIMITS.maxAttributes + 1)}/></svg>`;
    expect(codesOf(await gw.gql(ADD, { m: photo.id, svg: over }))).toEqual(['BAD_USER_INPUT']);
    const at = `<svg xmlns="http://www.w3.org/2000/svg"><rect ${attributes(SVG_LIMITS.maxAttributes)}/></svg>`;
    expect(dataOf(await gw.gql(ADD, { m: photo.id, svg: at })).addMediaAnnotation.svg).toContain(`data-a${SVG_LIMITS.maxAttributes - 1}="1"`);
  });

  it('refuses what is not well-formed XML or carries a DOCTYPE', async () => {
    for (const svg of [
      '<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>',
      '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>',
    ]) {
      expect(codesOf(await gw.gql(ADD, { m: photo.id, svg }))).toEqual(['BAD_USER_INPUT']);
    }
  });
});
