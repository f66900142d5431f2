// Signed download URLs: `/media/<id>/content?u=<user>&exp=<unix seconds>&sig=<hmac>`, so an
// <img src> works without a header. The signature binds the media, the user it was issued
// to (whose permissions are checked again at download) and the expiry. The key is derived
// from JWT_SECRET, so a signature is never a valid token of another kind.
import { createHmac, timingSafeEqual } from 'node:crypto';

function keyFrom(secret: string): Buffer {
  return createHmac('sha256', secret).update('skylight media url v1').digest();
}

function signature(secret: string, mediaId: string, userId: string, expires: number): string {
  return createHmac('sha256', keyFrom(secret)).update(`${mediaId}\n${userId}\n${expires}`).digest('base64url');
}

export function mediaContentPath(mediaId: string): string {
  return `/media/${mediaId}/content`;
}

export function signMediaUrl(
  options: { secret: string; ttlSeconds: number; publicUrl?: string | null },
  mediaId: string,
  userId: string,
  now = Date.now(),
): string {
  const expires = Math.floor(now / 1000) + options.ttlSeconds;
  const query = new URLSearchParams({ u: userId, exp: String(expires), sig: signature(options.secret, mediaId, userId, expires) });
  return `${options.publicUrl ?? ''}${mediaContentPath(mediaId)}?${query}`;
}

export type SignedCheck = { userId: string } | { error: 'invalid' | 'expired' } | null;

/** The user a signed URL was issued to; null when the URL carries no signature at all. */
export function verifySignedUrl(secret: string, mediaId: string, params: URLSearchParams, now = Date.now()): SignedCheck {
  const userId = params.get('u');
  const exp = params.get('exp');
  const sig = params.get('sig');
  if (userId === null && exp === null && sig === null) return null;
  if (!userId || !exp || !sig || !/^\d{1,12}$/.test(exp)) return { error: 'invalid' };
  const expected = Buffer.from(signature(secret, mediaId, userId, Number(exp)));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { error: 'invalid' };
  if (Number(exp) * 1000 < now) return { error: 'expired' };
  return { userId };
}
