// The end of the log (issue 16): `events(last, before)` pages back from the newest event the
// viewer may read (Relay: ascending order, hasPreviousPage), `Session.events` too, and
// `Application.eventCursor` is a cursor meaning "now" that a subscription can start `after`
// without missing or repeating anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, createApplication, dataOf, userWithRole, type TestUser } from './helpers/factories.ts';
import { startGateway, untilQuiet, type TestGateway } from './helpers/gateway.ts';
import { APPLICATION_EVENTS, CUSTOM_EVENT, subscribeWs, wsClient } from './helpers/live-clients.ts';
import { createSession } from './helpers/media.ts';

const PAGE = `query($a: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  events(applicationId: $a, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id sessionId } }
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }`;
const SESSION_PAGE = `query($a: ID!, $s: ID!, $last: Int, $before: String) {
  session(applicationId: $a, sessionId: $s) { events(last: $last, before: $before) { edges { node { id sessionId } } pageInfo { hasPreviousPage } } } }`;
const CURSOR = `query($a: ID!) { application(applicationId: $a) { eventCursor } }`;
const ADD_PARTICIPANT = `mutation($a: ID!, $s: ID!, $p: ParticipantInput!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: $p) { id } }`;

let gw: TestGateway;
let app: { id: string; roles: Record<string, string> };
let mine: string;
let theirs: string;
let participant: TestUser;

const emit = async (session: string, n: number) => dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s: session, data: { n } })).createSessionEvent;
const page = async (vars: Record<string, unknown>, token?: string) => dataOf(await gw.gql(PAGE, { a: app.id, ...vars }, token)).events;
const ids = (connection: any) => connection.edges.map((edge: any) => edge.node.id);

beforeAll(async () => {
  gw = await startGateway();
  app = await createApplication(gw);
  participant = await userWithRole(gw, app.id, app.roles.User!);
  mine = await createSession(gw, app.id);
  theirs = await createSession(gw, app.id);
  dataOf(await gw.gql(ADD_PARTICIPANT, { a: app.id, s: mine, p: { id: participant.id, type: 'USER' } }));
  // Interleaved, and the newest events of the application in the session the participant is not in.
  for (let n = 0; n < 6; n++) {
    await emit(mine, n);
    await emit(theirs, n);
  }
  await emit(theirs, 100);
  await emit(theirs, 101);
});
afterAll(() => gw?.stop());

