// GraphiQL's default document stays true to the schema: it parses, validates, and every
// operation is named and needs no variables beyond the ids the Variables pane provides.
import { Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { seedDemo } from '../src/demo/seed.ts';
import { schema } from '../src/graphql/index.ts';
import { DEFAULT_DOCUMENT } from '../src/http/graphiql.ts';
import { ADMIN_TOKEN, startGateway } from './helpers/gateway.ts';
import { fetchGraphiQL } from './helpers/graphiql-page.ts';

describe('GraphiQL default document', () => {
  const document = parse(DEFAULT_DOCUMENT);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);

  it('validates against the schema', () => {
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
  });

  it('says how to sign in as a person and where the token goes', () => {
    expect(DEFAULT_DOCUMENT).toMatch(/run Login, copy its accessToken/);
    expect(DEFAULT_DOCUMENT).toContain('{"Authorization": "Bearer <accessToken>"}');
    expect(operations.map((operation) => operation.name?.value)).toContain('Login');
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

  it('runs without errors on the demo data, with the variables GraphiQL opens with', async () => {
    const gw = await startGateway({}, { graphiqlToken: ADMIN_TOKEN });
    try {
      await seedDemo(gw.db);
      const { options } = await fetchGraphiQL(gw.graphqlUrl);
      // GraphiQL 5 shows the top-level variables in its editor; the tab keeps the same.
      const variables = JSON.parse(options!.variables);
      expect(variables.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(options!.defaultTabs.map((tab) => JSON.parse(tab.variables))).toEqual([variables]);
      for (const operation of operations.filter((o) => o.operation !== 'subscription')) {
        const name = operation.name!.value;
        const response = await fetch(gw.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
          body: JSON.stringify({ query: DEFAULT_DOCUMENT, operationName: name, variables }),
        });
        const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
        expect(body.errors, name).toBeUndefined();
        expect(body.data, name).toBeTruthy();
      }
    } finally {
      await gw.stop();
    }
  });
});
