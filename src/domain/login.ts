// Password login and refresh-token rotation (SPEC 1). A refresh token works once; using it
// again means it was stolen or replayed, so its whole family (every token rotated from the
// same login) is revoked, and with it the access tokens of that login (their `sid` is the
// family id): `onLoginRevoked` then runs after commit, so the caller can announce the access
// signal and every instance drops what it cached of the user.
import { randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { burnPasswordCheck, verifyPassword } from '../auth/passwords.ts';
import { REFRESH_TOKEN_PREFIX, hashSecret, newSecret, signAccessToken } from '../auth/tokens.ts';
import type { Database, Executor } from '../db/client.ts';
import { refreshTokenTable, userTable } from '../db/schema.ts';
import { unauthenticated } from './errors.ts';

export interface TokenSettings {
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

export interface AuthTokens {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

async function issueTokens(db: Executor, settings: TokenSettings, userId: string, familyId: string): Promise<AuthTokens> {
  const refreshToken = newSecret(REFRESH_TOKEN_PREFIX);
  await db.insert(refreshTokenTable).values({
    userId,
    familyId,
    tokenHash: hashSecret(refreshToken),
    expiresAt: new Date(Date.now() + settings.refreshTokenTtlSeconds * 1000),
  });
  return {
    accessToken: await signAccessToken(settings.jwtSecret, userId, settings.accessTokenTtlSeconds, familyId),
    expiresIn: settings.accessTokenTtlSeconds,
    refreshToken,
    refreshExpiresIn: settings.refreshTokenTtlSeconds,
  };
}

export async function login(db: Database, settings: TokenSettings, username: string, password: string) {
  const [user] = await db.select().from(userTable).where(eq(userTable.username, username));
  if (!user?.passwordHash) {
    await burnPasswordCheck(password);
    throw unauthenticated('Wrong username or password');
  }
  if (!(await verifyPassword(password, user.passwordHash))) throw unauthenticated('Wrong username or password');
  return issueTokens(db, settings, user.id, randomUUID());
}

export async function refresh(
  db: Database,
  settings: TokenSettings,
  presented: string,
  onLoginRevoked: () => void | Promise<void> = () => {},
): Promise<AuthTokens> {
  const outcome = await db.transaction(async (tx) => {
    const [token] = await tx
      .select()
      .from(refreshTokenTable)
      .where(eq(refreshTokenTable.tokenHash, hashSecret(presented)))
      .for('update');
    if (!token || token.revokedAt || token.expiresAt.getTime() <= Date.now()) return null;
    if (token.usedAt) {
      await tx
        .update(refreshTokenTable)
        .set({ revokedAt: new Date() })
        .where(and(eq(refreshTokenTable.familyId, token.familyId), isNull(refreshTokenTable.revokedAt)));
      return 'reused' as const;
    }
    await tx.update(refreshTokenTable).set({ usedAt: new Date() }).where(eq(refreshTokenTable.id, token.id));
    return issueTokens(tx, settings, token.userId, token.familyId);
  });
  if (outcome === 'reused') {
    await onLoginRevoked();
    throw unauthenticated('This refresh token was already used; its session is revoked');
  }
  if (!outcome) throw unauthenticated('Invalid or expired refresh token');
  return outcome;
}
