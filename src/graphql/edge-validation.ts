// Input checks at the edge (issue 13), once for every operation and every transport (HTTP,
// multipart, WebSocket, SSE), not per resolver:
// - before the parser recurses: a scan of the document with graphql's (iterative) lexer
//   refuses more than maxTokens tokens or brackets nested deeper than MAX_NESTING;
// - every string of the variables and of the document's literals (keys included) must be one
//   PostgreSQL text can store: no NUL, no lone UTF-16 surrogate; JSON values no deeper than
//   MAX_JSON_DEPTH. BAD_USER_INPUT names the field (`input.name`, `data.a.b`);
// - connection arguments, whatever the selection (totalCount alone too): `first`/`last` not
//   negative, `after`/`before` cursors that decode to the shape the connection issues;
// - the cost limit again with `first`/`last` read from the variables (graphql-armor only reads
//   literals), and at most MAX_ERRORS errors per response.
import { type CostLimitOptions } from '@escape.tech/graphql-armor-cost-limit';
import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  getOperationAST,
  getVariableValues,
  parse,
  type ASTNode,
  type ExecutionArgs,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { checkConnectionArguments, checkCostWithPageSizes } from './operation-plan.ts';

/** Limits on what one operation may ask for (graphql-armor and the checks here); documented in the README. */
export const OPERATION_LIMITS = {
  maxDepth: 12,
  maxAliases: 30,
  maxTokens: 5000,
  maxDirectives: 50,
  // The frontend's nested read (50 sessions x 5 media) costs 24,670; 100 x 20 costs 182,863.
  maxCost: 200_000,
};

/** Bracket nesting a legitimate document never needs (selection depth 12, JSON depth 64). */
export const MAX_NESTING = 128;
/** Errors one response carries at most; the rest are summed up in one more. */
export const MAX_ERRORS = 20;

export interface EdgeLimits {
  maxTokens: number;
  maxJsonDepth: number;
  cost: CostLimitOptions;
}

export function edgeLimits(config: { maxJsonDepth: number }): EdgeLimits {
  return { maxTokens: OPERATION_LIMITS.maxTokens, maxJsonDepth: config.maxJsonDepth, cost: { maxCost: OPERATION_LIMITS.maxCost } };
}

export const badUserInput = (message: string, field?: string) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(field && { field }), http: { status: 400 } } });

const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why PostgreSQL text could not store `text`, or null. */
export function unstorable(text: string): string | null {
  const match = UNSTORABLE.exec(text);
  if (!match) return null;
  return match[0] === '\u0000' ? 'contains a NUL character' : 'contains a lone UTF-16 surrogate (not valid Unicode)';
}

/** Tokens and bracket nesting, counted by the lexer alone: no recursion, whatever the input. */
export function scanDocument(query: string, limits: Pick<EdgeLimits, 'maxTokens'>): GraphQLError | null {
  const lexer = new Lexer(new Source(query));
  let tokens = 0;
  let nesting = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++tokens > limits.maxTokens) return badUserInput(`The document has more than ${limits.maxTokens} tokens`);
      if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.PAREN_L) {
        if (++nesting > MAX_NESTING) return badUserInput(`The document nests brackets deeper than ${MAX_NESTING}`);
      } else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R || token.kind === TokenKind.PAREN_R) {
        nesting--;
      }
    }
  } catch {
    // A syntax error: the parser reports it, with its location.
  }
  return null;
}

const plain = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

