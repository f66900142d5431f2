// SPEC 5: applicationEvents and sessionEvents stream over graphql-ws and SSE, filtered by
// type and by what the subscriber may read at delivery time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, createApplication, dataOf, unique, userWithRole } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import {
  APPLICATION_EVENTS,
  CREATE_SESSION,
  CUSTOM_EVENT,
  positionOf,
  SESSION_EVENTS,
  subscribeSse,
  subscribeWs,
  wsClient,
  type Stream,
} from './helpers/live-clients.ts';

let gw: TestGateway;
const streams: Stream[] = [];
const clients: { dispose(): unknown }[] = [];
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  for (const stream of streams) stream.dispose();
  await Promise.all(clients.map((client) => client.dispose()));
  await gw?.stop();
});

function hubCount() {
  return gw.server.services.events.subscriberCount;
}

/** Resolves once the hub has registered one more subscriber: from then on nothing is missed. */
async function registered(stream: Stream, before: number) {
  const deadline = Date.now() + 10_000;
  while (hubCount() <= before && !stream.ended) {
    if (Date.now() > deadline) throw new Error('the subscription never reached the hub');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return stream;
}

function ws(token: string, query: string, variables: Record<string, unknown>) {
  const before = hubCount();
  const client = wsClient(gw, token);
  clients.push(client);
  const stream = subscribeWs(client, query, variables);
  streams.push(stream);
  return registered(stream, before);
}

function sse(token: string, query: string, variables: Record<string, unknown>) {
  const before = hubCount();
  const stream = subscribeSse(gw, token, query, variables);
  streams.push(stream);
  return registered(stream, before);
}

async function createSession(applicationId: string, token = ADMIN_TOKEN): Promise<string> {
  return dataOf(await gw.gql(CREATE_SESSION, { input: { applicationId, name: unique('s') } }, token)).createSession.id;
}

async function customEvent(applicationId: string, sessionId: string, data: unknown, token = ADMIN_TOKEN) {
  return dataOf(await gw.gql(CUSTOM_EVENT, { a: applicationId, s: sessionId, data }, token)).createSessionEvent;
}

/** Subscribes, then proves the stream is live by waiting for a marker event it must see. */
async function live(stream: Stream, applicationId: string, sessionId: string) {
  const marker = await customEvent(applicationId, sessionId, { marker: true });
  await stream.until((s) => s.events.some((e) => e.id === marker.id));
  return marker;
}

describe.each([
  ['graphql-ws', ws],
  ['SSE', sse],
] as const)('over %s', (_name, subscribe) => {
  it('delivers application events as they commit, in cursor order', async () => {
    const app = await createApplication(gw);
    const stream = await subscribe(ADMIN_TOKEN, APPLICATION_EVENTS, { a: app.id });
    const first = await createSession(app.id);
    await live(stream, app.id, first);
    const second = await createSession(app.id);
    await customEvent(app.id, second, { n: 1 });
    await stream.until((s) => s.events.some((e) => e.sessionId === second && e.type === 'SESSION_EVENT_CREATED'));
    const types = stream.events.filter((e) => e.sessionId === second).map((e) => e.type);
    expect(types).toEqual(['SESSION_CREATED', 'SESSION_EVENT_CREATED']);
    expect(stream.events.at(-1)).toMatchObject({ applicationId: app.id, data: { n: 1 } });
    const positions = stream.events.map((e) => positionOf(e.cursor));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(new Set(positions).size).toBe(positions.length);
    expect(stream.results.every((r) => !r.errors)).toBe(true);
  });

  it('narrows by types and by session', async () => {
    const app = await createApplication(gw);
    const mine = await createSession(app.id);
    const other = await createSession(app.id);
    const stream = await subscribe(ADMIN_TOKEN, SESSION_EVENTS, { a: app.id, s: mine, types: ['SESSION_EVENT_CREATED'] });
    await live(stream, app.id, mine);
    await customEvent(app.id, other, { other: true });
    await gw.gql(`mutation($a: ID!, $s: ID!) { patchSessionData(applicationId: $a, sessionId: $s, data: { x: 1 }) }`, { a: app.id, s: mine });
    const last = await customEvent(app.id, mine, { last: true });
    await stream.until((s) => s.events.some((e) => e.id === last.id));
    expect(stream.events.every((e) => e.sessionId === mine && e.type === 'SESSION_EVENT_CREATED')).toBe(true);
    expect(stream.events.map((e) => e.data)).toEqual([{ marker: true }, { last: true }]);
  });
});

describe('visibility at delivery time', () => {
  it('never delivers events of a session the subscriber may not see, and starts once it takes part', async () => {
    const app = await createApplication(gw);
    const user = await userWithRole(gw, app.id, app.roles.User!);
    const stream = await ws(user.token, APPLICATION_EVENTS, { a: app.id });
    const own = await createSession(app.id, user.token);
    await live(stream, app.id, own);
    const hidden = await createSession(app.id);
    await customEvent(app.id, hidden, { secret: 1 });
    // Once a later event of its own arrived, the hub has dispatched the secret one (in order).
    await live(stream, app.id, own);
    dataOf(
      await gw.gql(
        `mutation($a: ID!, $s: ID!, $u: ID!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: { id: $u }) { id } }`,
        { a: app.id, s: hidden, u: user.id },
      ),
    );
    const shared = await customEvent(app.id, hidden, { shared: 1 });
    await stream.until((s) => s.events.some((e) => e.id === shared.id));
    const hiddenEvents = stream.events.filter((e) => e.sessionId === hidden);
    expect(hiddenEvents.map((e) => e.type)).toEqual(['SESSION_PARTICIPANT_ADDED', 'SESSION_EVENT_CREATED']);
    expect(hiddenEvents.some((e) => e.data?.secret)).toBe(false);
  });

  it('stops at once when the subscriber loses its role (roles change without events)', async () => {
    const app = await createApplication(gw);
    const user = await userWithRole(gw, app.id, app.roles.Manager!);
    const stream = await ws(user.token, APPLICATION_EVENTS, { a: app.id });
    const s = await createSession(app.id);
    await live(stream, app.id, s);
    dataOf(
      await gw.gql(
        `mutation($a: ID!, $r: ID!, $u: ID!) { removeRoleParticipant(applicationId: $a, roleId: $r, participant: { id: $u }) { id } }`,
        { a: app.id, r: app.roles.Manager!, u: user.id },
      ),
    );
    await customEvent(app.id, s, { after: 'removal' });
    // An admin stream proves the event was delivered where it may be.
    const witness = await ws(ADMIN_TOKEN, APPLICATION_EVENTS, { a: app.id, types: ['SESSION_EVENT_CREATED'] });
    const last = await customEvent(app.id, s, { last: true });
    await witness.until((w) => w.events.some((e) => e.id === last.id));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stream.events.some((e) => e.data?.after || e.data?.last)).toBe(false);
  });

  it('a Manager (session:read:any) sees every session; replay applies the same rules', async () => {
    const app = await createApplication(gw);
    const manager = await userWithRole(gw, app.id, app.roles.Manager!);
    const user = await userWithRole(gw, app.id, app.roles.User!);
    const start = await createSession(app.id);
    const before = await customEvent(app.id, start, { before: true });
    const hidden = await createSession(app.id);
    await customEvent(app.id, hidden, { hidden: true });
    const managerStream = await ws(manager.token, APPLICATION_EVENTS, { a: app.id, after: before.cursor });
    const userStream = await ws(user.token, APPLICATION_EVENTS, { a: app.id, after: before.cursor });
    const own = await createSession(app.id, user.token);
    const last = await customEvent(app.id, own, { last: true });
    await managerStream.until((s) => s.events.some((e) => e.id === last.id));
    await userStream.until((s) => s.events.some((e) => e.id === last.id));
    expect(managerStream.events.filter((e) => e.sessionId === hidden)).toHaveLength(2);
    expect(userStream.events.map((e) => e.sessionId)).toEqual([own, own]);
  });

  it('refuses sessionEvents of an invisible session (NOT_FOUND) and an invisible application', async () => {
    const app = await createApplication(gw);
    const user = await userWithRole(gw, app.id, app.roles.User!);
    const hidden = await createSession(app.id);
    const stream = await ws(user.token, SESSION_EVENTS, { a: app.id, s: hidden });
    await stream.untilEnded();
    expect(codesOf(stream.results[0]!)).toEqual(['NOT_FOUND']);
    const other = await createApplication(gw);
    const outsider = await ws(user.token, APPLICATION_EVENTS, { a: other.id });
    await outsider.untilEnded();
    expect(codesOf(outsider.results[0]!)).toEqual(['NOT_FOUND']);
  });
});

