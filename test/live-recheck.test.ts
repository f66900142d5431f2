// Long-lived streams obey the same rules as requests: an open graphql-ws socket or SSE stream
// ends when its API token is revoked, its access JWT expires or its user is deleted (4403 /
// 4401 over WebSocket, UNAUTHENTICATED over SSE), at once on the access signal and at the
// latest after ACCESS_RECHECK_MS when no signal comes; and every event is resolved with the
// viewer's permissions at delivery time (lost admin, lost media title permission).
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { apiTokenTable } from '../src/db/schema.ts';
import { codesOf, createApplication, createRole, createUser, dataOf, grantRole } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { APPLICATION_EVENTS, CUSTOM_EVENT, subscribeSse, wsUrl } from './helpers/live-clients.ts';
import { createSession, uploadPhoto } from './helpers/media.ts';

const RECHECK_MS = 400;
const MEDIA_EVENTS = `subscription($a: ID!) { applicationEvents(applicationId: $a, types: [SESSION_MEDIA_UPDATED]) {
  type ... on MediaEvent { media { id title labels } } } }`;

/** A raw graphql-transport-ws socket that subscribes once and records what comes and how it closes. */
function rawSubscription(gw: TestGateway, params: Record<string, unknown>, query: string, variables: Record<string, unknown>) {
  const messages: any[] = [];
  const socket = new WebSocket(wsUrl(gw), 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const acked = new Promise<void>((resolve, reject) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: params })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      messages.push(message);
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
        resolve();
      }
    });
    socket.on('error', reject);
    void closed.then(() => reject(new Error('closed before connection_ack')));
  });
  const next = () => messages.filter((m) => m.type === 'next').map((m) => m.payload);
  return { socket, closed, acked, next };
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('open streams are re-checked', () => {
  let gw: TestGateway;
  let app: { id: string; roles: Record<string, string> };
  let session: string;
  const emit = async (n: number) => dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s: session, data: { n } }));

  beforeAll(async () => {
    gw = await startGateway({ ACCESS_RECHECK_MS: String(RECHECK_MS), ACCESS_TOKEN_TTL: '2', MEDIA_DIR: `/tmp/live-recheck-${process.pid}` });
    app = await createApplication(gw);
    session = await createSession(gw, app.id);
  });
  afterAll(() => gw?.stop());

  it('closes a WebSocket with 4403 when its API token is revoked, and reads connectionParams in any case', async () => {
    const user = await createUser(gw);
    await grantRole(gw, app.id, app.roles.Manager!, { id: user.id });
    const ws = rawSubscription(gw, { Authorization: `Bearer ${user.token}` }, APPLICATION_EVENTS, { a: app.id });
    await ws.acked;
    await emit(1);
    await eventually(() => ws.next().length === 1);
    const [token] = await gw.db.select().from(apiTokenTable).where(eq(apiTokenTable.userId, user.id));
    dataOf(await gw.gql(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: token!.id }));
    expect((await ws.closed).code).toBe(4403);
  });

  it('closes it within ACCESS_RECHECK_MS even when no access signal comes (the token revoked behind its back)', async () => {
    const user = await createUser(gw);
    await grantRole(gw, app.id, app.roles.Manager!, { id: user.id });
    const ws = rawSubscription(gw, { authorization: `Bearer ${user.token}` }, APPLICATION_EVENTS, { a: app.id });
    await ws.acked;
    await gw.db.update(apiTokenTable).set({ revokedAt: new Date() }).where(eq(apiTokenTable.userId, user.id));
    const closed = await ws.closed;
    expect(closed.code).toBe(4403);
    expect(closed.reason).toMatch(/revoked/);
  });

  it('closes with 4401 when the access JWT expires, so the client refreshes and reconnects', async () => {
    await createUser(gw, { username: 'expiring', password: 'correct horse battery' });
    const tokens = dataOf(await gw.gql(`mutation { login(username: "expiring", password: "correct horse battery") { accessToken } }`, {}, null)).login;
    const user = await gw.db.query.userTable.findFirst({ where: { username: 'expiring' } });
    await grantRole(gw, app.id, app.roles.Manager!, { id: user!.id });
    const ws = rawSubscription(gw, { authorization: `Bearer ${tokens.accessToken}` }, APPLICATION_EVENTS, { a: app.id });
    await ws.acked;
    const closed = await ws.closed;
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/expired/);
  });

  it('closes with 4403 when the user is deleted', async () => {
    const user = await createUser(gw);
    await grantRole(gw, app.id, app.roles.Manager!, { id: user.id });
    const ws = rawSubscription(gw, { authorization: `Bearer ${user.token}` }, APPLICATION_EVENTS, { a: app.id });
    await ws.acked;
    dataOf(await gw.gql(`mutation($u: ID!) { deleteUser(userId: $u) }`, { u: user.id }));
    expect((await ws.closed).code).toBe(4403);
    expect(codesOf(await gw.gql('{ viewer { user { id } } }', {}, user.token))).toEqual(['UNAUTHENTICATED']);
  });

  it('ends an SSE stream with UNAUTHENTICATED when its token is revoked', async () => {
    const user = await createUser(gw);
    await grantRole(gw, app.id, app.roles.Manager!, { id: user.id });
    const stream = subscribeSse(gw, user.token, APPLICATION_EVENTS, { a: app.id });
    await eventually(() => gw.server.services.access.guardedStreams > 0 || stream.ended !== null);
    await emit(2);
    await stream.untilEvents(1);
    const [token] = await gw.db.select().from(apiTokenTable).where(eq(apiTokenTable.userId, user.id));
    dataOf(await gw.gql(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: token!.id }));
    await stream.untilEnded();
    const last = stream.results.at(-1)!;
    expect(codesOf(last)).toEqual(['UNAUTHENTICATED']);
    expect(last.errors![0]!.extensions).toMatchObject({ reason: 'TOKEN_REVOKED' });
  });

  it('stops delivering to a user who lost admin, while its stream stays open', async () => {
    const former = await createUser(gw, { isAdmin: true });
    const watcher = await createUser(gw, { isAdmin: true });
    const formerWs = rawSubscription(gw, { authorization: `Bearer ${former.token}` }, APPLICATION_EVENTS, { a: app.id });
    const watcherWs = rawSubscription(gw, { authorization: `Bearer ${watcher.token}` }, APPLICATION_EVENTS, { a: app.id });
    await Promise.all([formerWs.acked, watcherWs.acked]);
    await emit(10);
    await eventually(() => formerWs.next().length === 1 && watcherWs.next().length === 1);
    dataOf(await gw.gql(`mutation($u: ID!) { updateUser(userId: $u, input: { isAdmin: false }) { id } }`, { u: former.id }));
    await emit(11);
    await emit(12);
    await eventually(() => watcherWs.next().length === 3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(formerWs.next()).toHaveLength(1);
    expect(formerWs.socket.readyState).toBe(WebSocket.OPEN);
    formerWs.socket.close();
    watcherWs.socket.close();
  });

  it('resolves each event with the permissions of delivery time: a lost title permission shows as FORBIDDEN at the next event', async () => {
    const role = await createRole(gw, app.id, ['application:read', 'session:read:any', 'session:media:read:title', 'session:media:read:labels']);
    const reader = await createUser(gw);
    await grantRole(gw, app.id, role, { id: reader.id });
    const ws = rawSubscription(gw, { authorization: `Bearer ${reader.token}` }, MEDIA_EVENTS, { a: app.id });
    await ws.acked;
    await uploadPhoto(gw, { applicationId: app.id, sessionId: session }, { title: 'first', labels: ['a'] });
    await eventually(() => ws.next().length === 1);
    expect(ws.next()[0].data.applicationEvents.media).toMatchObject({ title: 'first', labels: ['a'] });
    expect(ws.next()[0].errors).toBeUndefined();

    dataOf(
      await gw.gql(`mutation($a: ID!, $r: ID!, $p: [String!]) { updateRole(applicationId: $a, roleId: $r, input: { permissions: $p }) { id } }`, {
        a: app.id,
        r: role,
        p: ['application:read', 'session:read:any', 'session:media:read:labels'],
      }),
    );
    await uploadPhoto(gw, { applicationId: app.id, sessionId: session }, { title: 'second', labels: ['b'] });
    await eventually(() => ws.next().length === 2);
    const second = ws.next()[1];
    expect(second.data.applicationEvents.media).toMatchObject({ title: null, labels: ['b'] });
    expect(second.errors.map((e: any) => e.extensions)).toEqual([{ code: 'FORBIDDEN', permission: 'session:media:read:title' }]);
    ws.socket.close();
  });
});
