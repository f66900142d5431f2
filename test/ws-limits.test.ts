// Issue 13 over graphql-ws: an operation refused by limits or validation gets an `error`
// message for its id and the socket stays open (it used to close with 4500); operations per
// socket (MAX_SUBSCRIPTIONS_PER_SOCKET) and sockets per client address (MAX_SOCKETS_PER_CLIENT)
// are bounded. Raw protocol messages, so the test sees exactly what the server sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApplication } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { wsUrl } from './helpers/live-clients.ts';

let gw: TestGateway;
let applicationId: string;
const open: WebSocket[] = [];
const closings: Promise<number>[] = [];

beforeAll(async () => {
  gw = await startGateway({ MAX_SUBSCRIPTIONS_PER_SOCKET: '5', MAX_SOCKETS_PER_CLIENT: '4', SOCKET_CAP_LOOPBACK: 'true' });
  applicationId = (await createApplication(gw)).id;
});
afterAll(async () => {
  for (const socket of open) socket.terminate();
  await gw?.stop();
});

/** A socket past connection_ack, with every message it receives. */
async function connect(): Promise<{ socket: WebSocket; messages: any[]; closed: Promise<number> }> {
  const socket = new WebSocket(wsUrl(gw), 'graphql-transport-ws');
  open.push(socket);
  const messages: any[] = [];
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  closings.push(closed);
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_TOKEN}` } })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      messages.push(message);
      if (message.type === 'connection_ack') resolve();
    });
  });
  return { socket, messages, closed };
}

async function answerOf(messages: any[], id: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const found = messages.find((message) => message.id === id && (message.type === 'error' || message.type === 'next'));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no answer for ${id}`);
}

const SUBSCRIPTION = `subscription($a: ID!) { applicationEvents(applicationId: $a) { id } }`;

describe('graphql-ws: refusals are per operation', () => {
  it.each([
    ['a document nested 2,000 levels', `{ ${'viewer { '.repeat(2000)}${'}'.repeat(2000)} }`, {}],
    ['a list literal nested 2,000 deep', `query { __type(name: ${'['.repeat(2000)}"x"${']'.repeat(2000)}) { name } }`, {}],
    ['a query deeper than the depth limit', `{ ${'__schema { types { fields { type { ofType { '.repeat(4)}name${' } } } } }'.repeat(4)} }`, {}],
    ['6,000 tokens', `{ ${'__typename '.repeat(6000)} }`, {}],
    ['31 aliases of __typename', `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: __typename`).join(' ')} }`, {}],
    ['a syntax error', '{ viewer { ', {}],
    ['a NUL in a variable', 'query($n: String!) { __type(name: $n) { name } }', { n: 'a\u0000b' }],
    ['a forged cursor', 'query($a: ID!) { application(id: $a) { sessions(after: "bm9wZQ") { totalCount } } }', { a: '00000000-0000-4000-8000-000000000000' }],
    ['first: -5 on events', 'query($a: ID!) { events(applicationId: $a, first: -5) { totalCount } }', { a: '00000000-0000-4000-8000-000000000000' }],
  ])('%s: an error message for that id, the socket stays open', async (_name, query, variables) => {
    const { socket, messages } = await connect();
    socket.send(JSON.stringify({ id: 'bad', type: 'subscribe', payload: { query, variables } }));
    const answer = await answerOf(messages, 'bad');
    expect(answer.type).toBe('error');
    expect(answer.payload[0].extensions.code).toBe('BAD_USER_INPUT');
    // Same socket, next operation: answered.
    socket.send(JSON.stringify({ id: 'ok', type: 'subscribe', payload: { query: '{ __typename }' } }));
    expect((await answerOf(messages, 'ok')).payload).toEqual({ data: { __typename: 'Query' } });
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close(1000);
  });

  it('the operation one over MAX_SUBSCRIPTIONS_PER_SOCKET gets RATE_LIMITED; the others keep running', async () => {
    const { socket, messages } = await connect();
    for (let i = 0; i < 6; i++) {
      socket.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { a: applicationId } } }));
    }
    const refused = await answerOf(messages, 's5');
    expect(refused.type).toBe('error');
    expect(refused.payload[0].extensions.code).toBe('RATE_LIMITED');
    expect(refused.payload[0].message).toMatch(/MAX_SUBSCRIPTIONS_PER_SOCKET/);
    expect(messages.filter((message) => message.type === 'error')).toHaveLength(1);
    // One completes: there is room again.
    socket.send(JSON.stringify({ id: 's0', type: 'complete' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.send(JSON.stringify({ id: 's6', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { a: applicationId } } }));
    socket.send(JSON.stringify({ id: 'q', type: 'subscribe', payload: { query: '{ __typename }' } }));
    // s6 takes the free place, so the query is the one over the bound.
    expect((await answerOf(messages, 'q')).payload[0].extensions.code).toBe('RATE_LIMITED');
    expect(messages.some((message) => message.id === 's6' && message.type === 'error')).toBe(false);
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close(1000);
  });

  it('the socket one over MAX_SOCKETS_PER_CLIENT is refused with 429 and a reason; a closed one frees its place', async () => {
    await Promise.all(closings);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sockets = await Promise.all(Array.from({ length: 4 }, () => connect()));
    const refusal = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const socket = new WebSocket(wsUrl(gw), 'graphql-transport-ws');
      socket.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      socket.on('open', () => reject(new Error('opened past the bound')));
      socket.on('error', () => {});
    });
    expect(refusal.status).toBe(429);
    expect(JSON.parse(refusal.body).errors[0]).toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    expect(JSON.parse(refusal.body).errors[0].message).toMatch(/MAX_SOCKETS_PER_CLIENT/);
    sockets[0]!.socket.close(1000);
    await sockets[0]!.closed;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await connect();
    expect(again.socket.readyState).toBe(WebSocket.OPEN);
    for (const { socket } of [...sockets, again]) socket.close(1000);
  });
});

describe('loopback clients', () => {
  it('are not counted against MAX_SOCKETS_PER_CLIENT unless SOCKET_CAP_LOOPBACK is on', async () => {
    const local = await startGateway({ MAX_SOCKETS_PER_CLIENT: '2' });
    try {
      const open = () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(wsUrl(local), 'graphql-transport-ws');
          socket.on('open', () => resolve(socket));
          socket.on('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
          socket.on('error', reject);
        });
      const sockets = await Promise.all(Array.from({ length: 5 }, open));
      expect(sockets.every((socket) => socket.readyState === WebSocket.OPEN)).toBe(true);
      for (const socket of sockets) socket.close(1000);
    } finally {
      await local.stop();
    }
  });
});
