// SPEC 1: every kind of bearer token works, and fails, as specified.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { apiTokenTable, userTable } from '../src/db/schema.ts';
import { codesOf, createUser, dataOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';

const WHO_AM_I = `{ viewer { user { id username isAdmin } } }`;
const LOGIN = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken expiresIn refreshToken refreshExpiresIn } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw?.stop());

describe('authentication', () => {
  it('refuses a request without a token with UNAUTHENTICATED', async () => {
    const response = await gw.gql(WHO_AM_I, {}, null);
    expect(codesOf(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses a wrong token and a malformed header', async () => {
    expect(codesOf(await gw.gql(WHO_AM_I, {}, 'sk_not-a-real-token'))).toEqual(['UNAUTHENTICATED']);
    const response = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic abc' },
      body: JSON.stringify({ query: WHO_AM_I }),
    });
    expect(codesOf(await response.json())).toEqual(['UNAUTHENTICATED']);
  });

  it('lets ADMIN_TOKEN act as the built-in admin', async () => {
    const viewer = dataOf(await gw.gql(WHO_AM_I, {}, ADMIN_TOKEN)).viewer.user;
    expect(viewer).toMatchObject({ username: 'admin', isAdmin: true });
  });

  it('accepts an API token, records lastUsedAt, stores only a hash, and stops after revocation', async () => {
    const user = await createUser(gw);
    expect(user.token).toMatch(/^sk_/);
    const [stored] = await gw.db.select().from(apiTokenTable).where(eq(apiTokenTable.userId, user.id));
    expect(stored!.tokenHash).not.toContain(user.token);
    expect(stored!.lastUsedAt).toBeNull();

    expect(dataOf(await gw.gql(WHO_AM_I, {}, user.token)).viewer.user.username).toBe(user.username);
    // lastUsedAt is written off the request path (src/access/authenticate.ts): wait for it, bounded.
    let used: typeof stored;
    for (let tries = 0; tries < 100; tries++) {
      [used] = await gw.db.select().from(apiTokenTable).where(eq(apiTokenTable.id, stored!.id));
      if (used!.lastUsedAt) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(used!.lastUsedAt).toBeInstanceOf(Date);

    dataOf(await gw.gql(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: stored!.id }));
    expect(codesOf(await gw.gql(WHO_AM_I, {}, user.token))).toEqual(['UNAUTHENTICATED']);
  });

  it('logs in with a password stored as a scrypt hash and accepts the access token', async () => {
    const user = await createUser(gw, { password: 'correct horse battery' });
    const [row] = await gw.db.select().from(userTable).where(eq(userTable.id, user.id));
    expect(row!.passwordHash).toMatch(/^scrypt\$/);
    expect(row!.passwordHash).not.toContain('correct horse');

    const tokens = dataOf(await gw.gql(LOGIN, { u: user.username, p: 'correct horse battery' }, null)).login;
    expect(tokens.expiresIn).toBe(15 * 60);
    const viewer = dataOf(await gw.gql(WHO_AM_I, {}, tokens.accessToken)).viewer.user;
    expect(viewer.id).toBe(user.id);
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const user = await createUser(gw, { password: 'correct horse battery' });
    const wrong = await gw.gql(LOGIN, { u: user.username, p: 'wrong password' }, null);
    const unknown = await gw.gql(LOGIN, { u: 'nobody-here', p: 'wrong password' }, null);
    expect(codesOf(wrong)).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(unknown)).toEqual(['UNAUTHENTICATED']);
    expect(wrong.errors![0]!.message).toBe(unknown.errors![0]!.message);
  });

  it('refuses an expired access token and one signed with another key', async () => {
    const user = await createUser(gw);
    const sign = (secret: string, exp: number) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(user.id)
        .setIssuer('skylight-gateway')
        .setIssuedAt(exp - 900)
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    const now = Math.floor(Date.now() / 1000);
    const expired = await gw.gql(WHO_AM_I, {}, await sign(gw.config.jwtSecret, now - 10));
    expect(codesOf(expired)).toEqual(['UNAUTHENTICATED']);
    expect(expired.errors![0]!.message).toMatch(/expired/);
    const forged = await gw.gql(WHO_AM_I, {}, await sign('another-secret-of-enough-length-0123456789', now + 600));
    expect(codesOf(forged)).toEqual(['UNAUTHENTICATED']);
    const valid = await gw.gql(WHO_AM_I, {}, await sign(gw.config.jwtSecret, now + 600));
    expect(dataOf(valid).viewer.user.id).toBe(user.id);
  });

  it('rotates refresh tokens on every use, and a reused one revokes the whole family', async () => {
    const user = await createUser(gw, { password: 'correct horse battery' });
    const first = dataOf(await gw.gql(LOGIN, { u: user.username, p: 'correct horse battery' }, null)).login;
    const second = dataOf(await gw.gql(REFRESH, { t: first.refreshToken }, null)).refreshToken;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(dataOf(await gw.gql(WHO_AM_I, {}, second.accessToken)).viewer.user.id).toBe(user.id);

    // Replaying the first token: refused, and the token rotated from it dies too.
    expect(codesOf(await gw.gql(REFRESH, { t: first.refreshToken }, null))).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(await gw.gql(REFRESH, { t: second.refreshToken }, null))).toEqual(['UNAUTHENTICATED']);

    // Another login is a new family and still works.
    const other = dataOf(await gw.gql(LOGIN, { u: user.username, p: 'correct horse battery' }, null)).login;
    expect(dataOf(await gw.gql(REFRESH, { t: other.refreshToken }, null)).refreshToken.refreshToken).toMatch(/^rt_/);
  });

  it('refuses an unknown refresh token', async () => {
    expect(codesOf(await gw.gql(REFRESH, { t: 'rt_unknown' }, null))).toEqual(['UNAUTHENTICATED']);
  });
});
