// SPEC 1 and 5: WebSocket clients authenticate in connection_init; the close codes say why a
// socket was refused. The server pings idle sockets. SSE authenticates like any request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { codesOf, createApplication, createUser } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { APPLICATION_EVENTS, rawWsClose, subscribeSse, wsUrl } from './helpers/live-clients.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ WS_KEEPALIVE_MS: '200' });
});
afterAll(() => gw?.stop());

describe('connection_init', () => {
  it('acknowledges a valid bearer token (API token or ADMIN_TOKEN)', async () => {
    const user = await createUser(gw);
    expect(await rawWsClose(gw, { authorization: `Bearer ${user.token}` })).toMatchObject({ acked: true, code: 1000 });
    expect(await rawWsClose(gw, { authorization: `Bearer ${ADMIN_TOKEN}` })).toMatchObject({ acked: true });
  });

  it('closes with 4401 when the token is missing', async () => {
    expect(await rawWsClose(gw, {})).toMatchObject({ acked: false, code: 4401 });
    expect(await rawWsClose(gw, { authorization: '' })).toMatchObject({ acked: false, code: 4401 });
  });

  it('closes with 4403 when the token is wrong or malformed', async () => {
    expect(await rawWsClose(gw, { authorization: 'Bearer not-a-real-token' })).toMatchObject({ acked: false, code: 4403 });
    expect(await rawWsClose(gw, { authorization: 'Basic abc' })).toMatchObject({ acked: false, code: 4403 });
  });

  it('closes with 4408 when no connection_init arrives within 3 seconds', async () => {
    const started = Date.now();
    expect(await rawWsClose(gw, null)).toMatchObject({ acked: false, code: 4408 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
  });

  it('refuses a subscribe before the connection is acknowledged with 4401', async () => {
    const closed = await new Promise<number>((resolve) => {
      const socket = new WebSocket(wsUrl(gw), 'graphql-transport-ws');
      socket.on('open', () =>
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } })),
      );
      socket.on('close', (code) => resolve(code));
    });
    expect(closed).toBe(4401);
  });
});

describe('keep-alive', () => {
  it('pings an idle socket', async () => {
    const pings = await new Promise<number>((resolve) => {
      const socket = new WebSocket(wsUrl(gw), 'graphql-transport-ws');
      let count = 0;
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_TOKEN}` } })));
      socket.on('ping', () => {
        if (++count === 2) {
          socket.close(1000);
          resolve(count);
        }
      });
    });
    expect(pings).toBe(2);
  });
});

describe('SSE', () => {
  it('answers UNAUTHENTICATED without a token and with a bad one', async () => {
    const app = await createApplication(gw);
    for (const token of ['', 'not-a-real-token']) {
      const stream = subscribeSse(gw, token, APPLICATION_EVENTS, { a: app.id });
      await stream.untilEnded();
      expect(codesOf(stream.results[0]!)).toEqual(['UNAUTHENTICATED']);
    }
  });
});