describe('clean-up', () => {
  it('releases the subscription when the client completes it, closes its socket, or aborts its SSE request', async () => {
    const app = await createApplication(gw);
    const baseline = hubCount();
    const client = wsClient(gw, ADMIN_TOKEN);
    const completed = await ws(ADMIN_TOKEN, APPLICATION_EVENTS, { a: app.id });
    const onSocket = subscribeWs(client, APPLICATION_EVENTS, { a: app.id });
    const overSse = await sse(ADMIN_TOKEN, APPLICATION_EVENTS, { a: app.id });
    await registered(onSocket, baseline + 2);
    expect(hubCount()).toBe(baseline + 3);
    completed.dispose();
    await client.dispose();
    overSse.dispose();
    const deadline = Date.now() + 5000;
    while (hubCount() > baseline && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(hubCount()).toBe(baseline);
  });
});

describe('cursors', () => {
  it('answers BAD_USER_INPUT for a malformed or unknown cursor, over both transports', async () => {
    const app = await createApplication(gw);
    const unknown = Buffer.from('event:999999999').toString('base64url');
    for (const after of ['not-a-cursor', unknown]) {
      for (const subscribe of [ws, sse]) {
        const stream = await subscribe(ADMIN_TOKEN, APPLICATION_EVENTS, { a: app.id, after });
        await stream.untilEnded();
        expect(codesOf(stream.results[0]!)).toEqual(['BAD_USER_INPUT']);
        expect(stream.results[0]!.errors![0]!.message).toMatch(after === unknown ? /Unknown cursor/ : /Malformed cursor/);
      }
    }
  });
});
