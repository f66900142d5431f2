// The per-request checks of an operation's page arguments, planned once per parsed document.
// Yoga's parser cache hands every request with the same text the same DocumentNode, so the walk
// with TypeInfo over the document (which arguments are `first`/`last`/`after`/`before`, of which
// field type) happens once per document, not once per request. What depends on the variables is
// read from the plan: the cursors and page sizes given as variables, and the cost of the
// operation with those page sizes, remembered for each combination of them.
import { costLimitRule, type CostLimitOptions } from '@escape.tech/graphql-armor-cost-limit';
import {
  GraphQLError,
  Kind,
  TypeInfo,
  getNamedType,
  isListType,
  validate,
  valueFromASTUntyped,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLSchema,
  type ValueNode,
} from 'graphql';
import { decodeBase64, decodeCursorChunk } from '@pothos/core';
import { decodeEventCursor } from '../events/log.ts';

type Refusal = (message: string, field?: string) => GraphQLError;

interface PageArgument {
  name: 'first' | 'last' | 'after' | 'before';
  value: ValueNode;
  /** For cursors: the list's cursor shape (event log or drizzle), or null when it is no list. */
  cursor: 'event' | 'drizzle' | null;
}

interface OperationPlan {
  arguments: PageArgument[];
  /** Variables that give a `first`/`last`: the cost rule cannot see them in the document. */
  sizeVariables: string[];
  /** The cost refusal's message (or null) by the page sizes' values, for this document. */
  costs: Map<string, string | null>;
}

/** Page-size combinations remembered per document; beyond it the cost is computed again. */
const COSTS_PER_DOCUMENT = 64;

const plans = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, OperationPlan>>();

function planFor(schema: GraphQLSchema, document: DocumentNode): OperationPlan {
  let bySchema = plans.get(schema);
  if (!bySchema) plans.set(schema, (bySchema = new WeakMap()));
  let plan = bySchema.get(document);
  if (plan) return plan;
  const typeInfo = new TypeInfo(schema);
  const found: PageArgument[] = [];
  const sizeVariables = new Set<string>();
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        const name = node.name.value;
        if (name !== 'first' && name !== 'last' && name !== 'after' && name !== 'before') return;
        const field = typeInfo.getFieldDef();
        if (!field) return;
        if ((name === 'first' || name === 'last') && node.value.kind === Kind.VARIABLE) sizeVariables.add(node.value.name.value);
        const type = getNamedType(field.type).name;
        const isList = isListType(field.type) || type.endsWith('Connection');
        const cursor = !isList ? null : type === 'EventConnection' || type === 'Event' ? 'event' : 'drizzle';
        found.push({ name, value: node.value, cursor });
      },
    }),
  );
  plan = { arguments: found, sizeVariables: [...sizeVariables], costs: new Map() };
  bySchema.set(document, plan);
  return plan;
}

/**
 * A Pothos drizzle cursor as this schema issues them: `DC:` and one non-negative integer (every
 * connection is ordered by a `seq` column; see the `orderBy` of each connection).
 */
function drizzleCursorShape(cursor: string): boolean {
  let value: unknown;
  try {
    const decoded = decodeBase64(cursor);
    if (!decoded.startsWith('DC:')) return false;
    value = decodeCursorChunk(decoded.slice(3));
  } catch {
    return false;
  }
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0;
  if (typeof value === 'bigint') return value >= 0n && value < 2n ** 63n;
  return false;
}

/** `first`/`last`/`after`/`before` of every field of the operation, whatever is selected under it. */
export function checkConnectionArguments(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  refuse: Refusal,
): GraphQLError | null {
  for (const argument of planFor(schema, document).arguments) {
    const value = valueFromASTUntyped(argument.value, variables);
    if (value === null || value === undefined) continue;
    if (argument.name === 'first' || argument.name === 'last') {
      if (typeof value === 'number' && value < 0) return refuse(`${argument.name} must not be negative`, argument.name);
      continue;
    }
    if (typeof value !== 'string' || argument.cursor === null) continue;
    const fits = argument.cursor === 'event' ? decodeEventCursor(value) !== null : drizzleCursorShape(value);
    if (!fits) return refuse(`${argument.name} is not a cursor this list issued`, argument.name);
  }
  return null;
}

/**
 * The cost rule again with the `first`/`last` variables written into the document as literals
 * (graphql-armor reads literals only), once per document and combination of page sizes.
 */
export function checkCostWithPageSizes(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  cost: CostLimitOptions,
  refuse: Refusal,
): GraphQLError | null {
  const plan = planFor(schema, document);
  if (plan.sizeVariables.length === 0) return null;
  const sizes = plan.sizeVariables.map((name) => {
    const value = variables[name];
    return typeof value === 'number' && Number.isInteger(value) ? value : null;
  });
  if (sizes.every((size) => size === null)) return null;
  const key = sizes.join(',');
  if (!plan.costs.has(key)) {
    const refusal = costRefusal(schema, document, variables, cost);
    if (plan.costs.size >= COSTS_PER_DOCUMENT) return refusal === null ? null : refuse(refusal);
    plan.costs.set(key, refusal);
  }
  const refusal = plan.costs.get(key)!;
  return refusal === null ? null : refuse(refusal);
}

function costRefusal(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>, cost: CostLimitOptions): string | null {
  const sized = withPageSizes(document, variables);
  if (!sized) return null;
  let costly: GraphQLError | undefined;
  try {
    [costly] = validate(schema, sized, [costLimitRule(cost)]);
  } catch (error) {
    // The rule throws its refusal.
    if (!(error instanceof GraphQLError)) throw error;
    costly = error;
  }
  return costly ? costly.message.replace(/^Syntax Error: /, '') : null;
}

/** The variables of a document that give a `first`/`last`. */
export function sizeVariablesOf(schema: GraphQLSchema, document: DocumentNode): string[] {
  return planFor(schema, document).sizeVariables;
}

/** The values of the page-size variables, as a key: what an operation's cost depends on besides its document. */
export function sizesOf(sizeVariables: readonly string[], variables: Record<string, unknown>): string {
  return sizeVariables
    .map((name) => {
      const value = variables[name];
      return typeof value === 'number' && Number.isInteger(value) ? String(value) : '';
    })
    .join(',');
}

/** The document with `first`/`last` variables replaced by their values, for the cost rule. */
export function withPageSizes(document: DocumentNode, variables: Record<string, unknown>): DocumentNode | null {
  let replaced = false;
  const result = visit(document, {
    Argument(node) {
      if ((node.name.value !== 'first' && node.name.value !== 'last') || node.value.kind !== Kind.VARIABLE) return undefined;
      const value = variables[node.value.name.value];
      if (typeof value !== 'number' || !Number.isInteger(value)) return undefined;
      replaced = true;
      return { ...node, value: { kind: Kind.INT, value: String(value) } };
    },
  });
  return replaced ? result : null;
}
