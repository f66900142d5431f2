// GraphiQL's default document stays true to the schema: it parses, validates, and every
// operation is named and needs no variables beyond the ids the Variables pane provides.
import { Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { seedDemo } from '../src/demo/seed.ts';
import { schema } from '../src/graphql/index.ts';
import { CHANGE_DOCUMENT, DEFAULT_DOCUMENT } from '../src/http/graphiql.ts';
import { ADMIN_TOKEN, startGateway } from './helpers/gateway.ts';
import { fetchGraphiQL } from './helpers/graphiql-page.ts';

describe('GraphiQL default document', () => {
  const document = parse(DEFAULT_DOCUMENT);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);

  it('validates against the schema, and so does the second tab', () => {
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
    expect(validate(schema, parse(CHANGE_DOCUMENT)).map((error) => error.message)).toEqual([]);
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
      // The editor of the tab GraphiQL opens shows the top-level variables, the tabs keep theirs.
      const variables = JSON.parse(options!.variables);
      expect(variables.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(options!.defaultTabs.map((tab) => JSON.parse(tab.variables))).toEqual([variables, variables]);
      const runs = [
        ...operations.filter((o) => o.operation !== 'subscription').map((o) => ({ query: DEFAULT_DOCUMENT, name: o.name!.value })),
        { query: CHANGE_DOCUMENT, name: 'PatchSessionData' },
      ];
      for (const { query, name } of runs) {
        const response = await fetch(gw.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
          body: JSON.stringify({ query, operationName: name, variables }),
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
