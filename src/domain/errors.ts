// Errors the domain raises on purpose. Each carries one of the codes of SPEC.md section 6;
// the GraphQL layer shows them as they are, and masks everything else.
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  FAILED_PRECONDITION: 'FAILED_PRECONDITION',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  /** The database (or another dependency) does not answer: retry later (HTTP 503, Retry-After). */
  UNAVAILABLE: 'UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);
export const forbidden = (message = 'Not allowed', details: Record<string, unknown> = {}) =>
  new DomainError(ErrorCode.FORBIDDEN, message, details);
export const unauthenticated = (message = 'Authentication required') =>
  new DomainError(ErrorCode.UNAUTHENTICATED, message);
/** `field` names the argument at fault, as SPEC 6 asks of BAD_USER_INPUT. */
export const badInput = (field: string, message: string) =>
  new DomainError(ErrorCode.BAD_USER_INPUT, message, { field });
export const sessionClosed = () =>
  new DomainError(ErrorCode.FAILED_PRECONDITION, 'The session is closed', { reason: 'SESSION_CLOSED' });

/** The SQLSTATE of a database error, looked for through the causes drivers and Drizzle wrap it in. */
export function sqlState(error: unknown): string | null {
  let current = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';

/**
 * Runs `work`; a unique or foreign key violation (a concurrent duplicate, or something deleted
 * meanwhile) becomes the error the caller names instead of an internal one.
 */
export async function withConstraintErrors<T>(
  work: () => Promise<T>,
  errors: { unique?: () => DomainError; foreignKey?: () => DomainError },
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const state = sqlState(error);
    if (state === UNIQUE_VIOLATION && errors.unique) throw errors.unique();
    if (state === FOREIGN_KEY_VIOLATION && errors.foreignKey) throw errors.foreignKey();
    throw error;
  }
}
