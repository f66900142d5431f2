// MAX_BODY_BYTES while the body streams (issue 13): Content-Length is only a claim, and a
// chunked body has none. The body of a non-multipart request is read here, bounded, and given
// to Yoga as a Buffer (whatwg-node uses `req.body` when it is set); past the bound the request
// is cut with 413 PAYLOAD_TOO_LARGE and its connection closed, without reading the rest.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const PAYLOAD_TOO_LARGE = {
  errors: [{ message: 'Request body too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
};

function tooLarge(req: IncomingMessage, res: ServerResponse) {
  if (res.headersSent || res.destroyed) return void req.destroy();
  const text = JSON.stringify(PAYLOAD_TOO_LARGE);
  res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' });
  res.end(text);
  // Let the answer leave before the connection goes; what the client still sends is dropped.
  req.resume();
  res.once('finish', () => setTimeout(() => req.socket.destroy(), 500).unref());
}

/**
 * Reads the whole body when it stays within `limit` bytes and answers it; otherwise answers
 * 413 itself and resolves null. Also null when the client went away.
 */
export function readBoundedBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    tooLarge(req, res);
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
      stop(null);
      tooLarge(req, res);
    };
    const onEnd = () => stop(Buffer.concat(chunks, length));
    const onClose = () => stop(null);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onClose);
    req.once('close', onClose);
  });
}