describe('events(last, before)', () => {
  it('last N: the N newest events each viewer may read, oldest first, with hasPreviousPage', async () => {
    for (const [who, token] of [['admin', undefined], ['participant', participant.token]] as const) {
      const all = ids(await page({ first: 100 }, token));
      const newest = await page({ last: 4 }, token);
      expect(ids(newest), who).toEqual(all.slice(-4));
      expect(newest.pageInfo, who).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
      // Back one page from there: the four before, still ascending.
      const previous = await page({ last: 4, before: newest.pageInfo.startCursor }, token);
      expect(ids(previous), who).toEqual(all.slice(-8, -4));
      expect(previous.pageInfo.hasNextPage, who).toBe(true);
      // All of it from the end: no earlier page.
      const whole = await page({ last: 100 }, token);
      expect(ids(whole), who).toEqual(all);
      expect(whole.pageInfo.hasPreviousPage, who).toBe(false);
    }
    // The participant sees only its session's events: its newest are not the application's newest.
    const seen = (await page({ last: 3 }, participant.token)).edges.map((edge: any) => edge.node.sessionId);
    expect(new Set(seen)).toEqual(new Set([mine]));
    expect((await page({ last: 1 })).edges[0].node.sessionId).toBe(theirs);
  });

  it('after and before together bound the range from both sides', async () => {
    const all = (await page({ first: 100 })).edges;
    const range = await page({ last: 100, after: all[2].cursor, before: all[7].cursor });
    expect(ids(range)).toEqual(all.slice(3, 7).map((edge: any) => edge.node.id));
    const forward = await page({ first: 2, after: all[2].cursor, before: all[7].cursor });
    expect(ids(forward)).toEqual(all.slice(3, 5).map((edge: any) => edge.node.id));
    expect(forward.pageInfo.hasNextPage).toBe(true);
  });

  it('Session.events(last) gives the newest events of each session', async () => {
    const history = ids(await page({ first: 100 }, participant.token));
    const session = dataOf(await gw.gql(SESSION_PAGE, { a: app.id, s: mine, last: 2 }, participant.token)).session.events;
    expect(session.edges.map((edge: any) => edge.node.id)).toEqual(history.slice(-2));
    expect(session.pageInfo.hasPreviousPage).toBe(true);
  });

  it('refuses bad sizes and cursors with BAD_USER_INPUT naming the argument', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ last: -1 }, 'last'],
      [{ last: 101 }, 'last'],
      [{ first: -5 }, 'first'],
      [{ first: 101 }, 'first'],
      [{ first: 2, last: 2 }, 'last'],
      [{ last: 2, before: 'not-a-cursor' }, 'before'],
      [{ last: 2, before: Buffer.from('event:99999999').toString('base64url') }, 'before'],
      [{ first: 2, after: 'bm9wZQ' }, 'after'],
    ];
    for (const [vars, field] of cases) {
      const response = await gw.gql(PAGE, { a: app.id, ...vars });
      expect(codesOf(response), JSON.stringify(vars)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.extensions!.field, JSON.stringify(vars)).toBe(field);
    }
    const session = await gw.gql(SESSION_PAGE, { a: app.id, s: mine, last: -1 });
    expect(codesOf(session)).toEqual(['BAD_USER_INPUT']);
  });

  it('costs the same number of statements whatever the page size', async () => {
    const cursor = (await page({ last: 1 })).pageInfo.startCursor;
    const cost = async (vars: Record<string, unknown>) => {
      await untilQuiet(gw);
      const before = gw.database.handle.statements.count;
      dataOf(await gw.gql(PAGE, { a: app.id, ...vars }, participant.token));
      return gw.database.handle.statements.count - before;
    };
    await cost({ last: 1 }); // warm the viewer
    const counts = [await cost({ last: 1 }), await cost({ last: 100 }), await cost({ last: 1, before: cursor }), await cost({ last: 100, before: cursor })];
    expect(counts[0]).toBe(counts[1]);
    expect(counts[2]).toBe(counts[3]);
    expect(counts[2]! - counts[0]!).toBeLessThanOrEqual(1); // the cursor's check against the end of the log
  });
});

describe('Application.eventCursor', () => {
  it('is "now": a subscription after it gets exactly what is created from then on, none before, none missed', async () => {
    const eventCursor = dataOf(await gw.gql(CURSOR, { a: app.id }, participant.token)).application.eventCursor as string;
    expect(typeof eventCursor).toBe('string');
    // Created after asking and before subscribing: replayed; then live ones.
    const early = [await emit(mine, 200), await emit(mine, 201)];
    const client = wsClient(gw, participant.token);
    const stream = subscribeWs(client, APPLICATION_EVENTS, { a: app.id, after: eventCursor });
    const late = [await emit(theirs, 300), await emit(mine, 301), await emit(mine, 302)];
    await stream.untilEvents(4);
    await emit(mine, 303).then((last) => late.push(last));
    await stream.untilEvents(5);
    const wanted = [...early, late[1], late[2], late[3]].map((event) => event.id); // not the session it is not in
    expect(stream.events.map((event) => event.id)).toEqual(wanted);
    stream.dispose();
    await client.dispose();
  });

  it('answers the same cursor for every application of a request: the newest event of the log', async () => {
    const other = await createApplication(gw);
    const response = dataOf(await gw.gql(`query($a: ID!, $b: ID!) { a: application(applicationId: $a) { eventCursor } b: application(applicationId: $b) { eventCursor } }`, { a: app.id, b: other.id }));
    expect(response.a.eventCursor).toBe(response.b.eventCursor);
    const newest = (await page({ last: 1 })).edges[0].cursor;
    expect(response.a.eventCursor).toBe(newest);
    const asPage = await page({ first: 10, after: response.a.eventCursor });
    expect(asPage.edges).toEqual([]);
    expect(asPage.pageInfo.endCursor).toBe(response.a.eventCursor);
  });
});
