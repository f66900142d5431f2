// Issue 13: one malformed multipart request of ~120 bytes used to end the process (an
// unhandled 'error' event from busboy). Each case goes to the gateway as people run it (the
// real process), as raw bytes; after each one the process must still answer /health and a
// query, and a file whose declared type lies about its contents is refused, not fatal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from './helpers/gateway.ts';
import { gql, startProcess, type GatewayProcess } from './helpers/gateway-process.ts';
import { multipartCases } from './helpers/hostile-multipart.ts';
import { rawPost, rawRequest } from './helpers/raw-http.ts';

let gateway: GatewayProcess;
let exitCode: number | null | undefined;

beforeAll(async () => {
  gateway = await startProcess();
  void gateway.exited.then((code) => (exitCode = code));
}, 60_000);

afterAll(() => {
  gateway?.child.kill('SIGKILL');
});

async function healthy() {
  expect(exitCode, 'the gateway process exited').toBeUndefined();
  const health = await fetch(`http://127.0.0.1:${gateway.port}/health`);
  expect(health.status).toBe(200);
  expect(await gql(gateway.port, '{ __typename }')).toEqual({ __typename: 'Query' });
}

const auth = { 'x-graphql-csrf': '1', authorization: `Bearer ${ADMIN_TOKEN}` };

describe('malformed multipart requests to the real process', () => {
  it.each(multipartCases)('$name -> $status $code, and the process keeps serving', async (c) => {
    const answer = await rawPost(gateway.port, c.contentType, c.body, auth, { declaredLength: c.declaredLength, halfClose: c.halfClose, waitMs: 5_000 });
    expect(answer.status).toBe(c.status);
    if (c.code !== 'none') expect(answer.json?.errors?.[0]?.extensions?.code).toBe(c.code);
    else expect(answer.json?.errors?.[0]?.extensions?.code).toBeUndefined();
    await healthy();
  });

  it.each([
    ['session media', 200],
    ['session media', 5_000],
    ['session media', 300_000],
    ['application media', 200],
    ['application media', 300_000],
  ] as const)('an HTML file declared image/png (%s, %i bytes) is BAD_USER_INPUT and the process keeps serving', async (where, size) => {
    const { createApplication } = await gql(gateway.port, `mutation { createApplication(input: { name: "crash" }) { id } }`);
    const { createSession } = await gql(gateway.port, `mutation($a: ID!) { createSession(input: { applicationId: $a, name: "s" }) { id } }`, {
      a: createApplication.id,
    });
    const html = `<!doctype html><html><body>${'<p>not a picture</p>'.repeat(Math.ceil(size / 20))}</body></html>`;
    const operations = JSON.stringify(
      where === 'session media'
        ? {
            query: 'mutation($a: ID!, $s: ID!, $f: Upload!) { uploadSessionMedia(applicationId: $a, sessionId: $s, file: $f) { id } }',
            variables: { a: createApplication.id, s: createSession.id, f: null },
          }
        : {
            query: 'mutation($a: ID!, $f: Upload!) { uploadApplicationMedia(applicationId: $a, file: $f) { id } }',
            variables: { a: createApplication.id, f: null },
          },
    );
    const body =
      `--X\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
      `--X\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.f"]}\r\n` +
      `--X\r\nContent-Disposition: form-data; name="0"; filename="page.png"\r\nContent-Type: image/png\r\n\r\n${html}\r\n--X--\r\n`;
    const answer = await rawPost(gateway.port, 'multipart/form-data; boundary=X', body, auth);
    expect(answer.json?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await healthy();
    // The same file sent by a browser (fetch + FormData: chunked).
    const form = new FormData();
    form.append('operations', operations);
    form.append('map', '{"0":["variables.f"]}');
    form.append('0', new Blob([html], { type: 'image/png' }), 'page.png');
    const response = await fetch(`http://127.0.0.1:${gateway.port}/graphql`, { method: 'POST', headers: auth, body: form });
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    await healthy();
  });

  it('a request line the HTTP parser refuses is 400 and the process keeps serving', async () => {
    const answer = await rawRequest(gateway.port, 'GET /graphql HTTP/1.1\r\nHost: x\r\nBad Header: 1');
    expect(answer.status).toBe(400);
    await healthy();
  });
});
