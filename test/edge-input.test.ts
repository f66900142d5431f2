// Issue 13, input validation at the edge, case by case with the details the corpus does not
// look at: which field is named, how many errors come back, which HTTP status, which bound.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, createApplication } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { rawRequest } from './helpers/raw-http.ts';

let gw: TestGateway;
let applicationId: string;
let sessionId: string;

beforeAll(async () => {
  gw = await startGateway({ MAX_JSON_DEPTH: '8' });
  applicationId = (await createApplication(gw)).id;
  sessionId = (await gw.gql(`mutation($a: ID!) { createSession(input: { applicationId: $a, name: "s" }) { id } }`, { a: applicationId })).data
    .createSession.id;
});
afterAll(() => gw?.stop());

async function post(body: unknown, accept = 'application/graphql-response+json') {
  const response = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const CREATE = 'mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }';

describe('strings PostgreSQL cannot store', () => {
  it('a NUL in a variable is BAD_USER_INPUT naming the field, and nothing is written', async () => {
    const { status, body } = await post({ query: CREATE, variables: { i: { applicationId, name: 'a\u0000b' } } });
    expect(status).toBe(400);
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'i.name' });
    const { body: key } = await post({ query: CREATE, variables: { i: { applicationId, name: 'n', properties: { 'k\uD800': 'v' } } } });
    expect(key.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'i.properties' });
    const count = await gw.gql(`query($a: ID!) { sessions(applicationId: $a) { totalCount } }`, { a: applicationId });
    expect(count.data.sessions.totalCount).toBe(1);
  });

  it('a NUL escape in a literal names the argument path', async () => {
    const { status, body } = await post({ query: `mutation { createSession(input: { applicationId: "${applicationId}", name: "a\\u0000" }) { id } }` });
    expect(status).toBe(400);
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
  });
});

describe('JSON depth (MAX_JSON_DEPTH=8 here)', () => {
  const nested = (depth: number) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = { k: value };
    return value;
  };
  const PATCH = 'mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $d) }';
  it('refuses data deeper than the bound and takes data within it', async () => {
    const deep = await post({ query: PATCH, variables: { a: applicationId, s: sessionId, d: nested(9) } });
    expect(deep.status).toBe(400);
    expect(deep.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(deep.body.errors[0].message).toMatch(/MAX_JSON_DEPTH/);
    const fine = await post({ query: PATCH, variables: { a: applicationId, s: sessionId, d: nested(8) } });
    expect(fine.body.errors).toBeUndefined();
  });
});

