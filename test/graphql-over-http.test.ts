// The GraphQL over HTTP spec, checked by the graphql-http audit suite against the real server.
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw?.stop());

describe('GraphQL over HTTP audit', () => {
  it('passes every MUST and SHOULD audit of graphql-http', async () => {
    const results = await Promise.all(serverAudits({ url: () => gw.graphqlUrl }).map((audit) => audit.fn()));
    const failures = results.filter((result) => result.status === 'error').map((r) => `${r.name}: ${'reason' in r ? r.reason : ''}`);
    const warnings = results.filter((result) => result.status === 'warn').map((r) => `${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(failures).toEqual([]);
    expect(warnings).toEqual([]);
    expect(results.length).toBeGreaterThan(40);
  });
});