/** The first string PostgreSQL cannot store, or a value nested too deep, in a JSON value (iterative). */
export function checkValue(root: unknown, field: string, maxDepth: number): GraphQLError | null {
  const stack: [unknown, string, number][] = [[root, field, 0]];
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop()!;
    if (typeof value === 'string') {
      const why = unstorable(value);
      if (why) return badUserInput(`${path} ${why}`, path);
    } else if (Array.isArray(value) || plain(value)) {
      if (depth >= maxDepth) return badUserInput(`${path} is nested deeper than ${maxDepth} levels (MAX_JSON_DEPTH)`, path);
      if (Array.isArray(value)) value.forEach((item, index) => stack.push([item, `${path}.${index}`, depth + 1]));
      else
        for (const [key, item] of Object.entries(value)) {
          const why = unstorable(key);
          if (why) return badUserInput(`A key of ${path} ${why}`, path);
          stack.push([item, `${path}.${key}`, depth + 1]);
        }
    }
  }
  return null;
}

/** The names of the argument and input fields that lead to a literal, e.g. `input.name`. */
function fieldPath(ancestors: readonly (ASTNode | readonly ASTNode[])[]): string {
  const names: string[] = [];
  for (const node of ancestors) {
    if (!Array.isArray(node) && 'kind' in (node as ASTNode)) {
      const ast = node as ASTNode;
      if (ast.kind === Kind.ARGUMENT || ast.kind === Kind.OBJECT_FIELD) names.push(ast.name.value);
    }
  }
  return names.join('.') || 'document';
}

/** Validation rule: string literals PostgreSQL can store, literal values no deeper than maxDepth. */
export function storableLiteralsRule(maxDepth: number): ValidationRule {
  return (context) => {
    let depth = 0;
    const enter = () => {
      depth++;
      return undefined;
    };
    const leave = () => {
      depth--;
    };
    return {
      StringValue(node, _key, parent, _path, ancestors) {
        const why = unstorable(node.value);
        if (why) {
          // `ancestors` leaves out the parent (the ObjectField or Argument holding the string).
          const field = fieldPath([...ancestors, parent as ASTNode]);
          context.reportError(new GraphQLError(`${field} ${why}`, { nodes: [node], extensions: { code: 'BAD_USER_INPUT', field } }));
        }
      },
      ListValue: { enter: (node, _key, parent, _path, ancestors) => check(node, [...ancestors, parent as ASTNode]), leave },
      ObjectValue: { enter: (node, _key, parent, _path, ancestors) => check(node, [...ancestors, parent as ASTNode]), leave },
    };
    function check(node: ASTNode, ancestors: readonly (ASTNode | readonly ASTNode[])[]) {
      enter();
      if (depth === maxDepth + 1) {
        const field = fieldPath(ancestors);
        context.reportError(
          new GraphQLError(`${field} is nested deeper than ${maxDepth} levels (MAX_JSON_DEPTH)`, { nodes: [node], extensions: { code: 'BAD_USER_INPUT', field } }),
        );
      }
      return undefined;
    }
  };
}

function boundErrors<T extends GraphQLError>(errors: readonly T[]): readonly GraphQLError[] {
  if (errors.length <= MAX_ERRORS) return errors;
  const more = errors.length - MAX_ERRORS;
  return [
    ...errors.slice(0, MAX_ERRORS),
    new GraphQLError(`Too many errors: ${more} more not shown`, { extensions: { code: 'BAD_USER_INPUT' } }),
  ];
}

function asRequestError(error: GraphQLError): GraphQLError {
  if (error.extensions?.http) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code: error.extensions?.code ?? 'BAD_USER_INPUT', http: { spec: true, status: 400 } },
  });
}

/**
 * The variables coerced as graphql-js will (at most MAX_ERRORS errors), before any plugin reads
 * them: a value that does not fit its type is a request error (HTTP 400 for
 * application/graphql-response+json), not an error thrown from whichever plugin met it first.
 */
function coercionErrors(args: Pick<ExecutionArgs, 'schema' | 'document' | 'variableValues' | 'operationName'>): readonly GraphQLError[] | null {
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation?.variableDefinitions?.length) return null;
  const raw = args.variableValues;
  if (raw != null && (typeof raw !== 'object' || Array.isArray(raw))) return null;
  const result = getVariableValues(args.schema, operation.variableDefinitions, (raw ?? {}) as Record<string, unknown>, { maxErrors: MAX_ERRORS });
  if (!result.errors) return null;
  return boundErrors(result.errors.map(asRequestError));
}

