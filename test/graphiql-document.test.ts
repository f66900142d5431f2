// GraphiQL's default document stays true to the schema: it parses, validates, and every
// operation is named and needs no variables beyond the ids the Variables pane provides.
import { Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/index.ts';
import { DEFAULT_DOCUMENT } from '../src/http/graphiql.ts';

describe('GraphiQL default document', () => {
  const document = parse(DEFAULT_DOCUMENT);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);

  it('validates against the schema', () => {
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
  });

  it('names every operation and uses only the example variables', () => {
    expect(operations.every((operation) => operation.name)).toBe(true);
    const variables = new Set(operations.flatMap((operation) => (operation.variableDefinitions ?? []).map((v) => v.variable.name.value)));
    expect([...variables].filter((name) => !['applicationId', 'sessionId'].includes(name))).toEqual([]);
  });

  it('shows a session, a data patch and, once the schema has it, a live sessionEvents subscription', () => {
    const names = operations.map((operation) => `${operation.operation} ${operation.name?.value}`);
    expect(names).toEqual(expect.arrayContaining(['query SessionDetails', 'mutation PatchSessionData']));
    if (schema.getSubscriptionType()?.getFields().sessionEvents) expect(names).toContain('subscription FollowSession');
  });
});
