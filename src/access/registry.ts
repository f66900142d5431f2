// The one place that loads principals, shared by requests and the live event hub of this
// instance. Principals are kept in memory for at most `recheckMs` (ACCESS_RECHECK_MS) and
// dropped at once on an access signal: a write that changed roles, groups, users or tokens
// calls `changed()`, which clears this instance and, through the hub's wake-up channel, every
// other one (`invalidate()` is what they run). API tokens resolve to their user through the
// same kind of cache.
//
// Long-lived streams register their credential (`guard`). At least every `recheckMs`, and soon
// after any access signal, every registered credential is checked in a fixed number of
// statements: an expired access JWT ends its stream as EXPIRED, a revoked API token, an access
// JWT whose login was revoked (refresh-token reuse) or a deleted user as REVOKED. The same pass reloads the principals of every live viewer, so what
// a stream delivers next is decided with the viewer's permissions of now.
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Executor } from '../db/client.ts';
import { rowsOf } from '../domain/rows.ts';
import { loadPrincipals, type Principal } from './principal.ts';

export type Credential =
  | { kind: 'admin-token'; userId: string }
  | { kind: 'api-token'; userId: string; tokenId: string }
  /** `loginId`: the JWT's `sid` (its refresh-token family); null for tokens signed before it existed. */
  | { kind: 'jwt'; userId: string; expiresAt: number; loginId: string | null };

export type StreamEnd = { reason: 'EXPIRED' | 'REVOKED'; message: string };

export interface StreamHolder {
  credential: Credential;
  end(why: StreamEnd): void;
}

interface Cached<T> {
  value: T;
  loadedAt: number;
  generation: number;
}

export interface AccessRegistryOptions {
  recheckMs: number;
  logger?: Logger;
  /** How many principals and API tokens are kept (least recently used go first). */
  maxEntries?: number;
}

export const LOGIN_REVOKED = 'The login of this access token was revoked (a refresh token was used twice)';

/** Whether the login an access JWT belongs to was revoked; JWTs without `sid` (older ones) live until they expire. */
export function loginRevoked(principal: Principal, credential: Credential): boolean {
  return credential.kind === 'jwt' && credential.loginId !== null && principal.revokedLogins.has(credential.loginId);
}

/** After an access signal, how soon streams are checked again (signals often come in bursts). */
const SIGNAL_SWEEP_DELAY_MS = 50;

export class AccessRegistry {
  private readonly principals = new Map<string, Cached<Principal | null>>();
  private readonly loading = new Map<string, { generation: number; promise: Promise<Principal | null> }>();
  private readonly tokens = new Map<string, Cached<{ tokenId: string; userId: string }>>();
  private readonly holders = new Set<StreamHolder>();
  private generation = 0;
  private sweeper: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private backgroundDb: Executor | null = null;
  private publish: (() => void) | null = null;
  private readonly maxEntries: number;
  /** Statements the registry sent from its own background work (tests read it). */
  backgroundQueries = 0;

  constructor(private readonly options: AccessRegistryOptions) {
    this.maxEntries = options.maxEntries ?? 50_000;
  }

  get recheckMs(): number {
    return this.options.recheckMs;
  }

