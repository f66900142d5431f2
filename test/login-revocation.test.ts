// Refresh-token reuse revokes the whole login: not only its refresh tokens but the access JWTs
// issued for it (their `sid`), at once, over HTTP, on open graphql-ws sockets (4403) and SSE
// streams (TOKEN_REVOKED), and on every instance (the access signal). ACCESS_RECHECK_MS is an
// hour here, so nothing but the revocation and its signal can explain a refusal.
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, createApplication, createUser, dataOf, grantRole } from './helpers/factories.ts';
import { onRealPostgres } from './helpers/database.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { APPLICATION_EVENTS, CUSTOM_EVENT, subscribeSse, subscribeWs, wsClient } from './helpers/live-clients.ts';
import { createSession } from './helpers/media.ts';

const WHO_AM_I = `{ viewer { user { id } } }`;
const LOGIN = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`;
const PASSWORD = 'correct horse battery';
const HOUR_MS = '3600000';

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let gw: TestGateway;
let app: { id: string; roles: Record<string, string> };
let session: string;

/** A user with a role that reads the application's events, logged in once. */
async function loggedIn(on = gw) {
  const user = await createUser(on, { password: PASSWORD });
  await grantRole(on, app.id, app.roles.Manager!, { id: user.id });
  const tokens = dataOf(await on.gql(LOGIN, { u: user.username, p: PASSWORD }, null)).login as { accessToken: string; refreshToken: string };
  return { user, tokens };
}

const now = async () => dataOf(await gw.gql(`query($a: ID!) { application(applicationId: $a) { eventCursor } }`, { a: app.id })).application.eventCursor as string;

/** Uses the refresh token once (fine), then again (reuse): the login is revoked. */
async function reuse(refreshToken: string, on = gw) {
  const rotated = dataOf(await on.gql(REFRESH, { t: refreshToken }, null)).refreshToken as { accessToken: string; refreshToken: string };
  const replay = await on.gql(REFRESH, { t: refreshToken }, null);
  expect(codesOf(replay)).toEqual(['UNAUTHENTICATED']);
  return rotated;
}

beforeAll(async () => {
  gw = await startGateway({ ACCESS_RECHECK_MS: HOUR_MS });
  app = await createApplication(gw);
  session = await createSession(gw, app.id);
});
afterAll(() => gw?.stop());

describe('refresh-token reuse ends the access tokens of that login', () => {
  it('access JWTs name their login (sid, the refresh-token family), the same through rotation', async () => {
    const { tokens } = await loggedIn();
    const rotated = dataOf(await gw.gql(REFRESH, { t: tokens.refreshToken }, null)).refreshToken;
    const sid = decodeJwt(tokens.accessToken).sid;
    expect(typeof sid).toBe('string');
    expect(decodeJwt(rotated.accessToken).sid).toBe(sid);
  });

  it('over HTTP the old access JWT is refused at once (reason TOKEN_REVOKED), the rotated one too; another login works', async () => {
    const { user, tokens } = await loggedIn();
    // Warm: the principal is in memory for an hour unless something says otherwise.
    expect(dataOf(await gw.gql(WHO_AM_I, {}, tokens.accessToken)).viewer.user.id).toBe(user.id);
    const rotated = await reuse(tokens.refreshToken);
    for (const token of [tokens.accessToken, rotated.accessToken]) {
      const refused = await gw.gql(WHO_AM_I, {}, token);
      expect(codesOf(refused)).toEqual(['UNAUTHENTICATED']);
      expect(refused.errors![0]!.extensions).toMatchObject({ reason: 'TOKEN_REVOKED' });
    }
    const other = dataOf(await gw.gql(LOGIN, { u: user.username, p: PASSWORD }, null)).login;
    expect(dataOf(await gw.gql(WHO_AM_I, {}, other.accessToken)).viewer.user.id).toBe(user.id);
  });

  it('closes an open graphql-ws subscription with 4403', async () => {
    const { tokens } = await loggedIn();
    let closed: { code: number; reason: string } | null = null;
    const client = wsClient(gw, tokens.accessToken);
    client.on('closed', (event) => {
      const { code, reason } = event as { code: number; reason: string };
      closed = { code, reason };
    });
    // From "now", so the event below arrives even if it commits before the subscription is live.
    const stream = subscribeWs(client, APPLICATION_EVENTS, { a: app.id, after: await now() });
    await eventually(() => gw.server.services.access.guardedStreams > 0, 'socket guarded');
    dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s: session, data: { n: 1 } }));
    await stream.untilEvents(1);
    await reuse(tokens.refreshToken);
    await stream.untilEnded();
    await eventually(() => closed !== null, 'socket closed');
    expect(closed!.code).toBe(4403);
    expect(closed!.reason).toMatch(/revoked/);
    await client.dispose();
  });

  it('ends an SSE stream with UNAUTHENTICATED, reason TOKEN_REVOKED', async () => {
    const { tokens } = await loggedIn();
    const stream = subscribeSse(gw, tokens.accessToken, APPLICATION_EVENTS, { a: app.id, after: await now() });
    await eventually(() => gw.server.services.access.guardedStreams > 0, 'stream guarded');
    dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s: session, data: { n: 2 } }));
    await stream.untilEvents(1);
    await reuse(tokens.refreshToken);
    await stream.untilEnded();
    const last = stream.results.at(-1)!;
    expect(codesOf(last)).toEqual(['UNAUTHENTICATED']);
    expect(last.errors![0]!.extensions).toMatchObject({ reason: 'TOKEN_REVOKED' });
  });

  it('an access JWT without sid (signed before sid existed) is accepted until it expires, whatever its logins', async () => {
    const { user, tokens } = await loggedIn();
    await reuse(tokens.refreshToken);
    const legacy = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer('skylight-gateway')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(new TextEncoder().encode(gw.config.jwtSecret));
    expect(dataOf(await gw.gql(WHO_AM_I, {}, legacy)).viewer.user.id).toBe(user.id);
    expect(codesOf(await gw.gql(WHO_AM_I, {}, tokens.accessToken))).toEqual(['UNAUTHENTICATED']);
  });
});

describe.skipIf(!onRealPostgres)('on every instance (needs real PostgreSQL: two gateways on one database)', () => {
  let other: TestGateway;
  beforeAll(async () => {
    other = await gw.startAnother({ ACCESS_RECHECK_MS: HOUR_MS });
  });
  afterAll(() => other?.stop());

  it('a second instance that had the user warm refuses the old JWT as soon as it hears the access signal, and closes its socket', async () => {
    const { user, tokens } = await loggedIn();
    expect(dataOf(await other.gql(WHO_AM_I, {}, tokens.accessToken)).viewer.user.id).toBe(user.id);
    let closed: { code: number } | null = null;
    const client = wsClient(other, tokens.accessToken);
    client.on('closed', (event) => (closed = { code: (event as { code: number }).code }));
    const stream = subscribeWs(client, APPLICATION_EVENTS, { a: app.id });
    await eventually(() => other.server.services.access.guardedStreams > 0, 'socket guarded on the other instance');

    const heard = other.server.services.access.currentGeneration;
    await reuse(tokens.refreshToken); // on the first instance
    await eventually(() => other.server.services.access.currentGeneration > heard, 'the other instance hears the access signal');
    const refused = await other.gql(WHO_AM_I, {}, tokens.accessToken);
    expect(codesOf(refused)).toEqual(['UNAUTHENTICATED']);
    expect(refused.errors![0]!.extensions).toMatchObject({ reason: 'TOKEN_REVOKED' });
    await stream.untilEnded();
    await eventually(() => closed !== null, 'socket closed');
    expect(closed!.code).toBe(4403);
    await client.dispose();
  });
});
