// "The database does not answer" in one place: the errors the drivers raise when PostgreSQL
// is down, restarting, refusing connections or unreachable. The API shows them as UNAVAILABLE
// (HTTP 503 with Retry-After), never as an internal error: the client should retry later,
// and the gateway reconnects by itself (the pool opens new connections on the next query).

/** Seconds a client is asked to wait (Retry-After) before trying again. */
export const RETRY_AFTER_SECONDS = 5;

/** Socket-level failures on the way to the server (Node's net, DNS while resolving the host). */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/** The `postgres` driver's own connection errors (its `errors.connection(...)`). */
const DRIVER_CODES = new Set(['CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED']);

/**
 * SQLSTATEs that mean the server, not the statement, is at fault: class 08 (connection
 * exception), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting
 * up or shutting down), 53300 too_many_connections.
 */
function unavailableState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

function unavailableHere(error: object): boolean {
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || DRIVER_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && unavailableState(code)) return true;
  }
  // `postgres` keeps the SQLSTATE in `code` too; some wrappers move it to errno.
  return typeof errno === 'string' && DRIVER_CODES.has(errno);
}

/**
 * Whether `error` (or what it wraps: Drizzle's query errors, GraphQL's originalError,
 * AggregateErrors of a connect to several addresses) says the database is unavailable.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.size < 20) {
    const current = pending.shift();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    if (unavailableHere(current)) return true;
    const { cause, originalError, errors } = current as { cause?: unknown; originalError?: unknown; errors?: unknown };
    pending.push(cause, originalError);
    if (Array.isArray(errors)) pending.push(...errors);
  }
  return false;
}
