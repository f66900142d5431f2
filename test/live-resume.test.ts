// SPEC 5: with `after`, a stream replays every stored event after the cursor and then goes
// live, with no gap and no duplicate, in cursor order, even while writers commit concurrently.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, dataOf, unique } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { CREATE_SESSION, CUSTOM_EVENT, SESSION_EVENTS, positionOf, subscribeSse, subscribeWs, wsClient } from './helpers/live-clients.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw?.stop());

async function session(applicationId: string) {
  return dataOf(await gw.gql(CREATE_SESSION, { input: { applicationId, name: unique('s') } })).createSession.id as string;
}

async function emit(a: string, s: string, data: unknown): Promise<{ id: string; cursor: string }> {
  return dataOf(await gw.gql(CUSTOM_EVENT, { a, s, data }, ADMIN_TOKEN)).createSessionEvent;
}

const CUSTOM = ['SESSION_EVENT_CREATED'];

describe('resume after a disconnect', () => {
  it.each(['graphql-ws', 'SSE'])('over %s: exactly the missed events, then live ones', async (transport) => {
    const app = await createApplication(gw);
    const s = await session(app.id);
    const open = (after?: string) => {
      const variables = { a: app.id, s, types: CUSTOM, after };
      if (transport === 'SSE') return { stream: subscribeSse(gw, ADMIN_TOKEN, SESSION_EVENTS, variables), close: async () => {} };
      const client = wsClient(gw, ADMIN_TOKEN);
      return { stream: subscribeWs(client, SESSION_EVENTS, variables), close: () => client.dispose() };
    };
    const start = await emit(app.id, s, { n: 0 });
    const first = open(start.cursor);
    for (let n = 1; n <= 3; n++) await emit(app.id, s, { n });
    await first.stream.untilEvents(3);
    const lastSeen = first.stream.events.at(-1)!.cursor;
    first.stream.dispose();
    await first.close();
    for (let n = 4; n <= 6; n++) await emit(app.id, s, { n });
    const second = open(lastSeen);
    await second.stream.untilEvents(3);
    for (let n = 7; n <= 8; n++) await emit(app.id, s, { n });
    await second.stream.untilEvents(5);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(first.stream.events.map((e) => e.data.n)).toEqual([1, 2, 3]);
    expect(second.stream.events.map((e) => e.data.n)).toEqual([4, 5, 6, 7, 8]);
    second.stream.dispose();
    await second.close();
  });
});

describe('concurrent writers', () => {
  it('10 writers × 50 events: a subscriber from a cursor taken before the burst gets each exactly once, in order', async () => {
    const app = await createApplication(gw);
    const sessions = await Promise.all(Array.from({ length: 10 }, () => session(app.id)));
    const before = await emit(app.id, sessions[0]!, { before: true });
    let written = 0;
    const writers = sessions.map(async (s, writer) => {
      for (let i = 0; i < 50; i++) {
        await emit(app.id, s, { writer, i });
        written++;
      }
    });
    // Subscribe mid-burst, so the replay hands over to live delivery while writers commit.
    while (written < 100) await new Promise((resolve) => setTimeout(resolve, 5));
    const client = wsClient(gw, ADMIN_TOKEN);
    const stream = subscribeWs(
      client,
      `subscription($a: ID!, $after: String) { applicationEvents(applicationId: $a, after: $after, types: [SESSION_EVENT_CREATED]) { cursor ... on SessionDataEvent { data } } }`,
      { a: app.id, after: before.cursor },
    );
    await Promise.all(writers);
    await stream.untilEvents(500, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const events = stream.events;
    expect(events).toHaveLength(500);
    const positions = events.map((e) => positionOf(e.cursor));
    for (let k = 1; k < positions.length; k++) expect(positions[k]).toBeGreaterThan(positions[k - 1]!);
    const seen = new Set(events.map((e) => `${e.data.writer}/${e.data.i}`));
    expect(seen.size).toBe(500);
    for (let writer = 0; writer < 10; writer++) {
      const mine = events.filter((e) => e.data.writer === writer).map((e) => e.data.i);
      expect(mine).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    stream.dispose();
    await client.dispose();
  }, 120_000);
});
