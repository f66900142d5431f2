// How errors leave the API: domain errors keep their code and message; GraphQL's own
// validation and input errors become BAD_USER_INPUT; anything else is masked as
// INTERNAL_SERVER_ERROR and its details go only to the server log. A database that does not
// answer is UNAVAILABLE (src/db/unavailable.ts): retry later, not a bug.
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../db/unavailable.ts';
import { DomainError, ErrorCode, sqlState } from '../domain/errors.ts';

const SPEC_CODES = new Set<string>(Object.values(ErrorCode));

export function toGraphQLError(error: DomainError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { code: error.code, ...error.details } });
}

function originalOf(error: unknown): unknown {
  let current = error;
  while (current instanceof GraphQLError && current.originalError && current.originalError !== current) {
    current = current.originalError;
  }
  return current;
}

export function maskError(error: unknown, log: (error: unknown) => void): Error {
  const original = originalOf(error);
  const graphQLError = error instanceof GraphQLError ? error : null;
  if (original instanceof DomainError) {
    return new GraphQLError(original.message, {
      nodes: graphQLError?.nodes,
      source: graphQLError?.source,
      positions: graphQLError?.positions,
      path: graphQLError?.path,
      extensions: { code: original.code, ...original.details },
    });
  }
  if (original instanceof GraphQLError) {
    const code = original.extensions?.code;
    if (typeof code === 'string' && SPEC_CODES.has(code)) {
      // Thrown as a GraphQLError (scope-auth): keep it, but with the field's location and path.
      if (original.path || !graphQLError?.path) return original;
      return new GraphQLError(original.message, {
        nodes: graphQLError.nodes,
        source: graphQLError.source,
        positions: graphQLError.positions,
        path: graphQLError.path,
        extensions: original.extensions,
      });
    }
    if (!original.originalError || typeof code === 'string') {
      // Parse, validation and variable coercion errors: the client's input is at fault.
      return new GraphQLError(original.message, {
        nodes: original.nodes,
        source: original.source,
        positions: original.positions,
        path: original.path,
        extensions: { ...original.extensions, code: ErrorCode.BAD_USER_INPUT },
      });
    }
  }
  if (graphQLError && !graphQLError.originalError && !graphQLError.path) {
    return new GraphQLError(graphQLError.message, {
      nodes: graphQLError.nodes,
      positions: graphQLError.positions,
      extensions: { ...graphQLError.extensions, code: ErrorCode.BAD_USER_INPUT },
    });
  }
  if (isDatabaseUnavailable(original)) return unavailableError(graphQLError);
  // SQLSTATE class 22 (data exception: a value the column cannot take, e.g. a forged cursor's
  // timestamp): the request's input is at fault, and useEdgeValidation missed it. Logged, so
  // the check can be added where it belongs.
  if (sqlState(original)?.startsWith('22')) {
    log(original);
    return new GraphQLError('A value of the request cannot be stored or compared', {
      path: graphQLError?.path,
      extensions: { code: ErrorCode.BAD_USER_INPUT },
    });
  }
  log(original);
  return new GraphQLError('Unexpected error.', {
    path: graphQLError?.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}

/** The one UNAVAILABLE error (a database that does not answer: retry later), where `at` was raised. */
export function unavailableError(at?: GraphQLError | null): GraphQLError {
  return new GraphQLError('The database is unavailable; retry later', {
    nodes: at?.nodes,
    positions: at?.positions,
    path: at?.path,
    extensions: { code: ErrorCode.UNAVAILABLE, retryAfter: RETRY_AFTER_SECONDS },
  });
}

/**
 * Validation errors are returned, not thrown, so they never reach maskError: give them the
 * spec's BAD_USER_INPUT here (Yoga would otherwise label them GRAPHQL_VALIDATION_FAILED).
 */
export function useSpecErrorCodes() {
  return {
    onValidate: () => ({ result }: { result: readonly GraphQLError[] }) => {
      for (const error of result) {
        (error.extensions as Record<string, unknown>).code = ErrorCode.BAD_USER_INPUT;
      }
    },
  };
}

/** True when nothing was answered: no data, or only nulls at the top. */
function nothingAnswered(result: ExecutionResult): boolean {
  if (result.data == null) return true;
  return Object.values(result.data).every((value) => value == null);
}

/**
 * A response whose only errors are UNAVAILABLE and that answers nothing is HTTP 503 with
 * Retry-After (for a plain POST or GET: the client or a proxy retries later). A partial result
 * stays 200 with the UNAVAILABLE errors inside, as GraphQL over HTTP has it.
 */
export function useUnavailableStatus(): Plugin {
  return {
    onResultProcess({ result }) {
      if (!result || Array.isArray(result) || Symbol.asyncIterator in (result as object)) return;
      const single = result as ExecutionResult & { extensions?: Record<string, unknown> };
      const errors = single.errors ?? [];
      if (errors.length === 0 || !errors.every((error) => error.extensions?.code === ErrorCode.UNAVAILABLE)) return;
      if (!nothingAnswered(single)) return;
      single.extensions = {
        ...single.extensions,
        http: { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } },
      };
    },
  };
}
