// SIGTERM during an upload: an upload in flight finishes (READY, exact bytes) before the
// process exits; one that outlives SHUTDOWN_TIMEOUT_MS is cut and leaves no READY row and no
// bytes, not even a temporary file, in MEDIA_DIR.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.ts';
import { schema } from '../src/graphql/index.ts';
import { ADMIN_TOKEN } from './helpers/gateway.ts';
import { gql, refused, slowRequest, startProcess, until, type GatewayProcess, type Store } from './helpers/gateway-process.ts';

const haveUploads = !!schema.getMutationType()?.getFields().uploadSessionMedia;
const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)).map((file) => join(entry.name, file)) : [entry.name],
  );
}

/** The media rows as the database holds them, read after the process exited. */
async function mediaRows(store: Store): Promise<{ status: string; size: number; sha256: string | null; storage_key: string | null }[]> {
  const database = await openDatabase({ url: store.database?.url ?? null, dataDir: join(store.dataDir, 'pglite') });
  try {
    const result = await database.db.execute('select status, size, sha256, storage_key from media' as never);
    return ((result as { rows?: unknown[] }).rows ?? (result as unknown[])) as never;
  } finally {
    await database.close();
  }
}

async function newSession(gw: GatewayProcess) {
  const { createApplication } = await gql(gw.port, `mutation { createApplication(input: { name: "Uploads" }) { id } }`);
  const { createSession } = await gql(gw.port, `mutation($a: ID!) { createSession(input: { applicationId: $a, name: "s" }) { id } }`, {
    a: createApplication.id,
  });
  return { a: createApplication.id, s: createSession.id };
}

/** A GraphQL multipart upload of `bytes`, sent head first; the test sends the rest. */
function startUpload(gw: GatewayProcess, ids: { a: string; s: string }, bytes: Buffer, firstBytes: number) {
  const boundary = `----skylight${randomBytes(8).toString('hex')}`;
  const operations = JSON.stringify({
    query: `mutation($a: ID!, $s: ID!, $file: Upload!) { uploadSessionMedia(applicationId: $a, sessionId: $s, file: $file) { id status size sha256 } }`,
    variables: { ...ids, file: null },
  });
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="survey.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const upload = slowRequest(
    gw.port,
    {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + bytes.length + tail.length,
      'x-graphql-csrf': '1',
      authorization: `Bearer ${ADMIN_TOKEN}`,
    },
    Buffer.concat([head, bytes.subarray(0, firstBytes)]),
  );
  return {
    answered: upload.answered,
    /** Sends the rest of the file in small pieces, slowly, then the closing boundary. */
    async rest(pieceBytes = 256 * 1024, pauseMs = 40) {
      for (let offset = firstBytes; offset < bytes.length; offset += pieceBytes) {
        await upload.write(bytes.subarray(offset, Math.min(bytes.length, offset + pieceBytes)));
        await sleep(pauseMs);
      }
      upload.finish(tail);
    },
  };
}

describe.skipIf(!haveUploads)(
  `graceful shutdown during uploads${haveUploads ? '' : ' (skipped: no uploadSessionMedia in the schema yet)'}`,
  () => {
    it('SIGTERM mid-upload: the upload completes READY with exact bytes, then the process exits 0', async () => {
      const gw = await startProcess();
      const ids = await newSession(gw);
      const bytes = randomBytes(4 * MiB);
      const upload = startUpload(gw, ids, bytes, 1 * MiB);
      await sleep(300);
      gw.child.kill('SIGTERM');
      await until(() => refused(gw.port));
      await upload.rest();
      const { response, text } = await upload.answered;
      expect(response.statusCode).toBe(200);
      const media = JSON.parse(text).data.uploadSessionMedia;
      expect(media).toMatchObject({ status: 'READY', size: bytes.length, sha256: sha256(bytes) });
      expect(await gw.exited).toBe(0);

      const mediaDir = join(gw.store.dataDir, 'media');
      const files = filesUnder(mediaDir).filter((file) => !file.startsWith('.tmp'));
      expect(filesUnder(join(mediaDir, '.tmp'))).toEqual([]);
      expect(files).toHaveLength(1);
      expect(sha256(readFileSync(join(mediaDir, files[0]!)))).toBe(sha256(bytes));
      const rows = await mediaRows(gw.store);
      expect(rows).toEqual([expect.objectContaining({ status: 'READY', sha256: sha256(bytes), storage_key: relative('', files[0]!) })]);
    }, 90_000);

    it('an upload that outlives SHUTDOWN_TIMEOUT_MS is cut: no READY row, no bytes, no temporary file', async () => {
      const gw = await startProcess({ SHUTDOWN_TIMEOUT_MS: '800' });
      const ids = await newSession(gw);
      const bytes = randomBytes(3 * MiB);
      const upload = startUpload(gw, ids, bytes, 1 * MiB);
      await sleep(300);
      gw.child.kill('SIGTERM');
      await expect(upload.answered).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(await gw.exited).toBe(0);

      const mediaDir = join(gw.store.dataDir, 'media');
      expect(filesUnder(mediaDir)).toEqual([]);
      expect(gw.logs.find((entry) => entry.msg?.includes('cut'))).toMatchObject({ requests: 1 });
      const rows = await mediaRows(gw.store);
      expect(rows.filter((row) => row.status === 'READY')).toEqual([]);
    }, 90_000);
  },
);