  /** Starts the periodic check of live credentials, on the hub's uncounted database view. */
  start(db: Executor, publish: () => void): void {
    this.backgroundDb = db;
    this.publish = publish;
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), this.options.recheckMs);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.soon) clearTimeout(this.soon);
    this.sweeper = this.soon = null;
    await this.sweeping;
  }

  /** Something that decides access changed here: forget it here and tell every instance. */
  changed(): void {
    this.invalidate();
    this.publish?.();
  }

  /** Another instance (or this one) changed access: drop cached principals and tokens, re-check streams soon. */
  invalidate(): void {
    this.generation++;
    this.tokens.clear();
    if (this.holders.size > 0 && !this.soon) {
      this.soon = setTimeout(() => {
        this.soon = null;
        this.sweep();
      }, SIGNAL_SWEEP_DELAY_MS);
      this.soon.unref();
    }
  }

  private fresh(cached: Cached<unknown> | undefined, now = Date.now()): boolean {
    return !!cached && cached.generation === this.generation && now - cached.loadedAt < this.options.recheckMs;
  }

  private remember<K, V>(map: Map<K, Cached<V>>, key: K, value: V, generation: number): void {
    map.delete(key);
    map.set(key, { value, loadedAt: Date.now(), generation });
    if (map.size > this.maxEntries) map.delete(map.keys().next().value as K);
  }

  /** The principal of `userId` (null when the user does not exist), from memory when fresh. */
  principal(db: Executor, userId: string): Promise<Principal | null> {
    const cached = this.principals.get(userId);
    if (this.fresh(cached)) return Promise.resolve(cached!.value);
    // A load started before an access signal may have read what the signal replaced: do not join it.
    const pending = this.loading.get(userId);
    if (pending && pending.generation === this.generation) return pending.promise;
    const generation = this.generation;
    const entry = {
      generation,
      promise: loadPrincipals(db, [userId])
        .then((found) => {
          const principal = found.get(userId) ?? null;
          this.remember(this.principals, userId, principal, generation);
          return principal;
        })
        .finally(() => {
          if (this.loading.get(userId) === entry) this.loading.delete(userId);
        }),
    };
    this.loading.set(userId, entry);
    return entry.promise;
  }

  /** Loads the principal again, whatever is in memory (a denial double-checks with this). */
  async reload(db: Executor, userId: string): Promise<Principal | null> {
    const generation = this.generation;
    const principal = (await loadPrincipals(db, [userId])).get(userId) ?? null;
    this.remember(this.principals, userId, principal, generation);
    return principal;
  }

  /** Remembers a principal loaded together with its credential (one statement for both). */
  rememberPrincipal(principal: Principal, generation: number): void {
    this.remember(this.principals, principal.id, principal, generation);
  }

  /** The generation to stamp a load with: take it before the statement, so a signal during it wins. */
  get currentGeneration(): number {
    return this.generation;
  }

  /**
   * The last principal known for the user, fresh or not (the hub's synchronous dispatch reads
   * it): null when the user is known to be gone, undefined when never loaded.
   */
  peek(userId: string): Principal | null | undefined {
    return this.principals.get(userId)?.value;
  }

  /** Loads, in one statement, the principals of these users that are not fresh. */
  async refresh(db: Executor, userIds: Iterable<string>): Promise<void> {
    const now = Date.now();
    const stale = [...new Set(userIds)].filter((id) => !this.fresh(this.principals.get(id), now));
    if (stale.length === 0) return;
    const generation = this.generation;
    this.backgroundQueries++;
    const found = await loadPrincipals(db, stale);
    for (const id of stale) this.remember(this.principals, id, found.get(id) ?? null, generation);
  }

  /** The API token with this hash, from memory when fresh. */
  cachedToken(hash: string): { tokenId: string; userId: string } | null {
    const cached = this.tokens.get(hash);
    return this.fresh(cached) ? cached!.value : null;
  }

  rememberToken(hash: string, token: { tokenId: string; userId: string }, generation: number): void {
    this.remember(this.tokens, hash, token, generation);
  }

  /** Registers a long-lived stream; the answer unregisters it. */
  guard(holder: StreamHolder): () => void {
    this.holders.add(holder);
    return () => this.holders.delete(holder);
  }

  get guardedStreams(): number {
    return this.holders.size;
  }

  /** Checks every live credential now; runs one pass at a time. */
  sweep(): Promise<void> {
    if (this.sweeping) return this.sweeping;
    if (this.holders.size === 0 || !this.backgroundDb) return Promise.resolve();
    this.sweeping = this.check(this.backgroundDb)
      .catch((error) => this.options.logger?.warn({ err: error }, 'checking live credentials failed; retrying at the next interval'))
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async check(db: Executor): Promise<void> {
    const holders = [...this.holders];
    const now = Date.now();
    const tokenIds = new Set<string>();
    const userIds = new Set<string>();
    for (const { credential } of holders) {
      userIds.add(credential.userId);
      if (credential.kind === 'api-token') tokenIds.add(credential.tokenId);
    }
    const generation = this.generation;
    this.backgroundQueries++;
    const [principals, liveTokens] = await Promise.all([
      loadPrincipals(db, [...userIds]),
      tokenIds.size === 0 ? Promise.resolve(new Set<string>()) : this.liveTokens(db, [...tokenIds]),
    ]);
    for (const id of userIds) this.remember(this.principals, id, principals.get(id) ?? null, generation);
    for (const holder of holders) {
      if (!this.holders.has(holder)) continue;
      const { credential } = holder;
      const principal = principals.get(credential.userId);
      let end: StreamEnd | null = null;
      if (!principal) end = { reason: 'REVOKED', message: 'The user no longer exists' };
      else if (credential.kind === 'jwt' && loginRevoked(principal, credential)) end = { reason: 'REVOKED', message: LOGIN_REVOKED };
      else if (credential.kind === 'api-token' && !liveTokens.has(credential.tokenId)) {
        end = { reason: 'REVOKED', message: 'The API token was revoked' };
      } else if (credential.kind === 'jwt' && credential.expiresAt <= now) {
        end = { reason: 'EXPIRED', message: 'The access token has expired' };
      }
      if (end) {
        this.holders.delete(holder);
        holder.end(end);
      }
    }
  }

  private async liveTokens(db: Executor, ids: string[]): Promise<Set<string>> {
    this.backgroundQueries++;
    const rows = rowsOf<{ id: string }>(
      await db.execute(sql`select id from api_token where revoked_at is null
        and id in (select value::uuid from jsonb_array_elements_text(${JSON.stringify(ids)}::text::jsonb))`),
    );
    return new Set(rows.map((row) => row.id));
  }
}
