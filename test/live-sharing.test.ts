// Live events are executed once per event for each permission class of the subscribers, not
// once per subscriber or per viewer: viewers with the same permissions in the application (and
// the same participation in the event's session, where that decides visibility) share one
// execution and get the same bytes; viewers with other permissions get their own, correct,
// payload; an operation that selects a field that depends on who asks (a signed media URL) is
// executed per viewer. The executions are counted by skylight_live_executions_total.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApplication, createRole, dataOf, userWithRole, type TestUser } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { CUSTOM_EVENT, wsUrl } from './helpers/live-clients.ts';
import { createSession, uploadPhoto } from './helpers/media.ts';

const MEDIA_EVENTS = `subscription($a: ID!) { applicationEvents(applicationId: $a, types: [SESSION_MEDIA_UPDATED]) {
  type cursor ... on MediaEvent { media { id title labels } } } }`;
const SIGNED_URLS = `subscription($a: ID!) { applicationEvents(applicationId: $a, types: [SESSION_MEDIA_UPDATED]) {
  cursor ... on MediaEvent { media { id url } } } }`;
const SESSION_EVENTS = `subscription($a: ID!) { applicationEvents(applicationId: $a, types: [SESSION_EVENT_CREATED]) {
  cursor sessionId ... on SessionDataEvent { data } } }`;

/** A raw graphql-transport-ws socket with one subscription; keeps every `next` frame as sent. */
async function subscriber(gw: TestGateway, token: string, query: string, variables: Record<string, unknown>) {
  const frames: string[] = [];
  const socket = new WebSocket(wsUrl(gw), 'graphql-transport-ws');
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      const text = String(data);
      const message = JSON.parse(text);
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: 'op-1', type: 'subscribe', payload: { query, variables } }));
        resolve();
      } else if (message.type === 'next') frames.push(text);
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed before connection_ack')));
  });
  return {
    frames,
    payloads: () => frames.map((frame) => JSON.parse(frame).payload),
    close: () => socket.close(),
  };
}

type Subscriber = Awaited<ReturnType<typeof subscriber>>;

async function eventually(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('shared execution of live events', () => {
  let gw: TestGateway;
  let app: { id: string; roles: Record<string, string> };
  let session: string;

  const executions = async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const match = /^skylight_live_executions_total (\d+)/m.exec(text);
    if (!match) throw new Error('skylight_live_executions_total is not exported');
    return Number(match[1]);
  };
  const subscribed = (count: number) => eventually(() => gw.server.services.events.subscriberCount === count);
  const users = (role: string, count: number) => Promise.all(Array.from({ length: count }, () => userWithRole(gw, app.id, role)));

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: `/tmp/live-sharing-${process.pid}` });
    app = await createApplication(gw);
    session = await createSession(gw, app.id);
  });
  afterAll(() => gw?.stop());

  it('10 viewers in one permission class and 10 in another: two executions per event, each class its own payload', async () => {
    const noTitle = await createRole(gw, app.id, ['application:read', 'session:read:any', 'session:media:read:labels']);
    const managers = await users(app.roles.Manager!, 10);
    const others = await users(noTitle, 10);
    const open = (list: TestUser[]) => Promise.all(list.map((user) => subscriber(gw, user.token, MEDIA_EVENTS, { a: app.id })));
    const withTitle = await open(managers);
    const withoutTitle = await open(others);
    const all = [...withTitle, ...withoutTitle];
    await subscribed(20);
    const before = await executions();
    await uploadPhoto(gw, { applicationId: app.id, sessionId: session }, { title: 'shared', labels: ['x'] });
    await eventually(() => all.every((s) => s.frames.length >= 1));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const events = withTitle[0]!.frames.length;
    expect(all.every((s) => s.frames.length === events)).toBe(true);
    expect(await executions()).toBe(before + 2 * events);

    const [first] = withTitle[0]!.payloads();
    expect(first.errors).toBeUndefined();
    expect(first.data.applicationEvents.media).toMatchObject({ title: 'shared', labels: ['x'] });
    const [denied] = withoutTitle[0]!.payloads();
    expect(denied.data.applicationEvents.media).toMatchObject({ title: null, labels: ['x'] });
    expect(denied.errors.map((e: any) => e.extensions)).toEqual([{ code: 'FORBIDDEN', permission: 'session:media:read:title' }]);
    // The same class gets the same bytes; only the operation id would differ (here the same).
    for (const s of withTitle) expect(s.frames).toEqual(withTitle[0]!.frames);
    for (const s of withoutTitle) expect(s.frames).toEqual(withoutTitle[0]!.frames);
    all.forEach((s) => s.close());
    await subscribed(0);
  });

  it('participation decides: a participant gets the session event, a non-participant of the same role does not', async () => {
    const [inside, outside] = await users(app.roles.User!, 2);
    const own = await createSession(gw, app.id);
    dataOf(
      await gw.gql(
        `mutation($a: ID!, $s: ID!, $u: ID!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: { id: $u }) { id } }`,
        { a: app.id, s: own, u: inside!.id },
      ),
    );
    const manager = (await users(app.roles.Manager!, 1))[0]!;
    const streams = await Promise.all([inside!, outside!, manager].map((user) => subscriber(gw, user.token, SESSION_EVENTS, { a: app.id })));
    await subscribed(3);
    const before = await executions();
    dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s: own, data: { n: 1 } }));
    const last = dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s: session, data: { n: 2 } })).createSessionEvent.cursor;
    const [inStream, outStream, managerStream] = streams as [Subscriber, Subscriber, Subscriber];
    await eventually(() => managerStream.payloads().some((p) => p.data.applicationEvents.cursor === last));
    await eventually(() => inStream.frames.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(inStream.payloads().map((p) => p.data.applicationEvents.data)).toEqual([{ n: 1 }]);
    expect(outStream.frames).toEqual([]);
    expect(managerStream.payloads().map((p) => p.data.applicationEvents.data)).toEqual([{ n: 1 }, { n: 2 }]);
    // Event 1: the participant and the manager (two classes); event 2: the manager only.
    expect(await executions()).toBe(before + 3);
    streams.forEach((s) => s.close());
    await subscribed(0);
  });

  it('a selection that depends on who asks (a signed media URL) is executed per viewer', async () => {
    const managers = await users(app.roles.Manager!, 3);
    const streams = await Promise.all(managers.map((user) => subscriber(gw, user.token, SIGNED_URLS, { a: app.id })));
    await subscribed(3);
    const before = await executions();
    await uploadPhoto(gw, { applicationId: app.id, sessionId: session }, { title: 'signed' });
    await eventually(() => streams.every((s) => s.frames.length >= 1));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const events = streams[0]!.frames.length;
    expect(await executions()).toBe(before + 3 * events);
    const urls = streams.map((s) => s.payloads().at(-1).data.applicationEvents.media.url);
    expect(urls.every((url) => typeof url === 'string')).toBe(true);
    expect(new Set(urls).size).toBe(3);
    streams.forEach((s) => s.close());
    await subscribed(0);
  });
});
