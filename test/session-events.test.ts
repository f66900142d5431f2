// SPEC 5: every session change writes its event in the same transaction; the history pages in
// cursor order, filtered by type, only for sessions the viewer may read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, createApplication, dataOf, unique, userWithRole } from './helpers/factories.ts';
import { startGateway, untilQuiet, type TestGateway } from './helpers/gateway.ts';

const EVENT_FIELDS = `id type applicationId sessionId source userId createdAt timestamp version cursor
  ... on SessionLifecycleEvent { session { id name description status properties participants { id type } } }
  ... on SessionDataEvent { data }`;
const EVENTS = `query($a: ID!, $s: ID, $types: [EventType!], $first: Int, $after: String) {
  events(applicationId: $a, sessionId: $s, types: $types, first: $first, after: $after) {
    edges { cursor node { ${EVENT_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw?.stop());

/**
 * The fewest statements `measure` counted in three runs, once the gateway is quiet: the event
 * hub reads new events after each wake-up on the same pool, so its statements can land in a
 * measuring window.
 */
async function fewestStatements(measure: () => Promise<number>): Promise<number> {
  await untilQuiet(gw, 300);
  return Math.min(await measure(), await measure(), await measure());
}

const eventsOf = async (vars: Record<string, unknown>, token?: string) =>
  dataOf(await gw.gql(EVENTS, { first: 100, ...vars }, token)).events.edges.map((e: any) => e.node);

describe('events of session changes', () => {
  it('records each mutation with its type, order, actor, version and payload', async () => {
    const app = await createApplication(gw);
    const user = await userWithRole(gw, app.id, app.roles.User!);
    const other = dataOf(await gw.gql(`mutation($n: String!) { createUser(username: $n) { id } }`, { n: unique('u') })).createUser.id;
    const s = dataOf(
      await gw.gql(`mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }`, { i: { applicationId: app.id, name: 'One' } }, user.token),
    ).createSession.id;
    const v = { a: app.id, s };
    const run = async (mutation: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
      dataOf(await gw.gql(mutation, { ...v, ...extra }, user.token, headers));
    await run(`mutation($a: ID!, $s: ID!) { patchSession(applicationId: $a, sessionId: $s, patch: { name: "Two", properties: { k: "v" } }) { id } }`);
    await run(`mutation($a: ID!, $s: ID!) { patchSessionData(applicationId: $a, sessionId: $s, data: { x: 1 }) }`, {}, {
      'x-client-timestamp': '2026-01-02T03:04:05.000Z',
    });
    await run(`mutation($a: ID!, $s: ID!, $u: ID!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: { id: $u }) { id } }`, { u: other });
    await run(`mutation($a: ID!, $s: ID!, $u: ID!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: { id: $u }) { id } }`, { u: other });
    const custom = (
      await run(`mutation($a: ID!, $s: ID!) { createSessionEvent(applicationId: $a, sessionId: $s, data: { step: 3 }, timestamp: "2025-05-05T05:05:05.000Z") { id type data timestamp cursor } }`)
    ).createSessionEvent;
    expect(custom).toMatchObject({ type: 'SESSION_EVENT_CREATED', data: { step: 3 }, timestamp: '2025-05-05T05:05:05.000Z' });
    await run(`mutation($a: ID!, $s: ID!) { closeSession(applicationId: $a, sessionId: $s) { id } }`);
    await run(`mutation($a: ID!, $s: ID!) { closeSession(applicationId: $a, sessionId: $s) { id } }`);

    const events = await eventsOf({ a: app.id, s });
    expect(events.map((e: any) => e.type)).toEqual([
      'SESSION_CREATED',
      'SESSION_UPDATED',
      'SESSION_PROPERTIES_UPDATED',
      'SESSION_DATA_UPDATED',
      'SESSION_PARTICIPANT_ADDED',
      'SESSION_EVENT_CREATED',
      'SESSION_CLOSED',
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ applicationId: app.id, sessionId: s, source: 'skylight', userId: user.id, version: 1 });
    }
    const [created, updated, propsUpdated, data, added, customEvent, closed] = events;
    expect(created.session).toMatchObject({ id: s, name: 'One', status: 'OPEN', participants: [{ id: user.id, type: 'USER' }] });
    expect(updated.session).toMatchObject({ name: 'Two', properties: { k: 'v' } });
    expect(propsUpdated.session.properties).toEqual({ k: 'v' });
    expect(data.data).toEqual({ x: 1 });
    expect(data.timestamp).toBe('2026-01-02T03:04:05.000Z');
    expect(created.timestamp).toBe(created.createdAt);
    expect(added.session.participants).toContainEqual({ id: other, type: 'USER' });
    expect(customEvent).toMatchObject({ id: custom.id, cursor: custom.cursor, data: { step: 3 } });
    expect(closed.session.status).toBe('CLOSED');
  });

  it('leaves no event behind a failed mutation', async () => {
    const app = await createApplication(gw);
    const s = dataOf(await gw.gql(`mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }`, { i: { applicationId: app.id, name: 'x' } })).createSession.id;
    const bad = await gw.gql(`mutation($a: ID!, $s: ID!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: { id: "00000000-0000-4000-8000-000000000000" }) { id } }`, { a: app.id, s });
    expect(codesOf(bad)).toEqual(['NOT_FOUND']);
    const badName = await gw.gql(`mutation($a: ID!, $s: ID!) { updateSessionName(applicationId: $a, sessionId: $s, name: " ") { id } }`, { a: app.id, s });
    expect(codesOf(badName)).toEqual(['BAD_USER_INPUT']);
    expect((await eventsOf({ a: app.id, s })).map((e: any) => e.type)).toEqual(['SESSION_CREATED']);
  });
});

describe('events query', () => {
  it('pages in cursor order, filters by type, and resumes after a cursor', async () => {
    const app = await createApplication(gw);
    const s = dataOf(await gw.gql(`mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }`, { i: { applicationId: app.id, name: 'x' } })).createSession.id;
    for (let i = 0; i < 7; i++) {
      dataOf(await gw.gql(`mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $d) }`, { a: app.id, s, d: { i } }));
    }
    const all = await eventsOf({ a: app.id });
    expect(all).toHaveLength(8);
    const seen: any[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = dataOf(await gw.gql(EVENTS, { a: app.id, first: 3, after })).events;
      seen.push(...page.edges.map((e: any) => e.node));
      for (const edge of page.edges) expect(edge.cursor).toBe(edge.node.cursor);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen.map((e) => e.id)).toEqual(all.map((e: any) => e.id));
    const onlyData = await eventsOf({ a: app.id, types: ['SESSION_DATA_UPDATED'] });
    expect(onlyData.map((e: any) => e.data.i)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const rest = await eventsOf({ a: app.id, after: onlyData[4].cursor });
    expect(rest.map((e: any) => e.data.i)).toEqual([5, 6]);
    const viaSession = dataOf(
      await gw.gql(`query($a: ID!, $s: ID!) { session(applicationId: $a, sessionId: $s) { events(types: [SESSION_CREATED]) { edges { node { type } } } } }`, { a: app.id, s }),
    ).session.events.edges;
    expect(viaSession).toEqual([{ node: { type: 'SESSION_CREATED' } }]);
  });

  it('refuses malformed and unknown cursors with BAD_USER_INPUT', async () => {
    const app = await createApplication(gw);
    expect(codesOf(await gw.gql(EVENTS, { a: app.id, after: 'garbage!' }))).toEqual(['BAD_USER_INPUT']);
    const unknown = Buffer.from('event:999999999').toString('base64url');
    expect(codesOf(await gw.gql(EVENTS, { a: app.id, after: unknown }))).toEqual(['BAD_USER_INPUT']);
  });

  it('shows only the events of sessions the viewer may read', async () => {
    const app = await createApplication(gw);
    const alice = await userWithRole(gw, app.id, app.roles.User!);
    const bob = await userWithRole(gw, app.id, app.roles.User!);
    const create = (token: string) =>
      gw.gql(`mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }`, { i: { applicationId: app.id, name: 'x' } }, token).then(dataOf);
    const mine = (await create(alice.token)).createSession.id;
    const hidden = (await create(bob.token)).createSession.id;
    const seen = await eventsOf({ a: app.id }, alice.token);
    expect(seen.map((e: any) => e.sessionId)).toEqual([mine]);
    expect(codesOf(await gw.gql(EVENTS, { a: app.id, s: hidden }, alice.token))).toEqual(['NOT_FOUND']);
  });
});

describe('cost', () => {
  it('reads sessions(first: 50) { participants application { name } } in a fixed number of statements', async () => {
    const app = await createApplication(gw);
    const query = `query($a: ID!, $n: Int) { sessions(applicationId: $a, first: $n) { totalCount edges { node { id participants { id } application { name } } } } }`;
    const count = async (n: number) => {
      const before = gw.database.handle.statements.count;
      const page = dataOf(await gw.gql(query, { a: app.id, n })).sessions;
      expect(page.edges).toHaveLength(Math.min(n, 50));
      return gw.database.handle.statements.count - before;
    };
    for (let i = 0; i < 50; i++) {
      dataOf(await gw.gql(`mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }`, { i: { applicationId: app.id, name: `s${i}` } }));
    }
    const lowest = (n: number) => fewestStatements(() => count(n));
    const small = await lowest(2);
    const large = await lowest(50);
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(5);
  });

  it('reads the histories of a page of sessions in a fixed number of statements', async () => {
    const app = await createApplication(gw);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const s = dataOf(await gw.gql(`mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }`, { i: { applicationId: app.id, name: `s${i}` } })).createSession.id;
      for (let j = 0; j <= i % 4; j++) {
        dataOf(await gw.gql(`mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $d) }`, { a: app.id, s, d: { j } }));
      }
      ids.push(s);
    }
    const query = `query($a: ID!, $n: Int) { sessions(applicationId: $a, first: $n) { edges { node { id
      events(first: 2, types: [SESSION_DATA_UPDATED]) { edges { node { sessionId ... on SessionDataEvent { data } } } pageInfo { hasNextPage } } } } } }`;
    const page = async (n: number) => dataOf(await gw.gql(query, { a: app.id, n })).sessions.edges.map((e: any) => e.node);
    const statements = (n: number) =>
      fewestStatements(async () => {
        const before = gw.database.handle.statements.count;
        await page(n);
        return gw.database.handle.statements.count - before;
      });
    expect(await statements(12)).toBe(await statements(2));
    for (const session of await page(12)) {
      const patches = ids.indexOf(session.id) % 4 + 1;
      expect(session.events.edges.map((e: any) => e.node.data.j)).toEqual([0, 1].slice(0, Math.min(patches, 2)));
      expect(session.events.edges.every((e: any) => e.node.sessionId === session.id)).toBe(true);
      expect(session.events.pageInfo.hasNextPage).toBe(patches > 2);
    }
  });
});
