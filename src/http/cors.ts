// Cross-origin access for browser frontends: /graphql (queries, mutations, uploads, SSE) and
// media downloads. CORS_ORIGINS decides: `*` lets any page call without credentials (the
// API's credential is a bearer header, which a page must hold anyway), a list lets those
// origins call with credentials, and none sends no CORS headers at all (the production
// default). The GraphiQL page is never readable cross-origin: in demo mode it carries a token.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type CorsOrigins = '*' | readonly string[];

/** Response headers a frontend may read: request ids for support, media download metadata. */
const EXPOSED = ['x-request-id', 'retry-after', 'content-disposition', 'content-range', 'accept-ranges', 'etag', 'content-length'];
const PREFLIGHT_MAX_AGE_SECONDS = 600;
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;

/** Adds tokens to the response's Vary header, keeping what is there. */
export function appendVary(res: ServerResponse, ...tokens: string[]) {
  const current = String(res.getHeader('vary') ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter(Boolean);
  for (const token of tokens) if (!current.some((have) => have.toLowerCase() === token.toLowerCase())) current.push(token);
  res.setHeader('vary', current.join(', '));
}

/** What GraphiQL is served for (Yoga's rule): a page load, never a cross-origin read. */
function isPageLoad(req: IncomingMessage): boolean {
  return req.method === 'GET' && String(req.headers.accept ?? '').includes('text/html');
}

/**
 * Sets the CORS headers of a request to `methods`-serving route and answers its preflight.
 * Returns true when the request was an OPTIONS request and has been answered.
 */
export function handleCors(origins: CorsOrigins, req: IncomingMessage, res: ServerResponse, methods: readonly string[]): boolean {
  const origin = req.headers.origin;
  const listed = origins !== '*';
  if (listed) appendVary(res, 'Origin');
  const allowed = !!origin && !isPageLoad(req) && (origins === '*' || origins.includes(origin));
  if (allowed) {
    res.setHeader('access-control-allow-origin', origins === '*' ? '*' : origin);
    if (listed) res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('access-control-expose-headers', EXPOSED.join(', '));
  }
  if (req.method !== 'OPTIONS') return false;
  const allow = [...methods, 'OPTIONS'].join(', ');
  const requested = req.headers['access-control-request-headers'];
  if (allowed && req.headers['access-control-request-method']) {
    res.setHeader('access-control-allow-methods', allow);
    if (typeof requested === 'string' && HEADER_LIST.test(requested.trim())) res.setHeader('access-control-allow-headers', requested.trim());
    res.setHeader('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
    appendVary(res, 'Access-Control-Request-Method', 'Access-Control-Request-Headers');
  }
  req.resume();
  res.writeHead(204, { allow }).end();
  return true;
}
