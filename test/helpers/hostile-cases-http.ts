// The hostile corpus, second part: HTTP methods, bodies and headers, Authorization headers,
// download URLs, the GraphiQL page and multipart bodies (see hostile-cases.ts for the first).
import { ADMIN_TOKEN } from './gateway.ts';
import type { HostileCase, HostileRequest } from './hostile-cases.ts';
import { multipartCases } from './hostile-multipart.ts';

const JSON_ACCEPT = 'application/graphql-response+json, application/json';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const ZERO = '00000000-0000-4000-8000-000000000000';
const b64 = (text: string) => Buffer.from(text).toString('base64');

const cases: HostileCase[] = [];
const add = (category: string, name: string, request: HostileCase['request'], status: number, code: string) =>
  cases.push({ category, name, request, status, code });

// ---- HTTP: methods, bodies, headers, content types ------------------------------------------
const raw = (request: HostileRequest) => () => request;
const gql = (path: string, headers: Record<string, string> = {}) => raw({ method: 'GET', path, headers: { accept: JSON_ACCEPT, ...auth, ...headers } });
const body = (text: string, contentType = 'application/json', headers: Record<string, string> = {}) =>
  raw({ method: 'POST', path: '/graphql', headers: { 'content-type': contentType, accept: JSON_ACCEPT, ...auth, ...headers }, body: text });
