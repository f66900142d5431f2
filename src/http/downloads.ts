// GET /media/<id>/content: the original bytes, with the bearer token or a signed URL. The
// same rules as the API: invisible, archived, deleted or unfinished media is 404; visible
// media without session:media:read:content is 403. Range (206/416), ETag = sha256 (304).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import fresh from 'fresh';
import rangeParser from 'range-parser';
import { loadSessionFacts } from '../access/facts.ts';
import type { Principal } from '../access/principal.ts';
import { rules } from '../access/rules.ts';
import { isUuid } from '../domain/ids.ts';
import { verifySignedUrl } from '../domain/media-urls.ts';
import { findMedia, type MediaRow } from '../domain/media.ts';
import type { ContextBase } from '../graphql/make-context.ts';
import type { ByteRange } from '../storage/types.ts';
import { sendJson } from './respond.ts';

export const MEDIA_CONTENT_PATH = /^\/media\/([^/]+)\/content$/;

function fail(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

type Who = { viewer: Principal } | { status: number; code: string; message: string };

async function whoAsks(base: ContextBase, req: IncomingMessage, mediaId: string, params: URLSearchParams): Promise<Who> {
  const signed = verifySignedUrl(base.config.jwtSecret, mediaId, params);
  if (signed && 'error' in signed) {
    return { status: 403, code: 'FORBIDDEN', message: signed.error === 'expired' ? 'The signed URL has expired' : 'Invalid signature' };
  }
  if (signed) {
    const viewer = isUuid(signed.userId) ? await base.services.access.principal(base.db, signed.userId) : null;
    return viewer ? { viewer } : { status: 403, code: 'FORBIDDEN', message: 'Invalid signature' };
  }
  const { viewer, error } = await base.services.auth.authenticate(base.db, req.headers.authorization);
  if (viewer) return { viewer };
  return { status: 401, code: 'UNAUTHENTICATED', message: error?.message ?? 'Authentication required' };
}

/** A single `bytes=` range (range-parser); null for none, a malformed one or several (the whole body is then sent). */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const ranges = rangeParser(size, header, { combine: true });
  if (ranges === -1) return 'unsatisfiable';
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return null;
  return { start: ranges[0]!.start, end: ranges[0]!.end };
}

function disposition(media: MediaRow): string {
  const inline = media.kind !== 'OTHER' && media.contentType !== 'image/svg+xml';
  const ascii = media.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(media.filename)}`;
}

/** The media id of the path, percent-decoded; null when the escapes are malformed (`%E0%A4%A`). */
function decodeId(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** `rawId` is the path segment as sent. */
export async function handleMediaDownload(base: ContextBase, req: IncomingMessage, res: ServerResponse, rawId: string) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return fail(res, 405, 'BAD_USER_INPUT', 'Use GET or HEAD', { allow: 'GET, HEAD' });
  }
  const mediaId = decodeId(rawId);
  let params: URLSearchParams;
  try {
    params = new URL(`http://localhost${(req.url ?? '/').replace(/^[^?]*/, '/')}`).searchParams;
  } catch {
    params = new URLSearchParams();
  }
  if (mediaId === null) return fail(res, 400, 'BAD_USER_INPUT', 'The media id in the path is not a valid percent-encoded string');
  const who = await whoAsks(base, req, mediaId, params);
  if ('status' in who) return fail(res, who.status, who.code, who.message);
  const media = await findMedia(base.db, mediaId);
  const session = media?.sessionId ? ((await loadSessionFacts(base.db, [media.sessionId])).get(media.sessionId) ?? null) : null;
  if (!media || media.status !== 'READY' || !media.storageKey || !rules.mediaVisible.check(who.viewer, { ...media, session })) {
    return fail(res, 404, 'NOT_FOUND', 'Media not found');
  }
  const content = { applicationId: media.applicationId, permission: 'session:media:read:content' } as const;
  if (media.scope === 'SESSION' && !rules.permissionHeld.check(who.viewer, content)) {
    return fail(res, 403, 'FORBIDDEN', `Needs the permission ${content.permission}`);
  }
  const etag = `"${media.sha256}"`;
  const headers: Record<string, string> = {
    etag,
    'accept-ranges': 'bytes',
    'cache-control': 'private, max-age=0, must-revalidate',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
  };
  // Only the validator goes to `fresh`: a conditional request that also says `Cache-Control:
  // no-cache` (every fetch() with If-None-Match does) still deserves a 304 from the origin.
  if (fresh({ 'if-none-match': req.headers['if-none-match'] }, { etag })) {
    res.writeHead(304, headers).end();
    return;
  }
  const ifRange = req.headers['if-range'];
  const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, media.size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${media.size}` }).end();
    return;
  }
  const length = range ? range.end - range.start + 1 : media.size;
  const body = req.method === 'HEAD' || length === 0 ? null : await base.services.storage.get(media.storageKey, range ?? undefined).catch(() => null);
  if (!body && req.method !== 'HEAD' && length > 0) return fail(res, 404, 'NOT_FOUND', 'Media not found');
  res.writeHead(range ? 206 : 200, {
    ...headers,
    'content-type': media.contentType,
    'content-length': String(length),
    'content-disposition': disposition(media),
    ...(range && { 'content-range': `bytes ${range.start}-${range.end}/${media.size}` }),
  });
  if (!body) {
    res.end();
    return;
  }
  await pipeline(body, res).catch(() => res.destroy());
}
