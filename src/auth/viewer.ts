// Who is asking: resolves a bearer token (API token, access JWT, or ADMIN_TOKEN) to a user.
import { timingSafeEqual } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { apiTokenTable, userTable } from '../db/schema.ts';
import { DomainError, ErrorCode, unauthenticated } from '../domain/errors.ts';
import { hashSecret, looksLikeJwt, verifyAccessToken } from './tokens.ts';

export interface Viewer {
  id: string;
  username: string;
  isAdmin: boolean;
  isIntegration: boolean;
}

export const BUILTIN_ADMIN_USERNAME = 'admin';

export interface AuthSettings {
  jwtSecret: string;
  adminToken: string | null;
}

export type Authentication = { viewer: Viewer | null; error: DomainError | null };

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

export async function authenticate(
  db: Executor,
  settings: AuthSettings,
  header: string | null | undefined,
): Promise<Authentication> {
  const token = bearerToken(header);
  if (token === null) return { viewer: null, error: null };
  if (token instanceof DomainError) return { viewer: null, error: token };
  try {
    const viewer = await viewerForToken(db, settings, token);
    return viewer ? { viewer, error: null } : { viewer: null, error: unauthenticated('Invalid token') };
  } catch (error) {
    if (error instanceof DomainError) return { viewer: null, error };
    throw error;
  }
}

async function viewerForToken(db: Executor, settings: AuthSettings, token: string): Promise<Viewer | null> {
  if (settings.adminToken && sameSecret(token, settings.adminToken)) {
    const [admin] = await db.select().from(userTable).where(eq(userTable.username, BUILTIN_ADMIN_USERNAME));
    return admin ? toViewer(admin) : null;
  }
  if (looksLikeJwt(token)) {
    const check = await verifyAccessToken(settings.jwtSecret, token);
    if ('error' in check) {
      throw new DomainError(
        ErrorCode.UNAUTHENTICATED,
        check.error === 'expired' ? 'The access token has expired' : 'Invalid token',
      );
    }
    const [user] = await db.select().from(userTable).where(eq(userTable.id, check.userId));
    return user ? toViewer(user) : null;
  }
  // One statement both checks the API token and records its use.
  const [row] = await db
    .update(apiTokenTable)
    .set({ lastUsedAt: new Date() })
    .where(and(eq(apiTokenTable.tokenHash, hashSecret(token)), isNull(apiTokenTable.revokedAt)))
    .returning({ userId: apiTokenTable.userId });
  if (!row) return null;
  const [user] = await db.select().from(userTable).where(eq(userTable.id, row.userId));
  return user ? toViewer(user) : null;
}

export function toViewer(user: typeof userTable.$inferSelect): Viewer {
  return { id: user.id, username: user.username, isAdmin: user.isAdmin, isIntegration: user.isIntegration };
}
