// Planned reads load a column only when the operation asks for a field that reads it
// (src/graphql/planned-columns.ts): the frontend's nested read does not carry a media row's
// hash, size, labels or timestamps. A field asked for brings its column in the same statement,
// and rows that come from elsewhere (mutation results, event snapshots) answer every field from
// their own values, without loading the row again.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, dataOf } from './helpers/factories.ts';
import { startGateway, untilQuiet, type TestGateway } from './helpers/gateway.ts';
import { createSession, uploadPhoto } from './helpers/media.ts';

const NESTED = `query N($a: ID!) {
  sessions(applicationId: $a, first: 50) { edges { node {
    id name properties participants { id type } application { name }
    media(first: 5) { edges { node { id title filename kind status } } }
  } } }
}`;
const MEDIA_FIELDS = 'id scope applicationId sessionId filename contentType kind size sha256 status source title labels properties createdBy createdAt modifiedAt';
const SESSION_FIELDS = 'id applicationId status isDraft version name description properties createdBy createdAt modifiedBy modifiedAt';

describe('planned columns', () => {
  let gw: TestGateway;
  let place: { applicationId: string; sessionId: string };
  let mediaId = '';

  /** The SQL of the statements one request sends, after the gateway has gone quiet. */
  const statementsOf = async (query: string, variables: Record<string, unknown>) => {
    await untilQuiet(gw);
    const counter = gw.database.handle.statements;
    counter.texts = [];
    try {
      const data = dataOf(await gw.gql(query, variables));
      return { data, texts: counter.texts };
    } finally {
      delete counter.texts;
    }
  };

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: mkdtempSync(join(tmpdir(), 'planned-columns-')), EVENT_POLL_MS: '0' });
    const app = await createApplication(gw);
    place = { applicationId: app.id, sessionId: await createSession(gw, app.id) };
    mediaId = (await uploadPhoto(gw, place, { title: 'valve', labels: ['north'], properties: { roomId: 'r1' } })).id;
  });
  afterAll(() => gw?.stop());

  it('reads in the nested read only the columns of the fields it asks for, in one statement', async () => {
    const { data, texts } = await statementsOf(NESTED, { a: place.applicationId });
    expect(data.sessions.edges[0].node.media.edges[0].node).toMatchObject({ id: mediaId, title: 'valve', kind: 'PHOTO', status: 'READY' });
    expect(texts).toHaveLength(1);
    const [statement] = texts as [string];
    for (const asked of ['"title"', '"filename"', '"kind"', '"status"', '"name"', '"properties"']) expect(statement).toContain(asked);
    // Neither the media's hash, size, labels, type or timestamps nor the session's description and times.
    for (const unasked of ['"sha256"', '"size"', '"labels"', '"content_type"', '"modified_at"', '"description"', '"is_draft"', '"modified_by"']) {
      expect(statement).not.toContain(unasked);
    }
  });

  it('brings a column in the same statement when a field that reads it is asked for', async () => {
    const query = `query($a: ID!, $s: ID!) { session(applicationId: $a, sessionId: $s) { ${SESSION_FIELDS}
      media(first: 5) { edges { node { ${MEDIA_FIELDS} } } } } }`;
    const { data, texts } = await statementsOf(query, { a: place.applicationId, s: place.sessionId });
    expect(texts).toHaveLength(1);
    const media = data.session.media.edges[0].node;
    const [row] = await gw.database.handle.db.query.mediaTable.findMany({ where: { id: mediaId } });
    expect(media).toEqual({
      id: mediaId,
      scope: 'SESSION',
      applicationId: place.applicationId,
      sessionId: place.sessionId,
      filename: 'photo.png',
      contentType: 'image/png',
      kind: 'PHOTO',
      size: Number(row!.size),
      sha256: row!.sha256,
      status: 'READY',
      source: 'UPLOAD',
      title: 'valve',
      labels: ['north'],
      properties: { roomId: 'r1' },
      createdBy: row!.createdBy,
      createdAt: row!.createdAt.toISOString(),
      modifiedAt: row!.modifiedAt.toISOString(),
    });
    expect(data.session).toMatchObject({ id: place.sessionId, status: 'OPEN', name: 'inspection', description: '', version: expect.any(Number) });
    expect(Date.parse(data.session.modifiedAt)).toBeGreaterThanOrEqual(Date.parse(data.session.createdAt));
  });

  it('answers every field of a mutation result from its own row, at the cost of asking for the id alone', async () => {
    const update = (fields: string) => `mutation($m: ID!) { updateSessionMedia(mediaId: $m, input: { title: "pump" }) { ${fields} } }`;
    const alone = await statementsOf(update('id'), { m: mediaId });
    const every = await statementsOf(update(MEDIA_FIELDS), { m: mediaId });
    expect(every.data.updateSessionMedia).toMatchObject({ id: mediaId, title: 'pump', contentType: 'image/png', labels: ['north'], source: 'UPLOAD' });
    expect(every.texts).toHaveLength(alone.texts!.length);
  });

  it('answers every field of an event snapshot from the snapshot, at the cost of asking for the id alone', async () => {
    const variables = { a: place.applicationId, s: place.sessionId };
    const patch = `mutation($a: ID!, $s: ID!) { patchSession(applicationId: $a, sessionId: $s, patch: { description: "after the storm" }) { id } }`;
    dataOf(await gw.gql(patch, variables));
    const history = (fields: string) => `query($a: ID!, $s: ID!) { events(applicationId: $a, sessionId: $s, types: [SESSION_UPDATED]) {
      edges { node { ... on SessionLifecycleEvent { session { ${fields} } } } } } }`;
    const alone = await statementsOf(history('id'), variables);
    const every = await statementsOf(history(SESSION_FIELDS), variables);
    const [event] = every.data.events.edges;
    expect(event.node.session).toMatchObject({ id: place.sessionId, description: 'after the storm', status: 'OPEN', isDraft: expect.any(Boolean) });
    expect(every.texts).toHaveLength(alone.texts!.length);
  });
});
