// The hostile corpus (issue 13): one table of requests, each with the HTTP status and the
// extensions.code (of the first error; 'none' for a body without errors) it must get. Cases
// are built from a few fixtures (an application, a session) that test/hostile-corpus.test.ts
// creates on a real gateway process over real PostgreSQL.
import { ADMIN_TOKEN } from './gateway.ts';
import { httpCases } from './hostile-cases-http.ts';

export interface Fixtures {
  applicationId: string;
  sessionId: string;
  port: number;
}

export interface HostileRequest {
  method?: string;
  /** Sent as is on the request line. */
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Replaces the whole head (request line and headers). */
  head?: string;
  declaredLength?: number;
  halfClose?: boolean;
}

export interface HostileCase {
  category: string;
  name: string;
  request: (f: Fixtures) => HostileRequest;
  status: number;
  code: string;
}

const JSON_ACCEPT = 'application/graphql-response+json, application/json';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const ZERO = '00000000-0000-4000-8000-000000000000';

/** A JSON POST of one operation, as the admin, accepting application/graphql-response+json. */
const post = (query: string, variables: (f: Fixtures) => Record<string, unknown> = () => ({}), headers: Record<string, string> = {}) =>
  (f: Fixtures): HostileRequest => ({
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', accept: JSON_ACCEPT, ...auth, ...headers },
    body: JSON.stringify({ query, variables: variables(f) }),
  });

const cases: HostileCase[] = [];
const add = (category: string, name: string, request: HostileCase['request'], status: number, code: string) =>
  cases.push({ category, name, request, status, code });