describe('documents past the limits, before the parser recurses', () => {
  it.each([
    ['a list literal nested 2,000 deep', `{ __type(name: ${'['.repeat(2000)}"x"${']'.repeat(2000)}) { name } }`],
    ['a document nested 2,000 levels', `{ ${'users { '.repeat(2000)}${'}'.repeat(2000)} }`],
    ['100,000 tokens', `{ ${'a '.repeat(100_000)} }`],
  ])('%s is BAD_USER_INPUT', async (_name, query) => {
    const { status, body } = await post({ query });
    expect(status).toBe(400);
    expect(codesOf(body)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('errors per response', () => {
  it('1,000 unused variables give at most 20 errors and one that counts the rest', async () => {
    const query = `query(${Array.from({ length: 1000 }, (_, i) => `$v${i}: Int`).join(', ')}) { __typename }`;
    const { status, body } = await post({ query });
    expect(status).toBe(400);
    expect(body.errors).toHaveLength(21);
    expect(body.errors[20].message).toMatch(/Too many errors: \d+ more not shown/);
  });
});

describe('connections', () => {
  it('events(first: -5) is BAD_USER_INPUT like sessions(first: -1)', async () => {
    const events = await post({ query: `query($a: ID!) { events(applicationId: $a, first: -5) { edges { cursor } } }`, variables: { a: applicationId } });
    const sessions = await post({ query: `query($a: ID!) { sessions(applicationId: $a, first: -1) { totalCount } }`, variables: { a: applicationId } });
    for (const { body } of [events, sessions]) expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('a forged cursor is BAD_USER_INPUT when only totalCount is selected; a real one works', async () => {
    const forged = Buffer.from('DC:S:yesterday').toString('base64');
    const { body } = await post({ query: `query($a: ID!, $c: String) { sessions(applicationId: $a, after: $c) { totalCount } }`, variables: { a: applicationId, c: forged } });
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const page = await gw.gql(`query($a: ID!) { sessions(applicationId: $a, first: 1) { edges { cursor } } }`, { a: applicationId });
    const real = await gw.gql(`query($a: ID!, $c: String) { sessions(applicationId: $a, after: $c) { totalCount } }`, { a: applicationId, c: page.data.sessions.edges[0].cursor });
    expect(real.errors).toBeUndefined();
  });

  it('first given as a variable counts in the cost limit like a literal', async () => {
    const query = (n: string) => `query($n: Int) { applications(first: ${n}) { edges { node { sessions(first: ${n}) { edges { node { media(first: ${n}) { edges { node { id } } } } } } } } } }`;
    const literal = await post({ query: query('100').replaceAll('query($n: Int)', 'query') });
    const variable = await post({ query: query('$n'), variables: { n: 100 } });
    expect(codesOf(literal.body)).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(variable.body)).toEqual(['BAD_USER_INPUT']);
    expect(variable.body.errors[0].message).toMatch(/Cost limit/i);
    const small = await post({ query: query('$n'), variables: { n: 2 } });
    expect(small.body.errors).toBeUndefined();
  });

  it("the frontend's nested read passes the cost limit with literal page sizes and with variables", async () => {
    const nested = (first: string, media: string) => `query($a: ID!, $first: Int!, $media: Int!) { sessions(applicationId: $a, first: ${first}) { edges { node {
      id name properties participants { id type } application { name }
      media(first: ${media}) { edges { node { id title filename kind status } } } } } } }`;
    for (const [first, media] of [[50, 5], [100, 20]]) {
      const literal = await post({ query: nested(String(first), String(media)).replace(', $first: Int!, $media: Int!', ''), variables: { a: applicationId } });
      const variables = await post({ query: nested('$first', '$media'), variables: { a: applicationId, first, media } });
      expect(literal.body.errors).toBeUndefined();
      expect(variables.body.errors).toBeUndefined();
    }
  });
});

describe('HTTP', () => {
  it('a variable that fails coercion is 400 for application/graphql-response+json, 200 for application/json', async () => {
    const body = { query: `query($n: Int) { sessions(applicationId: "${applicationId}", first: $n) { totalCount } }`, variables: { n: 'ten' } };
    const spec = await post(body);
    expect(spec.status).toBe(400);
    expect(codesOf(spec.body)).toEqual(['BAD_USER_INPUT']);
    const legacy = await post(body, 'application/json');
    expect(legacy.status).toBe(200);
    expect(codesOf(legacy.body)).toEqual(['BAD_USER_INPUT']);
  });

  it('GET with variables or extensions that are not JSON is 400 BAD_USER_INPUT', async () => {
    for (const params of ['variables=%7Bnope', 'extensions=%7B']) {
      const response = await fetch(`${gw.graphqlUrl}?query=%7B__typename%7D&${params}`, { headers: { accept: 'application/json' } });
      expect(response.status).toBe(400);
      expect(codesOf((await response.json()) as any)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('a 12 MiB chunked body (no Content-Length) is cut with 413 PAYLOAD_TOO_LARGE', async () => {
    const port = Number(new URL(gw.url).port);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
      socket.on('connect', async () => {
        socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        const piece = Buffer.alloc(256 * 1024, 'x');
        for (let sent = 0; sent < 12 * 1024 * 1024 && !socket.destroyed; sent += piece.length) {
          if (!socket.write(`${piece.length.toString(16)}\r\n${piece}\r\n`)) await new Promise((resolve) => socket.once('drain', resolve));
        }
        if (!socket.destroyed) socket.write('0\r\n\r\n');
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toContain('PAYLOAD_TOO_LARGE');
  });

  it.each([[true], [false]])('a malformed percent-escape in a media id is 400, never 500 (token: %s)', async (withToken) => {
    const port = Number(new URL(gw.url).port);
    const answer = await rawRequest(
      port,
      `GET /media/%E0%A4%A/content HTTP/1.1\r\nHost: x\r\nConnection: close${withToken ? `\r\nAuthorization: Bearer ${ADMIN_TOKEN}` : ''}`,
    );
    expect(answer.status).toBe(400);
    expect(answer.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});
