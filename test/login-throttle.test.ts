// Login throttling (issue 13): failed logins counted per username and client address and per
// address; past a bound `login` answers RATE_LIMITED with retryAfter, whatever the password.
// The store is the one the configuration picks: memory on PGlite, the login_throttle table on
// a PostgreSQL server, Redis with REDIS_URL; the last two are shared by every instance.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressKey } from '../src/auth/login-throttle.ts';
import { codesOf, createUser, dataOf } from './helpers/factories.ts';
import { onRealPostgres } from './helpers/database.ts';
import { startGateway, type GraphQLResponse, type TestGateway } from './helpers/gateway.ts';

const LOGIN = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`;
const PASSWORD = 'correct horse battery';
const REDIS_URL = process.env.REDIS_URL_FOR_TESTS || null;

/** A login POSTed from a chosen local address (127.0.0.0/8 all reach the loopback listener). */
function loginFrom(gw: TestGateway, username: string, password: string, localAddress = '127.0.0.1'): Promise<GraphQLResponse> {
  const body = JSON.stringify({ query: LOGIN, variables: { u: username, p: password } });
  return new Promise((resolve, reject) => {
    const req = request(
      gw.graphqlUrl,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function failTimes(gw: TestGateway, username: string, times: number, localAddress?: string) {
  for (let i = 0; i < times; i++) expect(codesOf(await loginFrom(gw, username, 'wrong password', localAddress))).toEqual(['UNAUTHENTICATED']);
}

function expectRateLimited(response: GraphQLResponse, maxSeconds: number) {
  expect(codesOf(response)).toEqual(['RATE_LIMITED']);
  expect(response.data?.login ?? null).toBeNull();
  const retryAfter = response.errors![0]!.extensions!.retryAfter;
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
}

describe('login throttling on one instance', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ LOGIN_MAX_FAILURES_PER_ADDRESS: '12' }); // per address: each test uses its own 127.0.0.x
  });
  afterAll(() => gw?.stop());

  it('5 wrong passwords, then the correct one: RATE_LIMITED with retryAfter; another address still gets in', async () => {
    const user = await createUser(gw, { password: PASSWORD });
    await failTimes(gw, user.username, 5);
    expectRateLimited(await loginFrom(gw, user.username, PASSWORD), 15 * 60);
    expectRateLimited(await loginFrom(gw, user.username, 'wrong password'), 15 * 60);
    expect(dataOf(await loginFrom(gw, user.username, PASSWORD, '127.0.0.2')).login.accessToken).toBeTruthy();
  });

  it('a successful login resets the username-and-address count', async () => {
    const user = await createUser(gw, { password: PASSWORD });
    await failTimes(gw, user.username, 4, '127.0.0.3');
    expect(dataOf(await loginFrom(gw, user.username, PASSWORD, '127.0.0.3')).login.accessToken).toBeTruthy();
    await failTimes(gw, user.username, 4, '127.0.0.3');
    expect(dataOf(await loginFrom(gw, user.username, PASSWORD, '127.0.0.3')).login.accessToken).toBeTruthy();
  });

  it('other usernames from the same address work until the per-address bound, then none does', async () => {
    const address = '127.0.0.4';
    const [a, b, c] = [await createUser(gw, { password: PASSWORD }), await createUser(gw, { password: PASSWORD }), await createUser(gw, { password: PASSWORD })];
    await failTimes(gw, a.username, 5, address);
    expectRateLimited(await loginFrom(gw, a.username, PASSWORD, address), 15 * 60);
    expect(dataOf(await loginFrom(gw, b.username, PASSWORD, address)).login.accessToken).toBeTruthy();
    await failTimes(gw, b.username, 4, address);
    await failTimes(gw, c.username, 2, address); // 11 failures from this address
    expect(dataOf(await loginFrom(gw, c.username, PASSWORD, address)).login.accessToken).toBeTruthy();
    await failTimes(gw, 'nobody-at-all', 1, address); // 12: the bound (unknown usernames count too)
    expectRateLimited(await loginFrom(gw, c.username, PASSWORD, address), 24 * 3600);
    expectRateLimited(await loginFrom(gw, b.username, PASSWORD, address), 24 * 3600);
    expect(dataOf(await loginFrom(gw, c.username, PASSWORD, '127.0.0.5')).login.accessToken).toBeTruthy();
  });

  it('parallel attempts cannot pass the bound: of 20 at once, 5 get their password checked', async () => {
    const user = await createUser(gw, { password: PASSWORD });
    const answers = await Promise.all(Array.from({ length: 20 }, () => loginFrom(gw, user.username, 'wrong password', '127.0.0.7')));
    const codes = answers.map((answer) => codesOf(answer)[0]);
    expect(codes.filter((code) => code === 'UNAUTHENTICATED')).toHaveLength(5);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(15);
    expectRateLimited(await loginFrom(gw, user.username, PASSWORD, '127.0.0.7'), 15 * 60);
  });

  it('counts IPv4-mapped addresses as IPv4 and IPv6 per /64', () => {
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:db8:0:1:bbbb:cccc:dddd:eeee')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});

async function sharedCount(gw: TestGateway, other: TestGateway) {
  const user = await createUser(gw, { password: PASSWORD });
  await failTimes(gw, user.username, 3, '127.0.0.6');
  await failTimes(other, user.username, 2, '127.0.0.6');
  expectRateLimited(await loginFrom(gw, user.username, PASSWORD, '127.0.0.6'), 15 * 60);
  expectRateLimited(await loginFrom(other, user.username, PASSWORD, '127.0.0.6'), 15 * 60);
}

describe.skipIf(!onRealPostgres)('two instances on one PostgreSQL server share the count (login_throttle table; needs real PostgreSQL)', () => {
  let gw: TestGateway;
  let other: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
    other = await gw.startAnother();
  });
  afterAll(async () => {
    await other?.stop();
    await gw?.stop();
  });
  it('3 failures on one and 2 on the other: both refuse the correct password', () => sharedCount(gw, other));
});

describe.skipIf(!REDIS_URL || !onRealPostgres)('two instances with REDIS_URL share the count in Redis (needs REDIS_URL_FOR_TESTS and real PostgreSQL)', () => {
  let gw: TestGateway;
  let other: TestGateway;
  beforeAll(async () => {
    // Redis outlives the test: the per-address count of 127.0.0.x must not build up over runs.
    const env = { REDIS_URL: REDIS_URL!, LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000' };
    gw = await startGateway(env);
    other = await gw.startAnother(env);
  });
  afterAll(async () => {
    await other?.stop();
    await gw?.stop();
  });
  it('3 failures on one and 2 on the other: both refuse the correct password', async () => {
    await sharedCount(gw, other);
    // The counts are in Redis, not in the database.
    expect(await gw.db.$count((await import('../src/db/schema.ts')).loginThrottleTable)).toBe(0);
  });
});
