// SPEC 3: creating, reading, listing and changing sessions, with visibility.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../src/domain/rows.ts';
import { codesOf, createApplication, createRole, createUser, dataOf, unique, userWithRole } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

const SESSION_FIELDS = `id applicationId status isDraft version name description participants { id type } properties data
  createdBy createdAt modifiedBy modifiedAt application { id name }`;
const CREATE = `mutation($input: CreateSessionInput!) { createSession(input: $input) { ${SESSION_FIELDS} } }`;
const GET = `query($a: ID!, $s: ID!) { session(applicationId: $a, sessionId: $s) { ${SESSION_FIELDS} } }`;
const PATCH = `mutation($a: ID!, $s: ID!, $patch: SessionPatch!) { patchSession(applicationId: $a, sessionId: $s, patch: $patch) { ${SESSION_FIELDS} } }`;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw?.stop());

async function createSession(applicationId: string, input: Record<string, unknown> = {}, token?: string) {
  return dataOf(await gw.gql(CREATE, { input: { applicationId, name: unique('session'), ...input } }, token)).createSession;
}

describe('createSession', () => {
  it('defaults description, properties and data, adds the creator, and records who and when', async () => {
    const app = await createApplication(gw);
    const user = await userWithRole(gw, app.id, app.roles.User!);
    const session = await createSession(app.id, { name: 'Inspection 1' }, user.token);
    expect(session).toMatchObject({
      applicationId: app.id,
      status: 'OPEN',
      name: 'Inspection 1',
      description: '',
      properties: {},
      data: {},
      createdBy: user.id,
      modifiedBy: user.id,
      participants: [{ id: user.id, type: 'USER' }],
      application: { id: app.id },
    });
    expect(Date.parse(session.createdAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('takes the draft version before publishing and the published version after', async () => {
    const app = await createApplication(gw);
    expect(await createSession(app.id)).toMatchObject({ version: 1, isDraft: true });
    await gw.gql(`mutation($a: ID!) { publishApplication(applicationId: $a) { id } }`, { a: app.id });
    expect(await createSession(app.id)).toMatchObject({ version: 1, isDraft: false });
    await gw.gql(`mutation($a: ID!) { updateApplication(applicationId: $a, input: { description: "v2" }) { id } }`, { a: app.id });
    expect(await createSession(app.id)).toMatchObject({ version: 1, isDraft: false });
    expect(await createSession(app.id, { version: 2 })).toMatchObject({ version: 2, isDraft: true });
  });

  it('refuses an empty name and non-string properties with BAD_USER_INPUT, creating nothing', async () => {
    const app = await createApplication(gw);
    expect(codesOf(await gw.gql(CREATE, { input: { applicationId: app.id, name: '  ' } }))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await gw.gql(CREATE, { input: { applicationId: app.id, name: 'x', properties: { a: 1 } } }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const list = dataOf(await gw.gql(`query($a: ID!) { sessions(applicationId: $a) { totalCount } }`, { a: app.id }));
    expect(list.sessions.totalCount).toBe(0);
  });

  it('needs session:create', async () => {
    const app = await createApplication(gw);
    const reader = await userWithRole(gw, app.id, await createRole(gw, app.id, ['application:read', 'session:read:any']));
    const refused = await gw.gql(CREATE, { input: { applicationId: app.id, name: 'x' } }, reader.token);
    expect(codesOf(refused)).toEqual(['FORBIDDEN']);
    expect(refused.errors![0]).toMatchObject({ path: ['createSession'], locations: [{ line: 1 }] });
  });
});

describe('visibility', () => {
  it('shows participants their sessions, directly or through a group, and hides the rest as NOT_FOUND', async () => {
    const app = await createApplication(gw);
    const alice = await userWithRole(gw, app.id, app.roles.User!);
    const bob = await userWithRole(gw, app.id, app.roles.User!);
    const mine = await createSession(app.id, {}, alice.token);
    const other = await createSession(app.id, {}, bob.token);
    const hidden = await gw.gql(GET, { a: app.id, s: other.id }, alice.token);
    expect(codesOf(hidden)).toEqual(['NOT_FOUND']);
    expect(hidden.errors![0]!.path).toEqual(['session']);
    expect(dataOf(await gw.gql(GET, { a: app.id, s: mine.id }, alice.token)).session.id).toBe(mine.id);
    const list = dataOf(await gw.gql(`query($a: ID!) { sessions(applicationId: $a) { totalCount edges { node { id } } } }`, { a: app.id }, alice.token));
    expect(list.sessions.edges.map((e: any) => e.node.id)).toEqual([mine.id]);
    expect(list.sessions.totalCount).toBe(1);

    const group = dataOf(await gw.gql(`mutation($n: String!) { createGroup(name: $n) { id } }`, { n: unique('g') })).createGroup.id;
    await gw.gql(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: group, u: alice.id });
    const added = await gw.gql(
      `mutation($a: ID!, $s: ID!, $g: ID!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: { id: $g, type: GROUP }) { participants { id type } } }`,
      { a: app.id, s: other.id, g: group },
      bob.token,
    );
    expect(dataOf(added).addSessionParticipant.participants).toContainEqual({ id: group, type: 'GROUP' });
    expect(dataOf(await gw.gql(GET, { a: app.id, s: other.id }, alice.token)).session.id).toBe(other.id);
    const after = dataOf(await gw.gql(`query($a: ID!) { application(applicationId: $a) { sessions { totalCount edges { node { id } } } } }`, { a: app.id }, alice.token));
    expect(after.application.sessions.edges.map((e: any) => e.node.id).sort()).toEqual([mine.id, other.id].sort());
    expect(after.application.sessions.totalCount).toBe(2);
  });

  it('lets session:read:any see every session but not change it without an update permission', async () => {
    const app = await createApplication(gw);
    const author = await userWithRole(gw, app.id, app.roles.User!);
    const session = await createSession(app.id, {}, author.token);
    const viewer = await userWithRole(gw, app.id, await createRole(gw, app.id, ['application:read', 'session:read:any']));
    expect(dataOf(await gw.gql(GET, { a: app.id, s: session.id }, viewer.token)).session.id).toBe(session.id);
    const rename = await gw.gql(PATCH, { a: app.id, s: session.id, patch: { name: 'no' } }, viewer.token);
    expect(codesOf(rename)).toEqual(['FORBIDDEN']);
  });

  it('answers NOT_FOUND for unknown and malformed ids alike', async () => {
    const app = await createApplication(gw);
    expect(codesOf(await gw.gql(GET, { a: app.id, s: '00000000-0000-4000-8000-000000000000' }))).toEqual(['NOT_FOUND']);
    expect(codesOf(await gw.gql(GET, { a: app.id, s: 'nope' }))).toEqual(['NOT_FOUND']);
  });
});

describe('sessions list', () => {
  it('lists open sessions by default, filters by status and by every given property', async () => {
    const app = await createApplication(gw);
    const a = await createSession(app.id, { properties: { site: 'north', line: '1' } });
    const b = await createSession(app.id, { properties: { site: 'north', line: '2' } });
    const c = await createSession(app.id, { properties: { site: 'south', line: '1' } });
    dataOf(await gw.gql(`mutation($a: ID!, $s: ID!) { closeSession(applicationId: $a, sessionId: $s) { status } }`, { a: app.id, s: c.id }));
    const list = async (vars: Record<string, unknown>) =>
      dataOf(
        await gw.gql(
          `query($a: ID!, $st: [SessionStatus!], $p: StringMap) { sessions(applicationId: $a, status: $st, properties: $p) { totalCount edges { node { id } } } }`,
          { a: app.id, ...vars },
        ),
      ).sessions;
    expect((await list({})).edges.map((e: any) => e.node.id)).toEqual([b.id, a.id]);
    expect((await list({ st: ['CLOSED'] })).edges.map((e: any) => e.node.id)).toEqual([c.id]);
    expect((await list({ st: ['OPEN', 'CLOSED'] })).totalCount).toBe(3);
    expect((await list({ st: ['OPEN', 'CLOSED'], p: { line: '1' } })).edges.map((e: any) => e.node.id)).toEqual([c.id, a.id]);
    expect((await list({ p: { site: 'north', line: '2' } })).edges.map((e: any) => e.node.id)).toEqual([b.id]);
    expect((await list({ p: { site: 'east' } })).totalCount).toBe(0);
  });

  it('pages newest first and visits every session exactly once while sessions are being created', async () => {
    const app = await createApplication(gw);
    const created: string[] = [];
    for (let i = 0; i < 12; i++) created.push((await createSession(app.id)).id);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = dataOf(
        await gw.gql(
          `query($a: ID!, $after: String) { sessions(applicationId: $a, first: 5, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
          { a: app.id, after },
        ),
      ).sessions;
      seen.push(...page.edges.map((e: any) => e.node.id));
      await createSession(app.id); // newer ones land before the cursor and do not shift the pages
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual([...created].reverse());
  });
});

describe('patchSession and friends', () => {
  it('changes only the given fields; properties replace the whole dictionary', async () => {
    const app = await createApplication(gw);
    const session = await createSession(app.id, { description: 'first', properties: { a: '1', b: '2' } });
    const patched = dataOf(await gw.gql(PATCH, { a: app.id, s: session.id, patch: { name: 'Renamed' } })).patchSession;
    expect(patched).toMatchObject({ name: 'Renamed', description: 'first', properties: { a: '1', b: '2' }, status: 'OPEN' });
    const replaced = dataOf(await gw.gql(PATCH, { a: app.id, s: session.id, patch: { properties: { c: '3' } } })).patchSession;
    expect(replaced.properties).toEqual({ c: '3' });
    expect(Date.parse(replaced.modifiedAt)).toBeGreaterThanOrEqual(Date.parse(session.modifiedAt));
    const closed = dataOf(await gw.gql(PATCH, { a: app.id, s: session.id, patch: { status: 'CLOSED' } })).patchSession;
    expect(closed.status).toBe('CLOSED');
  });

  it('updateSessionProperties, updateSessionName, updateSessionDescription (omitted = "")', async () => {
    const app = await createApplication(gw);
    const session = await createSession(app.id, { description: 'something', properties: { a: '1' } });
    const v = { a: app.id, s: session.id };
    const props = await gw.gql(`mutation($a: ID!, $s: ID!) { updateSessionProperties(applicationId: $a, sessionId: $s, properties: { x: "y" }) { properties } }`, v);
    expect(dataOf(props).updateSessionProperties.properties).toEqual({ x: 'y' });
    const badProps = await gw.gql(`mutation($a: ID!, $s: ID!) { updateSessionProperties(applicationId: $a, sessionId: $s, properties: { x: 1 }) { properties } }`, v);
    expect(codesOf(badProps)).toEqual(['BAD_USER_INPUT']);
    const name = await gw.gql(`mutation($a: ID!, $s: ID!) { updateSessionName(applicationId: $a, sessionId: $s, name: "N") { name } }`, v);
    expect(dataOf(name).updateSessionName.name).toBe('N');
    const description = await gw.gql(`mutation($a: ID!, $s: ID!) { updateSessionDescription(applicationId: $a, sessionId: $s) { description } }`, v);
    expect(dataOf(description).updateSessionDescription.description).toBe('');
    const now = dataOf(await gw.gql(GET, v)).session;
    expect(now).toMatchObject({ name: 'N', description: '', properties: { x: 'y' } });
  });

  it('addSessionParticipant defaults to USER, needs an existing user or group, and is idempotent', async () => {
    const app = await createApplication(gw);
    const session = await createSession(app.id);
    const user = await createUser(gw);
    const add = (participant: Record<string, unknown>) =>
      gw.gql(
        `mutation($a: ID!, $s: ID!, $p: ParticipantInput!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: $p) { participants { id type } } }`,
        { a: app.id, s: session.id, p: participant },
      );
    const first = dataOf(await add({ id: user.id })).addSessionParticipant.participants;
    expect(first).toContainEqual({ id: user.id, type: 'USER' });
    const again = dataOf(await add({ id: user.id })).addSessionParticipant.participants;
    expect(again).toEqual(first);
    expect(codesOf(await add({ id: '00000000-0000-4000-8000-000000000000' }))).toEqual(['NOT_FOUND']);
    expect(codesOf(await add({ id: user.id, type: 'GROUP' }))).toEqual(['NOT_FOUND']);
  });
});

describe('the properties filter', () => {
  it('is served by the GIN index on session properties', async () => {
    const plan = await gw.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return tx.execute(sql`explain select id from session where properties @> ${JSON.stringify({ site: 'north' })}::text::jsonb`);
    });
    const text = rowsOf<Record<string, string>>(plan)
      .map((row) => Object.values(row)[0])
      .join('\n');
    expect(text).toContain('session_properties_idx');
  });
});
