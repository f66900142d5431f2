// Session data patches cost work linear in the patch and the document: MAX_PATCH_KEYS bounds
// the patch (object keys at every level, refused before the database), and jsonb_merge_patch
// merges in one pass per object level (drizzle/*_merge_patch_linear). RFC 7386 behaviour is
// in test/session-data.test.ts; this file covers the bound and merges at scale.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, createApplication, dataOf, unique } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

const PATCH_DATA = `mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $d) }`;
const DATA = `query($a: ID!, $s: ID!) { sessionData(applicationId: $a, sessionId: $s) }`;

const keys = (count: number, prefix = 'k', value: (i: number) => unknown = (i) => i) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, value(i)]));

describe('bounded session data patches', () => {
  let gw: TestGateway;
  let appId: string;
  const newSession = async () =>
    dataOf(await gw.gql(`mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }`, { i: { applicationId: appId, name: unique('s') } }))
      .createSession.id as string;

  beforeAll(async () => {
    gw = await startGateway({ MAX_PATCH_KEYS: '20000' });
    appId = (await createApplication(gw)).id;
  });
  afterAll(() => gw?.stop());

  it('refuses a patch over MAX_PATCH_KEYS, nested keys counted, and changes nothing', async () => {
    const s = await newSession();
    dataOf(await gw.gql(PATCH_DATA, { a: appId, s, d: { keep: 1 } }));
    for (const d of [keys(20_001), { a: keys(10_000), b: { c: keys(10_000) } }, { list: [keys(20_001)] }]) {
      const response = await gw.gql(PATCH_DATA, { a: appId, s, d });
      expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.message).toMatch(/at most 20000 keys/);
    }
    expect(dataOf(await gw.gql(DATA, { a: appId, s })).sessionData).toEqual({ keep: 1 });
  });

  it('merges 20,000 keys (the bound) into a 20,000-key document in one patch', { timeout: 60_000 }, async () => {
    const s = await newSession();
    dataOf(await gw.gql(PATCH_DATA, { a: appId, s, d: { ...keys(19_997), nested: { x: 1, y: 2 } } }));
    // Half the keys change, a quarter are removed, new ones arrive, a nested object merges.
    const patch = {
      ...keys(10_000, 'k', (i) => (i % 2 === 0 ? `v${i}` : null)),
      ...keys(9_996, 'n'),
      nested: { y: null, z: { deep: [1, 2] } },
    };
    const merged = dataOf(await gw.gql(PATCH_DATA, { a: appId, s, d: patch })).patchSessionData;
    expect(Object.keys(merged)).toHaveLength(19_997 - 5_000 + 9_996 + 1);
    expect(merged.k0).toBe('v0');
    expect(merged).not.toHaveProperty('k1');
    expect(merged.k10000).toBe(10_000);
    expect(merged.n9995).toBe(9995);
    expect(merged.nested).toEqual({ x: 1, z: { deep: [1, 2] } });
    expect(dataOf(await gw.gql(DATA, { a: appId, s })).sessionData).toEqual(merged);
  });

  it('keeps RFC 7386 at depth: nulls inside a new object are dropped, objects replace arrays and scalars', async () => {
    const s = await newSession();
    dataOf(await gw.gql(PATCH_DATA, { a: appId, s, d: { a: { b: { c: [1], d: 'x' } }, e: [1, 2], f: 3 } }));
    const merged = dataOf(
      await gw.gql(PATCH_DATA, { a: appId, s, d: { a: { b: { c: { g: null, h: 1 }, d: null } }, e: { i: null }, f: { j: { k: null } }, z: null } }),
    ).patchSessionData;
    expect(merged).toEqual({ a: { b: { c: { h: 1 } } }, e: {}, f: { j: {} } });
  });
});
