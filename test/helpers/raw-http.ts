// Raw HTTP/1.1 over a TCP socket, for bytes a client library would refuse to send (bad
// header names, control characters, truncated bodies, malformed URLs) and for the answer as
// the server wrote it.
import { connect } from 'node:net';

export interface RawAnswer {
  /** 0 when the server closed the connection without an answer. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The parsed JSON body, or null. */
  json: any;
}

function parse(raw: Buffer): RawAnswer {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '', json: null };
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let bodyBytes = raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    let rest = bodyBytes;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      if (lineEnd < 0) break;
      const size = parseInt(rest.subarray(0, lineEnd).toString(), 16);
      if (!size) break;
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      rest = rest.subarray(lineEnd + 2 + size + 2);
    }
    bodyBytes = Buffer.concat(parts);
  }
  const body = bodyBytes.toString('utf8');
  let json: any = null;
  try {
    json = JSON.parse(body);
  } catch {
    json = null;
  }
  return { status, headers, body, json };
}

/**
 * Sends `head` (request line and headers, without the blank line: it is added) and `body`,
 * and half-closes only with `halfClose` (Node's server then aborts a request still waiting for
 * its answer); answers what came back once the server closed or `waitMs` passed without a byte.
 */
export function rawRequest(
  port: number,
  head: string,
  body: Buffer | string = '',
  options: { waitMs?: number; halfClose?: boolean } = {},
): Promise<RawAnswer> {
  const waitMs = options.waitMs ?? 5_000;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks)));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(done, waitMs);
    };
    socket.on('connect', () => {
      socket.write(Buffer.from(`${head}\r\n\r\n`, 'latin1'));
      socket.write(typeof body === 'string' ? Buffer.from(body, 'latin1') : body, () => {
        if (options.halfClose) socket.end();
      });
      arm();
    });
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // One answer is enough: stop once a complete body has arrived.
      const answer = parse(Buffer.concat(chunks));
      const length = Number(answer.headers['content-length'] ?? NaN);
      if (answer.status && Number.isFinite(length) && Buffer.byteLength(answer.body) >= length) return done();
      arm();
    });
    socket.on('error', () => done());
    socket.on('close', () => done());
  });
}

/** A POST /graphql with the given content type and exact body bytes (Content-Length set). */
export function rawPost(
  port: number,
  contentType: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
  options: { waitMs?: number; declaredLength?: number; halfClose?: boolean } = {},
): Promise<RawAnswer> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const lines = [
    'POST /graphql HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    `Content-Type: ${contentType}`,
    `Content-Length: ${options.declaredLength ?? bytes.length}`,
    'Connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return rawRequest(port, lines.join('\r\n'), bytes, options);
}
