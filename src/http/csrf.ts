// CSRF prevention for /graphql POSTs. A browser sends a cross-site POST without a preflight
// only with a "simple" content type (application/x-www-form-urlencoded, multipart/form-data,
// text/plain) or none; such a POST must carry one of CSRF_HEADERS, which no page can add
// without a preflight that CORS_ORIGINS decides. JSON POSTs need nothing (their content type
// already forces a preflight), and GET stays open: Yoga runs only queries and subscriptions
// over GET, and EventSource cannot send headers. Yoga's csrfPrevention option would also
// demand the header on every GET, which is why the rule is ours. Multipart (uploads) is
// checked in uploads.ts with the same headers (apollo-upload-client sends apollo-require-preflight).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './respond.ts';
import { CSRF_HEADERS } from './uploads.ts';

const SIMPLE = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain', '']);

/** True when the POST was refused (answered 400 BAD_USER_INPUT). */
export function refuseSimplePostWithoutCsrfHeader(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'POST') return false;
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!SIMPLE.has(type) || CSRF_HEADERS.some((name) => req.headers[name])) return false;
  req.resume();
  res.setHeader('connection', 'close');
  sendJson(res, 400, {
    errors: [
      {
        message: `A POST with content type "${type || 'none'}" needs a preflight header such as x-graphql-csrf (CSRF prevention); send application/json instead`,
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ],
  });
  return true;
}
