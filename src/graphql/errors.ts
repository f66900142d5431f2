// How errors leave the API: domain errors keep their code and message; GraphQL's own
// validation and input errors become BAD_USER_INPUT; anything else is masked as
// INTERNAL_SERVER_ERROR and its details go only to the server log.
import { GraphQLError } from 'graphql';
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
