// The gateway with S3_BUCKET set keeps media in the bucket (s3rver here): uploads land there,
// downloads and signed URLs are streamed by the gateway from it (with Range), delete purges.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/index.ts';
import { createApplication, dataOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { startS3rver, type TestS3 } from './helpers/s3rver.ts';

const haveUploads = !!schema.getMutationType()?.getFields().uploadSessionMedia;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe.skipIf(!haveUploads)(`media on S3 through the gateway${haveUploads ? '' : ' (skipped: no uploads in the schema yet)'}`, () => {
  let s3: TestS3;
  let gw: TestGateway;
  let ids: { a: string; s: string };
  beforeAll(async () => {
    s3 = await startS3rver('skylight-media');
    gw = await startGateway(s3.env);
    const application = await createApplication(gw);
    const session = dataOf(
      await gw.gql(`mutation($a: ID!) { createSession(input: { applicationId: $a, name: "on S3" }) { id } }`, { a: application.id }),
    );
    ids = { a: application.id, s: session.createSession.id };
  });
  afterAll(async () => {
    await gw?.stop();
    await s3?.stop();
  });

  it('uses the S3 driver', () => {
    expect(gw.server.services.storage.kind).toBe('s3');
  });

  it('uploads into the bucket (multipart), downloads with Range and a signed URL, and delete purges', async () => {
    const bytes = randomBytes(7 * 1024 * 1024 + 321);
    const form = new FormData();
    form.append(
      'operations',
      JSON.stringify({
        query: `mutation($a: ID!, $s: ID!, $file: Upload!) { uploadSessionMedia(applicationId: $a, sessionId: $s, file: $file) { id status size sha256 url } }`,
        variables: { ...ids, file: null },
      }),
    );
    form.append('map', JSON.stringify({ 0: ['variables.file'] }));
    form.append('0', new Blob([bytes], { type: 'application/octet-stream' }), 'scan.bin');
    const filesBefore = s3.files().length;
    const response = await fetch(gw.graphqlUrl, { method: 'POST', headers: { 'x-graphql-csrf': '1', authorization: `Bearer ${ADMIN_TOKEN}` }, body: form });
    const media = dataOf((await response.json()) as never).uploadSessionMedia;
    expect(media).toMatchObject({ status: 'READY', size: bytes.length, sha256: sha256(bytes) });
    expect(s3.files().length).toBeGreaterThan(filesBefore);

    const whole = await fetch(`${gw.url}/media/${media.id}/content`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('etag')).toContain(media.sha256);
    expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256(bytes));

    const part = await fetch(`${gw.url}/media/${media.id}/content`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, range: 'bytes=5242870-5242889' },
    });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(5242870, 5242890))).toBe(true);

    // The signed URL needs no header: the gateway streams the object from the bucket.
    const signed = await fetch(new URL(media.url, gw.url));
    expect(signed.status).toBe(200);
    expect(sha256(new Uint8Array(await signed.arrayBuffer()))).toBe(sha256(bytes));

    dataOf(await gw.gql(`mutation($m: ID!) { deleteMedia(mediaId: $m) }`, { m: media.id }));
    expect(s3.files().length).toBe(filesBefore);
  });
});
