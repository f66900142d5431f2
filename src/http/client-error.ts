// Requests Node's HTTP parser refuses (a header block over the limit, two Content-Lengths, a bad
// chunk size...) get the same answers as Node's own handler, but with a lingering close:
// Node writes the answer and destroys the socket at once, and when the client is still
// sending (a 100 KB header), closing with unread bytes makes the kernel send a reset that can
// discard the answer before the client reads it. Here the socket is half-closed after the
// answer and its input read and dropped until the client closes, for at most LINGER_MS.
import type { Socket } from 'node:net';

/** How long a refused client may keep sending after its answer before the socket is destroyed. */
export const LINGER_MS = 2_000;

const answerFor = (code: string | undefined): string => {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return '431 Request Header Fields Too Large';
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return '413 Payload Too Large';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return '408 Request Timeout';
    default:
      return '400 Bad Request';
  }
};

/** The server's 'clientError' listener. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // An answer already on its way (or a client already gone) cannot be followed by another.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || error.code === 'ECONNRESET' || inFlight?.headersSent) return void socket.destroy();
  socket.on('error', () => socket.destroy());
  socket.end(`HTTP/1.1 ${answerFor(error.code)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  // Drop what the client still sends; its FIN (or the timer) ends the socket. The empty
  // listener is needed: with resume() alone, test/client-error.test.ts saw an answer lost again.
  socket.removeAllListeners('data');
  socket.on('data', () => {});
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