// ---- NUL and other strings PostgreSQL text cannot store, per field -------------------------
const BAD_STRINGS: [string, string][] = [
  ['NUL', 'a\u0000b'],
  ['lone high surrogate', 'a\uD800b'],
  ['lone low surrogate', '\uDC00'],
  ['NUL only', '\u0000'],
];
const STRING_FIELDS: [string, string, (f: Fixtures, bad: string) => Record<string, unknown>][] = [
  ['createSession name', 'mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }', (f, bad) => ({ i: { applicationId: f.applicationId, name: bad } })],
  ['createSession description', 'mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }', (f, bad) => ({ i: { applicationId: f.applicationId, name: 'n', description: bad } })],
  ['createSession property key', 'mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }', (f, bad) => ({ i: { applicationId: f.applicationId, name: 'n', properties: { [bad]: 'v' } } })],
  ['createSession property value', 'mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }', (f, bad) => ({ i: { applicationId: f.applicationId, name: 'n', properties: { k: bad } } })],
  ['updateSessionName', 'mutation($a: ID!, $s: ID!, $n: String!) { updateSessionName(applicationId: $a, sessionId: $s, name: $n) { id } }', (f, bad) => ({ a: f.applicationId, s: f.sessionId, n: bad })],
  ['updateSessionDescription', 'mutation($a: ID!, $s: ID!, $d: String) { updateSessionDescription(applicationId: $a, sessionId: $s, description: $d) { id } }', (f, bad) => ({ a: f.applicationId, s: f.sessionId, d: bad })],
  ['updateSessionProperties value', 'mutation($a: ID!, $s: ID!, $p: StringMap!) { updateSessionProperties(applicationId: $a, sessionId: $s, properties: $p) { id } }', (f, bad) => ({ a: f.applicationId, s: f.sessionId, p: { k: bad } })],
  ['patchSessionData string', 'mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $d) }', (f, bad) => ({ a: f.applicationId, s: f.sessionId, d: { deep: { value: bad } } })],
  ['patchSessionData key', 'mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $d) }', (f, bad) => ({ a: f.applicationId, s: f.sessionId, d: { [bad]: 1 } })],
  ['createSessionEvent data', 'mutation($a: ID!, $s: ID!, $d: JSON!) { createSessionEvent(applicationId: $a, sessionId: $s, data: $d) { id } }', (f, bad) => ({ a: f.applicationId, s: f.sessionId, d: [bad] })],
  ['createApplication name', 'mutation($i: CreateApplicationInput!) { createApplication(input: $i) { id } }', (_f, bad) => ({ i: { name: bad } })],
  ['createApplication description', 'mutation($i: CreateApplicationInput!) { createApplication(input: $i) { id } }', (_f, bad) => ({ i: { name: 'n', description: bad } })],
  ['createUser username', 'mutation($u: String!) { createUser(username: $u) { id } }', (_f, bad) => ({ u: bad })],
  ['login username', 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }', (_f, bad) => ({ u: bad, p: 'x' })],
  ['login password', 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }', (_f, bad) => ({ u: 'maria', p: bad })],
  ['createGroup name', 'mutation($n: String!) { createGroup(name: $n) { id } }', (_f, bad) => ({ n: bad })],
  ['updateSessionMedia title', 'mutation($m: ID!, $i: UpdateSessionMediaInput!) { updateSessionMedia(mediaId: $m, input: $i) { id } }', (_f, bad) => ({ m: ZERO, i: { title: bad } })],
  ['updateSessionMedia labels', 'mutation($m: ID!, $i: UpdateSessionMediaInput!) { updateSessionMedia(mediaId: $m, input: $i) { id } }', (_f, bad) => ({ m: ZERO, i: { labels: ['ok', bad] } })],
  ['sessions property filter', 'query($a: ID!, $p: StringMap) { sessions(applicationId: $a, properties: $p) { totalCount } }', (f, bad) => ({ a: f.applicationId, p: { k: bad } })],
  ['media labels filter', 'query($a: ID!, $s: ID!, $l: [String!]) { session(applicationId: $a, sessionId: $s) { media(labels: $l) { totalCount } } }', (f, bad) => ({ a: f.applicationId, s: f.sessionId, l: [bad] })],
  ['an id argument', 'query($a: ID!) { application(applicationId: $a) { id } }', (_f, bad) => ({ a: bad })],
];
for (const [field, query, variables] of STRING_FIELDS) {
  for (const [what, bad] of BAD_STRINGS) {
    add('unstorable strings (variables)', `${field}: ${what}`, post(query, (f) => variables(f, bad)), 400, 'BAD_USER_INPUT');
  }
}
const LITERAL_FIELDS: [string, (f: Fixtures) => string][] = [
  ['createSession name', (f) => `mutation { createSession(input: { applicationId: "${f.applicationId}", name: "a\\u0000b" }) { id } }`],
  ['createSession property', (f) => `mutation { createSession(input: { applicationId: "${f.applicationId}", name: "n", properties: { k: "\\u0000" } }) { id } }`],
  ['patchSessionData', (f) => `mutation { patchSessionData(applicationId: "${f.applicationId}", sessionId: "${f.sessionId}", data: { a: ["\\u0000"] }) }`],
  ['createSessionEvent', (f) => `mutation { createSessionEvent(applicationId: "${f.applicationId}", sessionId: "${f.sessionId}", data: "\\u0000") { id } }`],
  ['login username', () => 'mutation { login(username: "\\u0000", password: "x") { accessToken } }'],
  ['createUser username', () => 'mutation { createUser(username: "bad\\u0000name") { id } }'],
  ['block string', () => 'mutation { createGroup(name: """a\u0000""") { id } }'],
  ['sessions filter', (f) => `{ sessions(applicationId: "${f.applicationId}", properties: { k: "\\u0000" }) { totalCount } }`],
];
for (const [field, query] of LITERAL_FIELDS) {
  add('unstorable strings (literals)', field, (f) => post(query(f))(f), 400, 'BAD_USER_INPUT');
}
// Control characters PostgreSQL stores well are accepted.
for (const [what, text] of [['SOH', 'a\u0001b'], ['ESC', '\u001b[31m'], ['DEL', 'a\u007f'], ['emoji pair', '\uD83D\uDE00'], ['RTL override', '\u202e']] as const) {
  add('storable control characters', `createGroup name with ${what}`, post('mutation($n: String!) { createGroup(name: $n) { id } }', () => ({ n: `${text}${Math.random()}` })), 200, 'none');
}