/** Every check on one operation's arguments: answers the first error or null. */
export function checkOperation(args: Pick<ExecutionArgs, 'schema' | 'document' | 'variableValues'>, limits: EdgeLimits): GraphQLError | null {
  const variables = (args.variableValues ?? {}) as Record<string, unknown>;
  if (typeof variables !== 'object' || Array.isArray(variables)) return null;
  for (const [name, value] of Object.entries(variables)) {
    const why = unstorable(name);
    if (why) return badUserInput(`A variable name ${why}`, name);
    const error = checkValue(value, name, limits.maxJsonDepth);
    if (error) return error;
  }
  return (
    checkConnectionArguments(args.schema, args.document, variables, badUserInput) ??
    checkCostWithPageSizes(args.schema, args.document, variables, limits.cost, badUserInput)
  );
}

/** Texts that passed the scan, remembered (oldest out first) as Yoga's parser cache remembers documents. */
const SCANNED_DOCUMENTS = 1000;

/** The envelop plugin: the scan before parsing, the literal rule, the operation checks, the error bound. */
export function useEdgeValidation(limits: EdgeLimits): Plugin {
  const literals = storableLiteralsRule(limits.maxJsonDepth);
  const refuse = (error: GraphQLError) => ({ errors: [error] });
  const scanned = new Set<string>();
  return {
    onRequestParse({ request, url }) {
      // Yoga would JSON.parse these and answer a SyntaxError with 500.
      if (request.method !== 'GET') return;
      for (const name of ['variables', 'extensions']) {
        const text = url.searchParams.get(name);
        if (text === null || text === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          throw badUserInput(`The ${name} query parameter is not JSON`, name);
        }
        if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw badUserInput(`The ${name} query parameter must be a JSON object`, name);
      }
    },
    onParse({ params, setParseFn }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      if (!scanned.has(source)) {
        const error = scanDocument(source, limits);
        if (error) throw error;
        // Yoga's parser cache holds as many documents: a known text is not scanned again.
        if (scanned.size >= SCANNED_DOCUMENTS) scanned.delete(scanned.values().next().value!);
        scanned.add(source);
      }
      setParseFn((document, options) => parse(document, { ...options, maxTokens: limits.maxTokens }));
    },
    onValidate({ addValidationRule, validateFn, setValidationFn }) {
      addValidationRule(literals);
      // graphql-armor's rules throw their refusal out of validate(): make it a validation error
      // like any other (BAD_USER_INPUT, HTTP 400 for application/graphql-response+json).
      setValidationFn((...args: Parameters<typeof validateFn>) => {
        try {
          return validateFn(...args);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      });
      return ({ result, setResult }) => {
        if (result.length > MAX_ERRORS) setResult(boundErrors(result) as GraphQLError[]);
      };
    },
    onExecute({ args, setResultAndStopExecution }) {
      const error = checkOperation(args, limits);
      if (error) return void setResultAndStopExecution(refuse(error));
      const coercion = coercionErrors(args);
      if (coercion) return void setResultAndStopExecution({ errors: coercion });
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || !result.errors?.length) return;
          // No data at all: the request failed before execution (variable coercion). GraphQL over
          // HTTP: 400 for application/graphql-response+json, 200 for application/json.
          const requestError = !('data' in result) || result.data === undefined;
          const errors = requestError ? result.errors.map(asRequestError) : result.errors;
          if (requestError || errors.length > MAX_ERRORS) setResult({ ...result, errors: boundErrors(errors) });
        },
      };
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = checkOperation(args, limits);
      if (error) return void setResultAndStopExecution(refuse(error));
      const coercion = coercionErrors(args);
      if (coercion) setResultAndStopExecution({ errors: coercion });
    },
  };
}
