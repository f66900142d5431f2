// SPEC 6: every error carries extensions.code; unexpected ones are masked; operation and
// body limits refuse abusive requests before they cost anything.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATION_LIMITS } from '../src/server.ts';
import { codesOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw?.stop());

const nest = (depth: number) => {
  let selection = 'id';
  for (let i = 0; i < depth; i++) selection = i % 2 === 0 ? `members { ${selection} }` : `groups { ${selection} }`;
  return `{ users { ${selection} } }`;
};

describe('operation limits', () => {
  it('refuses a query deeper than the limit with BAD_USER_INPUT', async () => {
    const response = await gw.gql(nest(OPERATION_LIMITS.maxDepth + 2));
    expect(response.data ?? null).toBeNull();
    expect(codesOf(response)).toContain('BAD_USER_INPUT');
    expect(response.errors![0]!.message).toMatch(/depth/i);
    expect(codesOf(await gw.gql(nest(4)))).toEqual([]);
  });

  it('refuses too many aliases', async () => {
    const aliases = Array.from({ length: OPERATION_LIMITS.maxAliases + 5 }, (_, i) => `a${i}: viewer { user { id } }`).join(' ');
    const response = await gw.gql(`{ ${aliases} }`);
    expect(codesOf(response)).toContain('BAD_USER_INPUT');
    expect(response.errors![0]!.message).toMatch(/alias/i);
  });

  it('refuses a document with too many tokens', async () => {
    const fields = Array.from({ length: OPERATION_LIMITS.maxTokens }, () => '__typename').join(' ');
    const response = await gw.gql(`{ ${fields} }`);
    expect(codesOf(response)).toContain('BAD_USER_INPUT');
  });

  it('refuses a body over the size limit with 413 and PAYLOAD_TOO_LARGE', async () => {
    const response = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(gw.config.maxBodyBytes + 10) } }),
    });
    expect(response.status).toBe(413);
    expect(codesOf(await response.json())).toEqual(['PAYLOAD_TOO_LARGE']);
  });
});

describe('error shape', () => {
  it('answers validation and variable errors with BAD_USER_INPUT and no stack trace', async () => {
    const unknownField = await gw.gql(`{ viewer { nope } }`);
    expect(codesOf(unknownField)).toEqual(['BAD_USER_INPUT']);
    const badVariable = await gw.gql(`query($a: ID!) { application(applicationId: $a) { id } }`, {});
    expect(codesOf(badVariable)).toEqual(['BAD_USER_INPUT']);
    const badScalar = await gw.gql(`mutation($p: StringMap!) { __typename }`, { p: { a: 1 } });
    expect(codesOf(badScalar)).toEqual(['BAD_USER_INPUT']);
    for (const response of [unknownField, badVariable, badScalar]) {
      expect(JSON.stringify(response)).not.toMatch(/stack|\.ts:\d+|node_modules/);
    }
  });

  it('masks unexpected failures as INTERNAL_SERVER_ERROR', async () => {
    const target = await startGateway();
    // A real failure, not a mock: the table the query reads is gone.
    await target.db.execute(sql`alter table "user" rename to "user_gone"`);
    const response = await target.gql(`{ users { id } }`);
    expect(codesOf(response)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(response.errors![0]!.message).toBe('Unexpected error.');
    expect(JSON.stringify(response)).not.toMatch(/stack|relation|user_gone|does not exist/i);
    await target.server.stop();
    await target.database.drop().catch(() => {});
  });

  it('a database that does not answer (closed under the server) leaks nothing and is not ready', async () => {
    const target = await startGateway();
    await target.database.handle.close();
    const response = await target.gql(`{ users { id } }`);
    // A PostgreSQL pool that answers no more is UNAVAILABLE (src/db/unavailable.ts: retry later,
    // elsewhere); a closed embedded database is this process's own failure.
    expect(codesOf(response)).toEqual([target.database.url ? 'UNAVAILABLE' : 'INTERNAL_SERVER_ERROR']);
    expect(JSON.stringify(response)).not.toMatch(/stack|connection|ended|closed|CONNECTION/i);
    const ready = await fetch(`${target.url}/ready`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${target.url}/health`)).status).toBe(200);
    await target.server.stop();
    await target.database.drop().catch(() => {});
  });
});
