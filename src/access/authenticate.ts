// Who is asking: a bearer token (API token, access JWT, or ADMIN_TOKEN) resolved to a
// principal and the credential a long-lived stream keeps re-checking. In the steady state this
// costs no statement: JWTs are verified in memory, API tokens and principals come from the
// registry's memory (at most ACCESS_RECHECK_MS old, dropped on an access signal). A miss costs
// one statement, the token and the principal together. An access JWT whose login was revoked
// (refresh-token reuse) is refused from the same principal (`revokedLogins`), at no extra cost. `lastUsedAt` of an API token is written
// at most once a minute per token, off the request path.
import { timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { hashSecret, looksLikeJwt, verifyAccessToken } from '../auth/tokens.ts';
import type { Executor } from '../db/client.ts';
import { DomainError, ErrorCode, unauthenticated } from '../domain/errors.ts';
import { findPrincipal, type Principal } from './principal.ts';
import { LOGIN_REVOKED, loginRevoked, type AccessRegistry, type Credential } from './registry.ts';

export const BUILTIN_ADMIN_USERNAME = 'admin';

export interface AuthSettings {
  jwtSecret: string;
  adminToken: string | null;
}

export type Authentication =
  | { viewer: Principal; credential: Credential; error: null }
  | { viewer: null; credential: null; error: DomainError | null };

const ANONYMOUS: Authentication = { viewer: null, credential: null, error: null };
const LAST_USED_INTERVAL_MS = 60_000;

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Reads `Bearer <token>`; no header is an anonymous request, a bad one an error. */
export function bearerToken(header: string | null | undefined): string | null | DomainError {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : unauthenticated('The Authorization header must be "Bearer <token>"');
}

const refused = (message = 'Invalid token'): Authentication => ({ viewer: null, credential: null, error: unauthenticated(message) });
const EXPIRED = 'TOKEN_EXPIRED';
const revoked = (): Authentication => ({
  viewer: null,
  credential: null,
  error: new DomainError(ErrorCode.UNAUTHENTICATED, LOGIN_REVOKED, { reason: 'TOKEN_REVOKED' }),
});
const expired = (): Authentication => ({
  viewer: null,
  credential: null,
  error: new DomainError(ErrorCode.UNAUTHENTICATED, 'The access token has expired', { reason: EXPIRED }),
});

export class Authenticator {
  private adminId: string | null = null;
  private readonly lastUsedWrites = new Map<string, number>();

  constructor(
    private readonly settings: AuthSettings,
    private readonly registry: AccessRegistry,
    private readonly background: () => Executor | null,
    private readonly logger?: Logger,
  ) {}

  async authenticate(db: Executor, header: string | null | undefined): Promise<Authentication> {
    const token = bearerToken(header);
    if (token === null) return ANONYMOUS;
    if (token instanceof DomainError) return { viewer: null, credential: null, error: token };
    if (this.settings.adminToken && sameSecret(token, this.settings.adminToken)) return this.admin(db);
    if (looksLikeJwt(token)) {
      const check = await verifyAccessToken(this.settings.jwtSecret, token);
      if ('error' in check) return check.error === 'expired' ? expired() : refused();
      const viewer = await this.registry.principal(db, check.userId);
      if (!viewer) return refused();
      const credential: Credential = { kind: 'jwt', userId: viewer.id, expiresAt: check.expiresAt, loginId: check.loginId };
      // The login's revocation comes with the principal (same statement, same cache): no read of its own.
      if (loginRevoked(viewer, credential)) return revoked();
      return { viewer, credential, error: null };
    }
    return this.apiToken(db, token);
  }

  private async admin(db: Executor): Promise<Authentication> {
    let viewer = this.adminId ? await this.registry.principal(db, this.adminId) : null;
    if (!viewer) {
      const generation = this.registry.currentGeneration;
      viewer = await findPrincipal(db, sql`"user" u`, sql`u.username = ${BUILTIN_ADMIN_USERNAME}`);
      if (!viewer) return refused();
      this.adminId = viewer.id;
      this.registry.rememberPrincipal(viewer, generation);
    }
    return { viewer, credential: { kind: 'admin-token', userId: viewer.id }, error: null };
  }

  private async apiToken(db: Executor, token: string): Promise<Authentication> {
    const hash = hashSecret(token);
    const known = this.registry.cachedToken(hash);
    if (known) {
      const viewer = await this.registry.principal(db, known.userId);
      if (!viewer) return refused();
      this.used(known.tokenId);
      return { viewer, credential: { kind: 'api-token', userId: viewer.id, tokenId: known.tokenId }, error: null };
    }
    const generation = this.registry.currentGeneration;
    const found = await findPrincipal<{ token_id: string }>(
      db,
      sql`api_token t join "user" u on u.id = t.user_id`,
      sql`t.token_hash = ${hash} and t.revoked_at is null`,
      sql`, t.id as token_id`,
    );
    if (!found) return refused();
    const { extra, ...viewer } = found;
    this.registry.rememberToken(hash, { tokenId: extra.token_id, userId: viewer.id }, generation);
    this.registry.rememberPrincipal(viewer, generation);
    this.used(extra.token_id);
    return { viewer, credential: { kind: 'api-token', userId: viewer.id, tokenId: extra.token_id }, error: null };
  }

  /** Records use of an API token, at most once a minute per token, without waiting for it. */
  private used(tokenId: string): void {
    const now = Date.now();
    if (now - (this.lastUsedWrites.get(tokenId) ?? 0) < LAST_USED_INTERVAL_MS) return;
    const db = this.background();
    if (!db) return;
    this.lastUsedWrites.set(tokenId, now);
    if (this.lastUsedWrites.size > 100_000) this.lastUsedWrites.clear();
    db.execute(sql`update api_token set last_used_at = now() where id = ${tokenId}`).catch((error: unknown) =>
      this.logger?.warn({ err: error }, 'recording lastUsedAt of an API token failed'),
    );
  }
}

/** Whether an authentication error is about an expired access token (clients refresh and reconnect). */
export function isExpiry(error: DomainError | null): boolean {
  return error?.details.reason === EXPIRED;
}
