// Bearer secrets. API tokens and refresh tokens are random and stored only as sha256;
// access tokens are HS256 JWTs whose `sub` is the user id and whose `sid` is the login they
// belong to (the refresh-token family): when that login is revoked, its access tokens stop too.
// Tokens signed before `sid` existed have none and are accepted until they expire.
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';

export const API_TOKEN_PREFIX = 'sk_';
export const REFRESH_TOKEN_PREFIX = 'rt_';

export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export async function signAccessToken(secret: string, userId: string, ttlSeconds: number, loginId: string): Promise<string> {
  return new SignJWT({ sid: loginId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .setIssuer('skylight-gateway')
    .sign(new TextEncoder().encode(secret));
}

export type AccessTokenCheck = { userId: string; expiresAt: number; loginId: string | null } | { error: 'expired' | 'invalid' };

export async function verifyAccessToken(secret: string, token: string): Promise<AccessTokenCheck> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      issuer: 'skylight-gateway',
    });
    if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return { error: 'invalid' };
    if (payload.sid !== undefined && typeof payload.sid !== 'string') return { error: 'invalid' };
    return { userId: payload.sub, expiresAt: payload.exp * 1000, loginId: payload.sid ?? null };
  } catch (error) {
    return { error: error instanceof joseErrors.JWTExpired ? 'expired' : 'invalid' };
  }
}

export function looksLikeJwt(token: string): boolean {
  return token.split('.').length === 3;
}
