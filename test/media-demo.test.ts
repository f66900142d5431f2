// The demo seed brings a few generated photos with labels and an annotation, served as PNGs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/demo/seed.ts';
import { dataOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';

describe('demo media', () => {
  let gw: TestGateway;
  let applicationId: string;

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: mkdtempSync(join(tmpdir(), 'media-')) });
    applicationId = (await seedDemo(gw.db, { storage: gw.server.services.storage })).applicationId;
  });
  afterAll(() => gw?.stop());

  it('puts labelled photos, one annotated, on the first demo session', async () => {
    const sessions = dataOf(
      await gw.gql(
        `query($a: ID!) { sessions(applicationId: $a, status: [OPEN, CLOSED], first: 50) { edges { node { id
          media { totalCount edges { node { id kind labels annotations { svg } } } } } } } }`,
        { a: applicationId },
      ),
    ).sessions.edges.map((e: any) => e.node);
    const withMedia = sessions.filter((s: any) => s.media.totalCount > 0);
    expect(withMedia).toHaveLength(1);
    const photos = withMedia[0].media.edges.map((e: any) => e.node);
    expect(photos).toHaveLength(3);
    expect(photos.every((p: any) => p.kind === 'PHOTO' && p.labels.length > 0)).toBe(true);
    expect(photos.filter((p: any) => p.annotations.length === 1)).toHaveLength(1);
    const response = await fetch(`${gw.url}/media/${photos[0].id}/content`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await response.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
  });
});
