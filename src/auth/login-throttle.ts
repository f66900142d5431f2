// Login throttling (rate-limiter-flexible, after its "login endpoint protection" example): two
// counters of FAILED logins, one per username and client address (LOGIN_MAX_FAILURES per
// LOGIN_FAILURE_WINDOW, default 5 per 15 minutes; a successful login resets it) and one per
// client address (LOGIN_MAX_FAILURES_PER_ADDRESS per day, default 100). Once either is at its
// bound, every login attempt it covers is refused with RATE_LIMITED and `retryAfter` (seconds)
// before the password is looked at, so a correct password does not get through either. The
// example reads the counters and writes them after the password check; here an attempt counts
// first and is given back when it succeeds, so concurrent attempts cannot pass the bound.
//
// Where the counts live: Redis when REDIS_URL is set, else the `login_throttle` table when the
// database is a PostgreSQL server (both shared by every instance), else (embedded PGlite, one
// process) memory. A store that does not answer falls back to memory for that attempt.
//
// The client address is the TCP peer of the request (IPv6 counted per /64); X-Forwarded-For is
// not read, since nothing here says which proxy to trust: behind a proxy every client shares
// the proxy's address and its per-address budget.
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  RateLimiterDrizzle,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
  type RateLimiterStoreAbstract,
} from 'rate-limiter-flexible';
import type { Config } from '../config.ts';
import type { Database, DatabaseHandle } from '../db/client.ts';
import { loginThrottleTable } from '../db/schema.ts';
import { DomainError, ErrorCode } from '../domain/errors.ts';

export interface LoginThrottleSettings {
  /** Failures per username and address within `failureWindowSeconds` before logins are refused. */
  maxFailures: number;
  failureWindowSeconds: number;
  /** Failures per address within `addressWindowSeconds` before logins are refused. */
  maxFailuresPerAddress: number;
  addressWindowSeconds: number;
}

/** Redis keys start with `namespace` (the database's name): instances of one deployment share counts, others do not. */
export type LoginThrottleStore = { kind: 'memory' } | { kind: 'redis'; client: Redis; namespace: string } | { kind: 'postgres'; db: Database };

type Limiter = RateLimiterAbstract | RateLimiterStoreAbstract;

/** The client address a counter is kept for: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function addressKey(address: string | null | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

const usernameKey = (username: string) => createHash('sha256').update(username).digest('base64url').slice(0, 22);

function rateLimited(msBeforeNext: number): DomainError {
  const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new DomainError(ErrorCode.RATE_LIMITED, `Too many failed logins; try again in ${retryAfter} s`, { retryAfter });
}

export class LoginThrottle {
  private readonly byUserAndAddress: Limiter;
  private readonly byAddress: Limiter;

  constructor(settings: LoginThrottleSettings, store: LoginThrottleStore) {
    const limiter = (keyPrefix: string, points: number, duration: number): Limiter => {
      const options = { keyPrefix, points, duration };
      const memory = new RateLimiterMemory(options);
      if (store.kind === 'redis') {
        const keyPrefix = `skylight_login:${store.namespace}:${options.keyPrefix}`;
        return new RateLimiterRedis({ ...options, keyPrefix, storeClient: store.client, rejectIfRedisNotReady: true, insuranceLimiter: memory });
      }
      if (store.kind === 'postgres') {
        return new RateLimiterDrizzle({ ...options, storeClient: store.db, schema: loginThrottleTable, insuranceLimiter: memory });
      }
      return memory;
    };
    this.byUserAndAddress = limiter('login_fail_user_address', settings.maxFailures, settings.failureWindowSeconds);
    this.byAddress = limiter('login_fail_address', settings.maxFailuresPerAddress, settings.addressWindowSeconds);
  }

  /**
   * Runs `attempt` (the password check) unless this username and address are over a bound:
   * then RATE_LIMITED. Each attempt counts as a failure BEFORE the password is checked (one
   * atomic increment per counter, the pair's first), so parallel attempts cannot slip past the
   * bound between a read and a write; a success then clears the username-and-address counter
   * and gives its point back to the address, and an attempt that could not be decided
   * (anything but UNAUTHENTICATED) gives both back.
   */
  async guard<T>(username: string, address: string | null | undefined, attempt: () => Promise<T>): Promise<T> {
    const client = addressKey(address);
    const pair = `${usernameKey(username)}:${client}`;
    // A refused attempt is no failure: the address is counted only once the pair let it through,
    // and the pair gets its point back when the address refuses.
    const pairOver = await overBound(this.byUserAndAddress.consume(pair));
    if (pairOver !== null) throw rateLimited(pairOver);
    const addressOver = await overBound(this.byAddress.consume(client));
    if (addressOver !== null) {
      await this.byUserAndAddress.reward(pair);
      throw rateLimited(addressOver);
    }
    let result: T;
    try {
      result = await attempt();
    } catch (error) {
      if (!(error instanceof DomainError && error.code === ErrorCode.UNAUTHENTICATED)) {
        await Promise.all([this.byUserAndAddress.reward(pair), this.byAddress.reward(client)]);
      }
      throw error;
    }
    await Promise.all([this.byUserAndAddress.delete(pair), this.byAddress.reward(client)]);
    return result;
  }
}

/** A consumption past the bound rejects with the counter (a RateLimiterRes): how long until it frees; null when within. */
async function overBound(consumption: Promise<RateLimiterRes>): Promise<number | null> {
  try {
    await consumption;
    return null;
  } catch (outcome) {
    if (outcome instanceof RateLimiterRes) return outcome.msBeforeNext;
    throw outcome;
  }
}

/** The throttle for this configuration: Redis (REDIS_URL), else PostgreSQL (a server), else memory; `close` ends its connection. */
export function createLoginThrottle(config: Config, database: DatabaseHandle, logger: Logger): { throttle: LoginThrottle; close(): void } {
  if (config.redisUrl) {
    // While not connected, or when a command gets no answer within a second, attempts count in memory (the insurance limiter).
    const client = new Redis(config.redisUrl, { connectionName: 'skylight-login-throttle', maxRetriesPerRequest: 1, commandTimeout: 1000 });
    client.on('error', (error) => logger.warn({ err: error }, 'login throttle: redis error; counting in memory meanwhile'));
    const namespace = database.sql?.options.database ?? 'embedded';
    return { throttle: new LoginThrottle(config.loginThrottle, { kind: 'redis', client, namespace }), close: () => client.disconnect() };
  }
  if (database.sql) return { throttle: new LoginThrottle(config.loginThrottle, { kind: 'postgres', db: database.db }), close: () => {} };
  return { throttle: new LoginThrottle(config.loginThrottle, { kind: 'memory' }), close: () => {} };
}
