// MAX_BODY_BYTES while the body streams (issue 13): Content-Length is only a claim, and a
// chunked body has none. The body of a non-multipart request is read here, bounded, and given
// to Yoga as a Buffer (whatwg-node uses `req.body` when it is set); past the bound the request
// is cut with 413 PAYLOAD_TOO_LARGE and its connection closed, without reading the rest.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const PAYLOAD_TOO_LARGE = {
  errors: [{ message: 'Request body too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
};

/** What the client may still send after crossing the bound, read and dropped, before the 413. */
const DISCARD_FACTOR = 4;
const DISCARD_MS = 10_000;

/**
 * Answers 413 and closes the connection. Closing while bytes still arrive makes the kernel
 * reset the connection, and the client may never read the answer: so what follows the bound
 * is read and dropped (never kept) until the body ends, DISCARD_FACTOR times the limit has
 * been dropped, or DISCARD_MS passed; then the 413 goes and the connection with it.
 */
function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number, dropped = 0) {
  if (res.headersSent || res.destroyed) return void req.destroy();
  let answered = false;
  const answer = () => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    if (res.destroyed) return;
    const text = JSON.stringify(PAYLOAD_TOO_LARGE);
    res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' });
    res.end(text);
  };
  const timer = setTimeout(answer, DISCARD_MS).unref();
  if (Number(req.headers['content-length'] ?? 0) > DISCARD_FACTOR * limit || req.readableEnded) return answer();
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_FACTOR * limit) answer();
  });
  req.once('end', answer);
  req.once('close', answer);
  req.resume();
}

/**
 * Reads the whole body when it stays within `limit` bytes and answers it; otherwise answers
 * 413 itself and resolves null. Also null when the client went away.
 */
export function readBoundedBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    tooLarge(req, res, limit);
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = (value: Buffer | null) => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onClose);
      req.removeListener('close', onClose);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) return void chunks.push(chunk);
      chunks.length = 0;
      stop(null);
      tooLarge(req, res, limit, length);
    };
    const onEnd = () => stop(Buffer.concat(chunks, length));
    const onClose = () => stop(null);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onClose);
    req.once('close', onClose);
  });
}