const HTTP: [string, () => HostileRequest, number, string][] = [
  ['GET variables not JSON', gql('/graphql?query=%7B__typename%7D&variables=%7Bnope'), 400, 'BAD_USER_INPUT'],
  ['GET variables a JSON string', gql('/graphql?query=%7B__typename%7D&variables=%22x%22'), 400, 'BAD_USER_INPUT'],
  ['GET variables a JSON array', gql('/graphql?query=%7B__typename%7D&variables=%5B1%5D'), 400, 'BAD_USER_INPUT'],
  ['GET extensions not JSON', gql('/graphql?query=%7B__typename%7D&extensions=%7B'), 400, 'BAD_USER_INPUT'],
  ['GET extensions a number', gql('/graphql?query=%7B__typename%7D&extensions=5'), 400, 'BAD_USER_INPUT'],
  ['GET without a query', gql('/graphql?variables=%7B%7D'), 400, 'BAD_USER_INPUT'],
  ['GET a mutation', gql('/graphql?query=mutation%7BcreateGroup(name%3A%22x%22)%7Bid%7D%7D'), 405, 'BAD_USER_INPUT'],
  ['GET a malformed percent-escape', gql('/graphql?query=%E0%A4%A'), 400, 'BAD_USER_INPUT'],
  ['GET a lone % in the query string', gql('/graphql?query=%'), 400, 'BAD_USER_INPUT'],
  ['GET query twice', gql('/graphql?query=%7B__typename%7D&query=%7Bviewer%7Bid%7D%7D'), 200, 'none'],
  ['GET with a NUL in the query', gql('/graphql?query=%7B__typename%00%7D'), 400, 'BAD_USER_INPUT'],
  ['POST an empty body', body(''), 400, 'BAD_USER_INPUT'],
  ['POST invalid JSON', body('{"query":'), 400, 'BAD_USER_INPUT'],
  ['POST a JSON string', body('"{ __typename }"'), 400, 'BAD_USER_INPUT'],
  ['POST a JSON number', body('5'), 400, 'BAD_USER_INPUT'],
  ['POST null', body('null'), 400, 'BAD_USER_INPUT'],
  ['POST a batch array', body('[{"query":"{ __typename }"}]'), 400, 'BAD_USER_INPUT'],
  ['POST query a number', body('{"query":5}'), 400, 'BAD_USER_INPUT'],
  ['POST query an object', body('{"query":{"a":1}}'), 400, 'BAD_USER_INPUT'],
  ['POST variables a string', body('{"query":"{ __typename }","variables":"x"}'), 400, 'BAD_USER_INPUT'],
  ['POST variables an array', body('{"query":"{ __typename }","variables":[]}'), 400, 'BAD_USER_INPUT'],
  ['POST operationName a number', body('{"query":"{ __typename }","operationName":5}'), 400, 'BAD_USER_INPUT'],
  ['POST extensions a string', body('{"query":"{ __typename }","extensions":"x"}'), 400, 'BAD_USER_INPUT'],
  ['POST a lone surrogate escape in JSON', body('{"query":"{ __typename }","variables":{"x":"\\ud800"}}'), 400, 'BAD_USER_INPUT'],
  ['POST invalid UTF-8 bytes', body('{"query":"{ __typename }","variables":{"x":"\xff\xfe"}}'), 200, 'none'],
  ['POST a BOM before the JSON', body('\ufeff{"query":"{ __typename }"}'), 400, 'BAD_USER_INPUT'],
  // A simple content type (one a cross-site form can send) needs a CSRF header (src/http/csrf.ts).
  ['POST text/plain', body('{"query":"{ __typename }"}', 'text/plain'), 400, 'BAD_USER_INPUT'],
  ['POST application/xml', body('<q/>', 'application/xml'), 415, 'none'],
  ['POST no content type', raw({ method: 'POST', path: '/graphql', headers: { ...auth, accept: JSON_ACCEPT }, body: '{"query":"{ __typename }"}' }), 400, 'BAD_USER_INPUT'],
  ['POST application/graphql', body('{ __typename }', 'application/graphql'), 200, 'none'],
  ['POST x-www-form-urlencoded', body('query=%7B__typename%7D', 'application/x-www-form-urlencoded'), 400, 'BAD_USER_INPUT'],
  ['POST a charset that does not exist', body('{"query":"{ __typename }"}', 'application/json; charset=nope'), 200, 'none'],
  ['POST a content type with a NUL-like control', body('{"query":"{ __typename }"}', 'application/json;\x01'), 400, 'none'],
  ['POST a body over MAX_BODY_BYTES (Content-Length)', body(`{"query":"{ __typename }","variables":{"p":"${'x'.repeat(2 * 1024 * 1024)}"}}`), 413, 'PAYLOAD_TOO_LARGE'],
  ['POST a chunked body over MAX_BODY_BYTES', raw({ head: 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close', body: `${(3 * 1024 * 1024).toString(16)}\r\n${'x'.repeat(3 * 1024 * 1024)}\r\n0\r\n\r\n` }), 413, 'PAYLOAD_TOO_LARGE'],
  ['POST a chunked body within the limit', raw({ head: `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: ${JSON_ACCEPT}\r\nTransfer-Encoding: chunked\r\nConnection: close`, body: '1a\r\n{"query":"{ __typename }"}\r\n0\r\n\r\n' }), 200, 'none'],
  ['POST a Content-Length over the body (client hangs up)', raw({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}', declaredLength: 500, halfClose: true }), 400, 'none'],
  ['PUT', raw({ method: 'PUT', path: '/graphql', headers: { 'content-type': 'application/json', accept: JSON_ACCEPT }, body: '{"query":"{ __typename }"}' }), 405, 'BAD_USER_INPUT'],
  ['DELETE', raw({ method: 'DELETE', path: '/graphql', headers: { accept: JSON_ACCEPT } }), 405, 'BAD_USER_INPUT'],
  ['PATCH', raw({ method: 'PATCH', path: '/graphql', headers: { 'content-type': 'application/json', accept: JSON_ACCEPT }, body: '{}' }), 405, 'BAD_USER_INPUT'],
  ['an unknown method', raw({ method: 'BREW', path: '/graphql' }), 400, 'none'],
  ['TRACE', raw({ method: 'TRACE', path: '/graphql' }), 405, 'BAD_USER_INPUT'],
  ['OPTIONS without Origin', raw({ method: 'OPTIONS', path: '/graphql' }), 204, 'none'],
  ['an unknown path', raw({ method: 'GET', path: '/nope' }), 404, 'none'],
  ['a path traversal', raw({ method: 'GET', path: '/graphiql/../../etc/passwd' }), 404, 'none'],
  ['an absolute-form request line', raw({ head: 'GET http://evil.example/health HTTP/1.1\r\nHost: evil.example\r\nConnection: close' }), 404, 'none'],
  ['an asterisk request line', raw({ head: 'GET * HTTP/1.1\r\nHost: x\r\nConnection: close' }), 404, 'none'],
  ['a request line with a space in the path', raw({ head: 'GET /gra phql HTTP/1.1\r\nHost: x\r\nConnection: close' }), 400, 'none'],
  ['HTTP/0.9 style request', raw({ head: 'GET /health' }), 200, 'none'],
  ['HTTP/2 preface on HTTP/1', raw({ head: 'PRI * HTTP/2.0\r\n\r\nSM' }), 400, 'none'],
  ['a header name with a space', raw({ head: 'GET /graphql HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\nConnection: close' }), 400, 'none'],
  ['a header value with a NUL', raw({ head: 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nConnection: close' }), 400, 'none'],
  ['a 100 KB header', raw({ head: `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(100_000)}\r\nConnection: close` }), 431, 'none'],
  ['2,000 headers', raw({ head: `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 2000 }, (_, i) => `X-${i}: y`).join('\r\n')}\r\nConnection: close` }), 200, 'none'],
  ['no Host header', raw({ head: 'GET /health HTTP/1.1\r\nConnection: close' }), 400, 'none'],
  ['a Host with spaces', raw({ head: `POST /graphql HTTP/1.1\r\nHost: a b c\r\nContent-Type: application/json\r\nContent-Length: 26\r\nConnection: close`, body: '{"query":"{ __typename }"}' }), 400, 'BAD_USER_INPUT'],
  ['two Content-Length headers', raw({ head: 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 26\r\nContent-Length: 27\r\nConnection: close', body: '{"query":"{ __typename }"}' }), 400, 'none'],
  ['Content-Length and chunked', raw({ head: 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close', body: '0\r\n\r\n' }), 400, 'none'],
  ['a negative Content-Length', raw({ head: 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\nConnection: close', body: '' }), 400, 'none'],
  ['a bad chunk size', raw({ head: 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close', body: 'zz\r\nx\r\n0\r\n\r\n' }), 400, 'none'],
  ['Accept: only text/html on POST', body('{"query":"{ __typename }"}', 'application/json', { accept: 'text/html' }), 406, 'none'],
  ['Accept: nothing acceptable', body('{"query":"{ __typename }"}', 'application/json', { accept: 'image/png' }), 406, 'none'],
  ['Accept-Encoding: garbage', body('{"query":"{ __typename }"}', 'application/json', { 'accept-encoding': ';;;q=abc,*;q=' }), 200, 'none'],
  ['Content-Encoding: gzip with plain bytes', body('{"query":"{ __typename }"}', 'application/json', { 'content-encoding': 'gzip' }), 200, 'none'],
  ['Content-Encoding: unknown', body('{"query":"{ __typename }"}', 'application/json', { 'content-encoding': 'zstd-nope' }), 200, 'none'],
  ['x-request-id of 10 KB', body('{"query":"{ __typename }"}', 'application/json', { 'x-request-id': 'r'.repeat(10_000) }), 200, 'none'],
  ['Origin that is not allowed', body('{"query":"{ __typename }"}', 'application/json', { origin: 'https://evil.example' }), 200, 'none'],
];
for (const [name, request, status, code] of HTTP) add('HTTP methods/bodies/headers', name, request, status, code);

// ---- Authorization headers --------------------------------------------------------------------
const AUTH: [string, string][] = [
  ['Bearer garbage', 'Bearer garbage'],
  ['Bearer empty', 'Bearer '],
  ['Basic credentials', 'Basic YWRtaW46YWRtaW4='],
  ['no scheme', ADMIN_TOKEN],
  ['lower-case bearer', `bearer ${ADMIN_TOKEN}x`],
  ['a JWT with alg none', `Bearer ${b64('{"alg":"none"}')}.${b64('{"sub":"x"}')}.`],
  ['a JWT with a bad signature', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
  ['a truncated JWT', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIi'],
  ['a 7 KB token', `Bearer ${'t'.repeat(7_000)}`],
  ['two tokens', `Bearer a, Bearer ${ADMIN_TOKEN}`],
  ['non-ASCII bytes', 'Bearer \xe9\xe8'],
  ['sk_ token guessed', 'Bearer sk_0000000000000000000000000000'],
];
for (const [name, value] of AUTH) {
  add('bad Authorization headers', `query: ${name}`, raw({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', accept: JSON_ACCEPT, authorization: value }, body: '{"query":"{ viewer { user { id } } }"}' }), 200, 'UNAUTHENTICATED');
  add('bad Authorization headers', `download: ${name}`, raw({ method: 'GET', path: `/media/${ZERO}/content`, headers: { authorization: value } }), 401, 'UNAUTHENTICATED');
}

// ---- downloads --------------------------------------------------------------------------------
const DOWNLOADS: [string, string, Record<string, string>, number, string][] = [
  ['malformed percent-escape, authenticated', '/media/%E0%A4%A/content', auth, 400, 'BAD_USER_INPUT'],
  ['malformed percent-escape, anonymous', '/media/%E0%A4%A/content', {}, 400, 'BAD_USER_INPUT'],
  ['a lone %', '/media/%/content', auth, 400, 'BAD_USER_INPUT'],
  ['%zz', '/media/%zz/content', auth, 400, 'BAD_USER_INPUT'],
  ['an encoded NUL', '/media/%00/content', auth, 404, 'NOT_FOUND'],
  ['an encoded lone surrogate', '/media/%ED%A0%80/content', auth, 400, 'BAD_USER_INPUT'],
  ['not a UUID', '/media/x/content', auth, 404, 'NOT_FOUND'],
  ['a 4 KB id', `/media/${'a'.repeat(4096)}/content`, auth, 404, 'NOT_FOUND'],
  ['an unknown UUID', `/media/${ZERO}/content`, auth, 404, 'NOT_FOUND'],
  ['an encoded slash', '/media/a%2Fb/content', auth, 404, 'NOT_FOUND'],
  ['anonymous', `/media/${ZERO}/content`, {}, 401, 'UNAUTHENTICATED'],
  ['a forged signature', `/media/${ZERO}/content?sig=abc&exp=9999999999&u=${ZERO}`, {}, 403, 'FORBIDDEN'],
  ['an expired signature', `/media/${ZERO}/content?sig=abc&exp=1&u=${ZERO}`, {}, 403, 'FORBIDDEN'],
  ['signature params malformed', `/media/${ZERO}/content?sig=%E0%A4%A&exp=%&u=`, {}, 403, 'FORBIDDEN'],
  ['a bad Range', `/media/${ZERO}/content`, { ...auth, range: 'bytes=zz' }, 404, 'NOT_FOUND'],
  ['a trailing slash', `/media/${ZERO}/content/`, auth, 404, 'none'],
  ['a double slash', `//media/${ZERO}/content`, auth, 404, 'none'],
];
for (const [name, path, headers, status, code] of DOWNLOADS) add('download URLs', name, raw({ method: 'GET', path, headers }), status, code);
add('download URLs', 'POST to a download', raw({ method: 'POST', path: `/media/${ZERO}/content`, headers: auth, body: 'x' }), 405, 'BAD_USER_INPUT');
add('download URLs', 'HEAD of a malformed id', raw({ method: 'HEAD', path: '/media/%E0%A4%A/content', headers: auth }), 400, 'none');

// ---- GraphiQL token rule (already on main) --------------------------------------------------
add('GraphiQL page', 'text/html GET with a forwarded-for header', raw({ method: 'GET', path: '/graphql', headers: { accept: 'text/html', 'x-forwarded-for': '203.0.113.9' } }), 200, 'none');
add('GraphiQL page', 'text/html GET with a bad Host', raw({ method: 'GET', path: '/graphql', headers: { accept: 'text/html', host: 'evil.example' } }), 200, 'none');
add('GraphiQL page', 'a GraphiQL asset that does not exist', raw({ method: 'GET', path: '/graphiql/nope.js' }), 404, 'none');

// ---- multipart ---------------------------------------------------------------------------------
for (const c of multipartCases) {
  add('multipart malformations', c.name, raw({
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': c.contentType, 'x-graphql-csrf': '1', ...auth },
    body: c.body,
    declaredLength: c.declaredLength,
    halfClose: c.halfClose,
  }), c.status, c.code);
}
add('multipart malformations', 'no CSRF header', raw({ method: 'POST', path: '/graphql', headers: { 'content-type': 'multipart/form-data; boundary=X', ...auth }, body: '--X--\r\n' }), 400, 'BAD_USER_INPUT');

export const httpCases: readonly HostileCase[] = cases;
