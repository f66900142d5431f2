// A typo gets "Did you mean …?" while developing; in production the suggestion stays hidden
// (it would map the schema for anyone probing it).
import { describe, expect, it } from 'vitest';
import { startGateway } from './helpers/gateway.ts';

const TYPO = '{ viewr { user { username } } }';

describe('field suggestions', () => {
  it.each([
    ['development', 'development', /Did you mean "viewer"/],
    ['test', 'test', /Did you mean "viewer"/],
    ['production', 'production', /\[Suggestion hidden\]/],
  ])('with NODE_ENV=%s', async (_name, nodeEnv, message) => {
    const gw = await startGateway({ NODE_ENV: nodeEnv });
    try {
      // Signed in or not: the rule is the environment's.
      for (const token of [undefined, null]) {
        const response = await gw.gql(TYPO, {}, token);
        expect(response.errors).toHaveLength(1);
        expect(response.errors![0]!.message).toMatch(message);
        expect(response.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
        if (nodeEnv === 'production') expect(response.errors![0]!.message).not.toMatch(/Did you mean/);
      }
    } finally {
      await gw.stop();
    }
  });
});
