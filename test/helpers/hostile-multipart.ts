// Malformed multipart bodies (the GraphQL multipart request spec, parsed by busboy and
// graphql-upload-minimal), as raw bytes: the crash test and the hostile corpus send each one.
export interface MultipartCase {
  name: string;
  contentType: string;
  body: string;
  /** Content-Length to declare when it is not the body's length. */
  declaredLength?: number;
  /** Half-closes the connection once the body is sent. */
  halfClose?: boolean;
  status: number;
  code: string;
}

const B = 'X';
const TYPE = `multipart/form-data; boundary=${B}`;
const QUERY = JSON.stringify({ query: '{ __typename }', variables: {} });
const UPLOAD = JSON.stringify({
  query: 'mutation($f: Upload!) { uploadApplicationMedia(applicationId: "00000000-0000-4000-8000-000000000000", file: $f) { id } }',
  variables: { f: null },
});

const field = (name: string, value: string, extra = '') =>
  `--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n${extra}\r\n${value}\r\n`;
const file = (name: string, type: string, bytes: string, filename = 'f.png') =>
  `--${B}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n${bytes}\r\n`;
const end = `--${B}--\r\n`;

const bad = (name: string, body: string, contentType = TYPE, status = 400, code = 'BAD_USER_INPUT'): MultipartCase => ({
  name,
  contentType,
  body,
  status,
  code,
});

export const multipartCases: MultipartCase[] = [
  bad('space in a part header name', `--${B}\r\nbad header: 1\r\n\r\nx\r\n${end}`),
  bad('colon-less part header line', `--${B}\r\nnot-a-header\r\n\r\nx\r\n${end}`),
  bad('control character in a part content-type', field('operations', QUERY, 'Content-Type: text/plain\x01\r\n') + end),
  bad('DEL in a part header value', field('operations', QUERY, 'Content-Type: te\x7fxt\r\n') + end),
  bad('8 KB part content-type', field('operations', QUERY, `Content-Type: text/${'a'.repeat(8192)}\r\n`) + end),
  bad('100 KB part header section', `--${B}\r\n${Array.from({ length: 1000 }, (_, i) => `X-H${i}: ${'v'.repeat(95)}`).join('\r\n')}\r\n\r\nx\r\n${end}`),
  bad('NUL in a part header name', `--${B}\r\nContent-Dis\x00position: form-data; name="operations"\r\n\r\n${QUERY}\r\n${end}`),
  bad('truncated before the closing boundary', field('operations', QUERY) + field('map', '{}').slice(0, -2)),
  bad('body ends inside the part headers', `--${B}\r\nContent-Disposition: form-data; na`),
  bad('no parts at all', ''),
  bad('only the closing boundary', end),
  bad('preamble only, no boundary', 'hello world\r\n'),
  bad('boundary missing from the content type', field('operations', QUERY) + end, 'multipart/form-data'),
  bad('empty boundary', field('operations', QUERY) + end, 'multipart/form-data; boundary='),
  bad('multipart/mixed instead of form-data', field('operations', QUERY) + end, `multipart/mixed; boundary=${B}`),
  bad('multipart/form-data without a semicolon', field('operations', QUERY) + end, 'multipart/form-data'),
  bad('boundary of 200 characters', field('operations', QUERY) + end, `multipart/form-data; boundary=${'b'.repeat(200)}`),
  bad('operations is not JSON', field('operations', '{nope') + field('map', '{}') + end),
  bad('operations is a string', field('operations', '"query"') + field('map', '{}') + end),
  bad('map before operations', field('map', '{}') + field('operations', QUERY) + end),
  bad('map is not JSON', field('operations', QUERY) + field('map', '[') + end),
  bad('map is an array', field('operations', QUERY) + field('map', '[]') + end),
  bad('map entry is not an array', field('operations', UPLOAD) + field('map', '{"0":"variables.f"}') + end),
  bad('map path is empty', field('operations', UPLOAD) + field('map', '{"0":[""]}') + end),
  bad('map path through a string', field('operations', UPLOAD) + field('map', '{"0":["query.x.y"]}') + end),
  bad('map path __proto__', field('operations', UPLOAD) + field('map', '{"0":["__proto__.polluted"]}') + end),
  bad('missing map', field('operations', QUERY) + end),
  bad('file before map', field('operations', QUERY) + file('0', 'image/png', 'x') + field('map', '{}') + end),
  // The operation runs (the application does not exist); the file would have been refused.
  bad('file part missing for a mapped variable', field('operations', UPLOAD) + field('map', '{"0":["variables.f"]}') + end, TYPE, 200, 'NOT_FOUND'),
  // busboy's field limit (2) drops it; the operation runs.
  bad('a third field', field('operations', QUERY) + field('map', '{}') + field('extra', 'x') + end, TYPE, 200, 'none'),
  bad('part without Content-Disposition', `--${B}\r\nContent-Type: text/plain\r\n\r\nx\r\n${end}`),
  bad('Content-Disposition with control characters', `--${B}\r\nContent-Disposition: form-data; name="oper\x02ations"\r\n\r\n${QUERY}\r\n${end}`),
  bad('filename with NUL', field('operations', UPLOAD) + field('map', '{"0":["variables.f"]}') + file('0', 'image/png', 'x', 'a\x00b.png') + end, TYPE, 200, 'NOT_FOUND'),
  bad('batched operations', field('operations', `[${QUERY}]`) + field('map', '{}') + end),
  // A syntax error: 200 for a client that accepts only application/json (GraphQL over HTTP).
  bad('operations with NUL in the query', field('operations', JSON.stringify({ query: '{ __typename }\u0000' })) + field('map', '{}') + end, TYPE, 200),
  // Declares more bytes than it sends, then half-closes: Node's HTTP parser answers 400.
  { ...bad('client hangs up before the declared length', field('operations', QUERY), TYPE, 400, 'none'), declaredLength: 4096, halfClose: true },
];
