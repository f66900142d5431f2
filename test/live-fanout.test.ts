// SPEC 5 fan-out: one read per wake-up serves every local subscriber, visibility costs a
// bounded number of statements per batch whatever the number of subscribers, and a
// subscriber that falls too far behind is ended with RATE_LIMITED instead of growing memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents, encodeEventCursor, EventType } from '../src/events/log.ts';
import { isStreamFailure } from '../src/events/subscription.ts';
import { codesOf, createApplication, dataOf, unique, userWithRole } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { APPLICATION_EVENTS, CREATE_SESSION, CUSTOM_EVENT, subscribeWs, wsClient, type Stream } from './helpers/live-clients.ts';

const BUFFER = 5;
let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ SUBSCRIPTION_BUFFER_EVENTS: String(BUFFER) });
});
afterAll(() => gw?.stop());

const hub = () => gw.server.services.events;

async function session(applicationId: string, token = ADMIN_TOKEN): Promise<string> {
  return dataOf(await gw.gql(CREATE_SESSION, { input: { applicationId, name: unique('s') } }, token)).createSession.id;
}

/** Appends `count` custom events in one transaction, so the hub reads them in one batch. */
async function burst(applicationId: string, sessionId: string, count: number) {
  const rows = await gw.db.transaction((tx) =>
    appendEvents(
      tx,
      Array.from({ length: count }, (_, n) => ({
        type: EventType.SESSION_EVENT_CREATED,
        applicationId,
        sessionId,
        userId: null,
        payload: { data: { n } },
      })),
    ),
  );
  return rows.at(-1)!.position;
}

async function until(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('bounded buffers', () => {
  it('ends a subscriber that falls more than the buffer behind with RATE_LIMITED and its resume cursor', async () => {
    const app = await createApplication(gw);
    const s = await session(app.id);
    const [admin] = (await gw.db.query.userTable.findMany({ where: { username: 'admin' } })) as any[];
    const subscription = await hub().subscribe({ viewer: admin, applicationId: app.id, types: [EventType.SESSION_EVENT_CREATED] });
    const count = hub().subscriberCount;
    const delivered = await burst(app.id, s, 1);
    expect((await subscription.next()).value).toMatchObject({ position: delivered });
    const last = await burst(app.id, s, BUFFER + 3);
    await until(() => hub().position >= last);
    const first = await subscription.next();
    expect(first.done).toBe(false);
    expect(isStreamFailure(first.value!)).toBe(true);
    const failure = (first.value as { failure: { code: string; details: Record<string, unknown> } }).failure;
    expect(failure.code).toBe('RATE_LIMITED');
    expect(failure.details).toEqual({ reason: 'SUBSCRIBER_TOO_SLOW', resumeAfter: encodeEventCursor(delivered) });
    expect((await subscription.next()).done).toBe(true);
    expect(hub().subscriberCount).toBe(count - 1);
  });

  it('shows the overflow to a graphql-ws client as a RATE_LIMITED error, then completes', async () => {
    const app = await createApplication(gw);
    const s = await session(app.id);
    const client = wsClient(gw, ADMIN_TOKEN);
    const before = hub().subscriberCount;
    const stream = subscribeWs(client, APPLICATION_EVENTS, { a: app.id });
    await until(() => hub().subscriberCount > before);
    await burst(app.id, s, BUFFER + 3);
    await stream.untilEnded();
    expect(stream.ended).toBe('complete');
    expect(codesOf(stream.results.at(-1)!)).toEqual(['RATE_LIMITED']);
    await client.dispose();
  });
});

describe('fan-out cost', () => {
  it('serves 200 subscribers of 20 users with a bounded number of visibility statements per batch', async () => {
    const app = await createApplication(gw);
    const users = await Promise.all(
      Array.from({ length: 20 }, (_, k) => userWithRole(gw, app.id, k % 2 ? app.roles.Manager! : app.roles.User!)),
    );
    const shared = await session(app.id);
    for (const user of users.filter((_, k) => k % 2 === 0)) {
      dataOf(
        await gw.gql(
          `mutation($a: ID!, $s: ID!, $u: ID!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: { id: $u }) { id } }`,
          { a: app.id, s: shared, u: user.id },
        ),
      );
    }
    const hidden = await session(app.id);
    const before = hub().subscriberCount;
    const clients = users.map((user) => wsClient(gw, user.token));
    const streams: Stream[] = [];
    for (const client of clients) for (let k = 0; k < 10; k++) streams.push(subscribeWs(client, APPLICATION_EVENTS, { a: app.id }));
    await until(() => hub().subscriberCount === before + 200);
    const queriesBefore = hub().accessQueries;
    const events = 5;
    for (let n = 0; n < events; n++) {
      dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s: shared, data: { n } }));
      dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s: hidden, data: { n } }));
    }
    const isManager = (k: number) => Math.floor(k / 10) % 2 === 1;
    const count = (stream: Stream, sessionId: string) => stream.events.filter((e) => e.sessionId === sessionId).length;
    await Promise.all(
      streams.map((stream, k) =>
        stream.until((st) => count(st, shared) === events && (!isManager(k) || count(st, hidden) === events)),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Each batch costs at most two statements (permissions and sessions), however many subscribers.
    expect(hub().accessQueries - queriesBefore).toBeLessThanOrEqual(2 * 2 * events);
    streams.forEach((stream, k) => expect(count(stream, hidden)).toBe(isManager(k) ? events : 0));
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/skylight_open_subscriptions \d+/);
    expect(Number(/skylight_events_delivered_total (\d+)/.exec(metrics)![1])).toBeGreaterThanOrEqual(200 * events);
    expect(metrics).toMatch(/skylight_event_delivery_lag_seconds_count \d+/);
    await Promise.all(clients.map((client) => client.dispose()));
    await until(() => hub().subscriberCount === before);
  });
});