// ---- JSON nesting ----------------------------------------------------------------------------
const nested = (depth: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 ? { k: value } : [value];
  return value;
};
/** The JSON text of nested(depth), built without recursion (JSON.stringify would overflow). */
const nestedJson = (depth: number): string => {
  let open = '';
  let close = '';
  for (let i = depth - 1; i >= 0; i--) {
    open += i % 2 ? '{"k":' : '[';
    close = (i % 2 ? '}' : ']') + close;
  }
  return `${open}"leaf"${close}`;
};
/** A POST whose variables carry one deeply nested value as `$d`. */
const postDeep = (query: string, depth: number, variables: (f: Fixtures) => Record<string, unknown>) =>
  (f: Fixtures): HostileRequest => ({
    ...post(query, variables)(f),
    body: `{"query":${JSON.stringify(query)},"variables":${JSON.stringify(variables(f)).slice(0, -1)},"d":${nestedJson(depth)}}}`,
  });
for (const depth of [5_000, 200_000]) {
  add('deep JSON', `patchSessionData nested ${depth} (built as text)`, postDeep('mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $d) }', depth, (f) => ({ a: f.applicationId, s: f.sessionId })), 400, 'BAD_USER_INPUT');
  add('deep JSON', `createSessionEvent nested ${depth} (built as text)`, postDeep('mutation($a: ID!, $s: ID!, $d: JSON!) { createSessionEvent(applicationId: $a, sessionId: $s, data: $d) { id } }', depth, (f) => ({ a: f.applicationId, s: f.sessionId })), 400, 'BAD_USER_INPUT');
}
for (const depth of [65, 100, 2_000]) {
  add('deep JSON', `patchSessionData nested ${depth}`, post('mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: { x: $d }) }', (f) => ({ a: f.applicationId, s: f.sessionId, d: nested(depth) })), 400, 'BAD_USER_INPUT');
  add('deep JSON', `createSessionEvent nested ${depth}`, post('mutation($a: ID!, $s: ID!, $d: JSON!) { createSessionEvent(applicationId: $a, sessionId: $s, data: $d) { id } }', (f) => ({ a: f.applicationId, s: f.sessionId, d: nested(depth) })), 400, 'BAD_USER_INPUT');
  add('deep JSON', `an unused variable nested ${depth}`, post('query($x: JSON) { __typename }', () => ({ x: nested(depth) })), 400, 'BAD_USER_INPUT');
}
add('deep JSON', 'patchSessionData nested 30 is accepted', post('mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $d) }', (f) => ({ a: f.applicationId, s: f.sessionId, d: { deep: nested(30) } })), 200, 'none');
for (const depth of [65, 500]) {
  add('deep JSON', `a JSON literal nested ${depth}`, (f) => post(`mutation { createSessionEvent(applicationId: "${f.applicationId}", sessionId: "${f.sessionId}", data: ${'['.repeat(depth)}1${']'.repeat(depth)}) { id } }`)(f), 400, 'BAD_USER_INPUT');
  add('deep JSON', `an object literal nested ${depth}`, (f) => post(`mutation { patchSessionData(applicationId: "${f.applicationId}", sessionId: "${f.sessionId}", data: ${'{ a: '.repeat(depth)}1${' }'.repeat(depth)}) }`)(f), 400, 'BAD_USER_INPUT');
}

// ---- documents: nesting, tokens, aliases, directives, cost, errors ---------------------------
const LIMITS: [string, string, Record<string, unknown>?][] = [
  ['selections nested 2,000 levels', `{ ${'viewer { '.repeat(2000)}${'}'.repeat(2000)} }`],
  ['selections nested 20,000 levels', `{ ${'a{'.repeat(20000)}${'}'.repeat(20000)} }`],
  ['a list literal nested 2,000 deep', `{ __type(name: ${'['.repeat(2000)}"x"${']'.repeat(2000)}) { name } }`],
  ['an object literal nested 2,000 deep', `{ __type(name: ${'{a:'.repeat(2000)}1${'}'.repeat(2000)}) { name } }`],
  ['brackets nested 129 deep', `{ __type(name: ${'['.repeat(129)}"x"${']'.repeat(129)}) { name } }`],
  ['unbalanced: 10,000 opening braces', '{'.repeat(10000)],
  ['depth 14 (limit 12)', `{ users { ${'members { groups { '.repeat(7)}id${' } }'.repeat(7)} } }`],
  ['5,001 tokens', `{ ${'__typename '.repeat(5001)} }`],
  ['100,000 tokens', `{ ${'a '.repeat(100000)} }`],
  ['31 aliases', `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: viewer { user { id } }`).join(' ')} }`],
  ['31 aliases of __typename', `{ ${Array.from({ length: 31 }, (_, i) => `t${i}: __typename`).join(' ')} }`],
  ['1,000 aliases of __typename', `{ ${Array.from({ length: 1000 }, (_, i) => `t${i}: __typename`).join(' ')} }`],
  ['51 directives', `{ __typename ${'@include(if: true) '.repeat(51)} }`],
  ['an unknown directive', '{ __typename @nope }'],
  ['a fragment cycle', 'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }'],
  ['a fragment spread 1,000 times', `query { ${'...F '.repeat(1000)} } fragment F on Query { __typename }`],
  ['cost over the limit with literal first', '{ applications(first: 100) { edges { node { sessions(first: 100) { edges { node { media(first: 100) { edges { node { id } } } } } } } } } }'],
  ['cost over the limit with first as variables', 'query($n: Int, $m: Int, $k: Int) { applications(first: $n) { edges { node { sessions(first: $m) { edges { node { media(first: $k) { edges { node { id } } } } } } } } } }', { n: 100, m: 100, k: 100 }],
  ['a string literal of 1 MB', `{ __type(name: "${'x'.repeat(1_000_000)}") { name } }`],
  ['a syntax error', '{ viewer { '],
  ['an empty document', ''],
  ['only a comment', '# nothing'],
  ['two anonymous operations', '{ __typename } { __typename }'],
  ['a subscription over plain POST without event-stream', 'subscription { __typename }'],
  ['an unknown field', '{ nope }'],
  ['a field on a scalar', '{ __typename { x } }'],
  ['introspection of a deep type chain', '{ __schema { types { name } } }'],
];
const ACCEPTED = new Set(['introspection of a deep type chain', 'a fragment spread 1,000 times', 'a string literal of 1 MB']);
for (const [name, query, variables] of LIMITS) {
  const ok = ACCEPTED.has(name);
  add('document limits', name, post(query, () => variables ?? {}), ok ? 200 : 400, ok ? 'none' : 'BAD_USER_INPUT');
}
add('document limits', 'an unknown operationName', (f) => ({ ...post('query A { __typename }')(f), body: JSON.stringify({ query: 'query A { __typename }', operationName: 'B' }) }), 400, 'BAD_USER_INPUT');
add('document limits', '1,000 unused variables (errors bounded)', post(`query(${Array.from({ length: 1000 }, (_, i) => `$v${i}: Int`).join(', ')}) { __typename }`), 400, 'BAD_USER_INPUT');
add('document limits', '500 unknown fields (errors bounded)', post(`{ ${Array.from({ length: 500 }, (_, i) => `f${i}`).join(' ')} }`), 400, 'BAD_USER_INPUT');
add('document limits', '200 variables of the wrong type, each used (errors bounded)', post(`query(${Array.from({ length: 200 }, (_, i) => `$v${i}: [Int!]`).join(', ')}) { __typename @skip(if: false) ${Array.from({ length: 1 }, () => '').join('')} }`, () => Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`v${i}`, ['x']]))), 400, 'BAD_USER_INPUT');

// ---- forged cursors --------------------------------------------------------------------------
const b64 = (text: string) => Buffer.from(text).toString('base64');
const CURSORS: [string, string][] = [
  ['empty', ''],
  ['not base64', '!!!'],
  ['plain word', 'nope'],
  ['base64 of garbage', b64('garbage')],
  ['DC: without a value', b64('DC:')],
  ['DC:S: empty string', b64('DC:S:')],
  ['DC:N: not a number', b64('DC:N:abc')],
  ['DC:D: not a date', b64('DC:D:notanumber')],
  ['DC:D: out of range', b64('DC:D:99999999999999999999')],
  ['DC:T: bad tuple', b64('DC:T:[1,2,3')],
  ['DC:T: five values', b64('DC:T:["S:a","S:b","S:c","S:d","S:e"]')],
  ['DC:J: bad JSON', b64('DC:J:{bad')],
  ['DC:O: object', b64('DC:O:{"a":1}')],
  ['DC:X: unknown tag', b64('DC:X:1')],
  ['DC:S: with NUL', b64('DC:S:a\u0000b')],
  ['DC:S: 10 KB', b64(`DC:S:${'x'.repeat(10_000)}`)],
  ['DC:I: huge bigint', b64(`DC:I:${'9'.repeat(40)}`)],
  ['event cursor on a drizzle list', Buffer.from('event:1').toString('base64url')],
  ['DC:S: not a timestamp', b64('DC:S:yesterday')],
  ['DC:T: strings for timestamp and uuid', b64('DC:T:["S:yesterday","S:not-a-uuid"]')],
];
const CONNECTIONS: [string, (cursor: string, selection: string) => string, 'after' | 'before'][] = [
  ['Query.sessions(after)', (c, sel) => `query($a: ID!) { sessions(applicationId: $a, after: ${JSON.stringify(c)}) { ${sel} } }`, 'after'],
  ['Query.sessions(before)', (c, sel) => `query($a: ID!) { sessions(applicationId: $a, last: 2, before: ${JSON.stringify(c)}) { ${sel} } }`, 'before'],
  ['Application.sessions(after)', (c, sel) => `query($a: ID!) { application(applicationId: $a) { sessions(after: ${JSON.stringify(c)}) { ${sel} } } }`, 'after'],
  ['Application.media(after)', (c, sel) => `query($a: ID!) { application(applicationId: $a) { media(after: ${JSON.stringify(c)}) { ${sel} } } }`, 'after'],
  ['Session.media(after)', (c, sel) => `query($a: ID!, $s: ID!) { session(applicationId: $a, sessionId: $s) { media(after: ${JSON.stringify(c)}) { ${sel} } } }`, 'after'],
  ['Query.applications(after)', (c, sel) => `{ applications(after: ${JSON.stringify(c)}) { ${sel} } }`, 'after'],
];
for (const [connection, query] of CONNECTIONS) {
  for (const [shape, cursor] of CURSORS) {
    // Half of them select only totalCount: the cursor is checked all the same.
    const selection = cases.length % 2 ? 'totalCount' : 'edges { cursor } totalCount';
    add('forged cursors', `${connection}: ${shape}`, post(query(cursor, selection), (f) => ({ a: f.applicationId, s: f.sessionId })), 400, 'BAD_USER_INPUT');
  }
}
for (const [shape, cursor] of [
  ['not base64', '!!!'],
  ['drizzle cursor', b64('DC:S:x')],
  ['event:abc', Buffer.from('event:abc').toString('base64url')],
  ['event: 16 digits', Buffer.from(`event:${'9'.repeat(16)}`).toString('base64url')],
  ['empty', ''],
] as const) {
  add('forged cursors', `Query.events(after): ${shape}`, post('query($a: ID!, $c: String) { events(applicationId: $a, after: $c) { pageInfo { hasNextPage } } }', (f) => ({ a: f.applicationId, c: cursor })), 400, 'BAD_USER_INPUT');
  add('forged cursors', `Session.events(after): ${shape}`, post('query($a: ID!, $s: ID!, $c: String) { session(applicationId: $a, sessionId: $s) { events(after: $c) { pageInfo { hasNextPage } } } }', (f) => ({ a: f.applicationId, s: f.sessionId, c: cursor })), 400, 'BAD_USER_INPUT');
}

// ---- first / last --------------------------------------------------------------------------
const PAGE_FIELDS: [string, (arg: string) => string][] = [
  ['sessions', (arg) => `query($a: ID!, $n: Int) { sessions(applicationId: $a, ${arg}: $n) { totalCount } }`],
  ['events', (arg) => `query($a: ID!, $n: Int) { events(applicationId: $a, ${arg}: $n) { pageInfo { hasNextPage } } }`],
  ['Session.events', (arg) => `query($a: ID!, $s: ID!, $n: Int) { session(applicationId: $a, sessionId: $s) { events(${arg}: $n) { pageInfo { hasNextPage } } } }`],
  ['Session.media', (arg) => `query($a: ID!, $s: ID!, $n: Int) { session(applicationId: $a, sessionId: $s) { media(${arg}: $n) { totalCount } } }`],
  ['applications', (arg) => `query($n: Int) { applications(${arg}: $n) { edges { cursor } } }`],
];
for (const [field, query] of PAGE_FIELDS) {
  const args = field.endsWith('events') ? ['first'] : ['first', 'last'];
  for (const arg of args) {
    for (const [value, status, code] of [
      [-1, 400, 'BAD_USER_INPUT'],
      [-5, 400, 'BAD_USER_INPUT'],
      [-2147483648, 400, 'BAD_USER_INPUT'],
      [2147483648, 400, 'BAD_USER_INPUT'],
      [1.5, 400, 'BAD_USER_INPUT'],
      ['5', 400, 'BAD_USER_INPUT'],
      [0, 200, 'none'],
    ] as const) {
      add('first/last', `${field}(${arg}: ${JSON.stringify(value)})`, post(query(arg), (f) => ({ a: f.applicationId, s: f.sessionId, n: value })), status, code);
    }
  }
}
add('first/last', 'sessions(first: -1) as a literal', (f) => post(`{ sessions(applicationId: "${f.applicationId}", first: -1) { totalCount } }`)(f), 400, 'BAD_USER_INPUT');
add('first/last', 'events(first: -5) as a literal', (f) => post(`{ events(applicationId: "${f.applicationId}", first: -5) { pageInfo { hasNextPage } } }`)(f), 400, 'BAD_USER_INPUT');

// ---- bad ids, enums, scalars, timestamps -----------------------------------------------------
for (const id of ['x', '1', 'not-a-uuid', `${ZERO}0`, ZERO.toUpperCase().replace('4000', '9000'), "'; drop table users; --", '../../etc/passwd', 'a'.repeat(10_000)]) {
  add('bad ids', `application(id: ${id.slice(0, 20)})`, post('query($a: ID!) { application(applicationId: $a) { id } }', () => ({ a: id })), 200, 'NOT_FOUND');
  add('bad ids', `session(id: ${id.slice(0, 20)})`, post('query($a: ID!, $s: ID!) { session(applicationId: $a, sessionId: $s) { id } }', (f) => ({ a: f.applicationId, s: id })), 200, 'NOT_FOUND');
}
for (const [name, query, variables, status, code] of [
  ['status enum BOGUS', 'query($a: ID!) { sessions(applicationId: $a, status: BOGUS) { totalCount } }', {}, 400, 'BAD_USER_INPUT'],
  ['status enum as a variable string', 'query($a: ID!, $st: SessionStatus) { sessions(applicationId: $a, status: $st) { totalCount } }', { st: 'bogus' }, 400, 'BAD_USER_INPUT'],
  ['an unknown variable type', 'query($a: Nope) { __typename }', {}, 400, 'BAD_USER_INPUT'],
  ['DateTime not a date', 'mutation($a: ID!, $s: ID!, $t: DateTime) { createSessionEvent(applicationId: $a, sessionId: $s, data: 1, timestamp: $t) { id } }', { t: 'yesterday' }, 400, 'BAD_USER_INPUT'],
  ['DateTime without a zone', 'mutation($a: ID!, $s: ID!, $t: DateTime) { createSessionEvent(applicationId: $a, sessionId: $s, data: 1, timestamp: $t) { id } }', { t: '2026-01-01T00:00:00' }, 400, 'BAD_USER_INPUT'],
  ['DateTime month 13', 'mutation($a: ID!, $s: ID!, $t: DateTime) { createSessionEvent(applicationId: $a, sessionId: $s, data: 1, timestamp: $t) { id } }', { t: '2026-13-01T00:00:00Z' }, 400, 'BAD_USER_INPUT'],
  ['DateTime a number', 'mutation($a: ID!, $s: ID!, $t: DateTime) { createSessionEvent(applicationId: $a, sessionId: $s, data: 1, timestamp: $t) { id } }', { t: 1700000000 }, 400, 'BAD_USER_INPUT'],
  ['DateTime year 275760', 'mutation($a: ID!, $s: ID!, $t: DateTime) { createSessionEvent(applicationId: $a, sessionId: $s, data: 1, timestamp: $t) { id } }', { t: '+275760-09-14T00:00:00Z' }, 400, 'BAD_USER_INPUT'],
  ['StringMap an array', 'mutation($a: ID!, $s: ID!, $p: StringMap!) { updateSessionProperties(applicationId: $a, sessionId: $s, properties: $p) { id } }', { p: ['x'] }, 400, 'BAD_USER_INPUT'],
  ['StringMap a number value', 'mutation($a: ID!, $s: ID!, $p: StringMap!) { updateSessionProperties(applicationId: $a, sessionId: $s, properties: $p) { id } }', { p: { k: 1 } }, 400, 'BAD_USER_INPUT'],
  ['Int a string', 'query($a: ID!, $n: Int) { sessions(applicationId: $a, first: $n) { totalCount } }', { n: 'ten' }, 400, 'BAD_USER_INPUT'],
  ['Boolean a string', 'mutation($u: String!, $b: Boolean) { createUser(username: $u, isAdmin: $b) { id } }', { u: 'x', b: 'yes' }, 400, 'BAD_USER_INPUT'],
  ['a required variable missing', 'query($x: ID!) { application(applicationId: $x) { id } }', { }, 400, 'BAD_USER_INPUT'],
  ['null for a non-null variable', 'query($a: ID!) { application(applicationId: $a) { id } }', { a: null }, 400, 'BAD_USER_INPUT'],
  ['an input object with an unknown field', 'mutation($i: CreateApplicationInput!) { createApplication(input: $i) { id } }', { i: { name: 'x', nope: 1 } }, 400, 'BAD_USER_INPUT'],
  ['an input object as a string', 'mutation($i: CreateApplicationInput!) { createApplication(input: $i) { id } }', { i: 'x' }, 400, 'BAD_USER_INPUT'],
  ['an ID as an object', 'query($a: ID!) { application(applicationId: $a) { id } }', { a: { id: 1 } }, 400, 'BAD_USER_INPUT'],
  ['a list for a scalar', 'query($a: ID!) { application(applicationId: $a) { id } }', { a: ['x'] }, 400, 'BAD_USER_INPUT'],
] as const) {
  add('bad enums/scalars/timestamps', name, post(query, (f) => ({ a: f.applicationId, s: f.sessionId, ...variables })), status, code);
}

export const hostileCases: readonly HostileCase[] = [...cases, ...httpCases];
