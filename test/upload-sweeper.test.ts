// What a process killed mid-upload leaves (an UPLOADING row, partial bytes in MEDIA_DIR/.tmp)
// is removed by the sweeper of a gateway started afterwards (src/domain/upload-sweep.ts), with
// the SESSION_MEDIA_DELETED event in the session's history; so are stored objects no row
// references. Files that are not the gateway's, and media that completed, stay.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.ts';
import { ADMIN_TOKEN } from './helpers/gateway.ts';
import { gql, slowRequest, startProcess, until, type GatewayProcess, type Store } from './helpers/gateway-process.ts';

const MiB = 1024 * 1024;

/** The media rows as the database holds them, read while no gateway runs. */
async function mediaRows(store: Store): Promise<{ id: string; status: string }[]> {
  const database = await openDatabase({ url: store.database?.url ?? null, dataDir: join(store.dataDir, 'pglite') });
  try {
    const result = await database.db.execute('select id, status from media order by created_at' as never);
    return ((result as { rows?: unknown[] }).rows ?? (result as unknown[])) as never;
  } finally {
    await database.close();
  }
}

function multipart(ids: { a: string; s: string }, filename: string) {
  const boundary = `----skylight${randomBytes(8).toString('hex')}`;
  const operations = JSON.stringify({
    query: `mutation($a: ID!, $s: ID!, $file: Upload!) { uploadSessionMedia(applicationId: $a, sessionId: $s, file: $file) { id status } }`,
    variables: { ...ids, file: null },
  });
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const headers = { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-graphql-csrf': '1', authorization: `Bearer ${ADMIN_TOKEN}` };
  return { head, tail, headers };
}

async function upload(gw: GatewayProcess, ids: { a: string; s: string }, bytes: Buffer) {
  const { head, tail, headers } = multipart(ids, 'done.bin');
  const body = Buffer.concat([head, bytes, tail]);
  const request = slowRequest(gw.port, { ...headers, 'content-length': body.length }, body);
  request.finish();
  return JSON.parse((await request.answered).text).data.uploadSessionMedia;
}

const partsIn = (mediaDir: string) => (existsSync(join(mediaDir, '.tmp')) ? readdirSync(join(mediaDir, '.tmp')) : []);

describe('the upload sweeper', () => {
  it('removes the UPLOADING row and partial bytes a killed process left, with SESSION_MEDIA_DELETED; and unreferenced objects', async () => {
    const first = await startProcess({ UPLOAD_SWEEP_MS: '0' });
    const mediaDir = join(first.store.dataDir, 'media');
    const { createApplication } = await gql(first.port, `mutation { createApplication(input: { name: "Sweep" }) { id } }`);
    const { createSession } = await gql(first.port, `mutation($a: ID!) { createSession(input: { applicationId: $a, name: "s" }) { id } }`, {
      a: createApplication.id,
    });
    const ids = { a: createApplication.id, s: createSession.id };
    const completed = await upload(first, ids, randomBytes(1000));
    expect(completed.status).toBe('READY');

    // An upload under way: its row is UPLOADING and half its bytes are in a temporary file.
    const { head, headers } = multipart(ids, 'killed.bin');
    const killed = slowRequest(first.port, { ...headers, 'content-length': head.length + 4 * MiB + 100 }, Buffer.concat([head, randomBytes(1 * MiB)]));
    killed.answered.catch(() => {});
    await until(() => partsIn(mediaDir).some((name) => statSync(join(mediaDir, '.tmp', name)).size > 0), 30_000);
    first.child.kill('SIGKILL');
    await first.exited;

    const rows = await mediaRows(first.store);
    expect(rows.map((row) => row.status)).toEqual(['READY', 'UPLOADING']);
    const abandoned = rows[1]!.id;
    expect(partsIn(mediaDir)).toHaveLength(1);
    // An object no row references (bytes whose row never committed), and a file that is not the gateway's.
    const orphan = join(mediaDir, randomUUID(), randomUUID());
    mkdirSync(join(orphan, '..'), { recursive: true });
    writeFileSync(orphan, 'orphan');
    const foreign = join(mediaDir, 'README.txt');
    writeFileSync(foreign, 'not the gateway’s');
    const longAgo = new Date(Date.now() - 3600_000);
    utimesSync(orphan, longAgo, longAgo);
    utimesSync(foreign, longAgo, longAgo);
    // Past the (tiny) upload timeout of the next gateway.
    await new Promise((resolve) => setTimeout(resolve, 1200));

    const second = await startProcess({ UPLOAD_TIMEOUT_MS: '1000', UPLOAD_SWEEP_MS: '600000' }, first.store);
    try {
      await until(() => second.logs.some((entry) => entry.msg === 'sweeper: done'), 30_000);
      expect(second.logs.find((entry) => entry.msg === 'sweeper: done')).toMatchObject({ rows: 1, partials: 1, orphans: 1 });
      expect(partsIn(mediaDir)).toEqual([]);
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(foreign)).toBe(true);

      const history = await gql(
        second.port,
        `query($a: ID!, $s: ID!) { events(applicationId: $a, sessionId: $s, first: 100) { edges { node { type ... on MediaEvent { mediaId } } } } }`,
        ids,
      );
      const mediaEvents = history.events.edges.map((edge: any) => edge.node).filter((node: any) => node.mediaId === abandoned);
      expect(mediaEvents.map((node: any) => node.type)).toEqual(['SESSION_MEDIA_CREATED', 'SESSION_MEDIA_DELETED']);
      // The completed upload is untouched, bytes and all.
      const { media } = await gql(second.port, `query($id: ID!) { media(mediaId: $id) { status size } }`, { id: completed.id });
      expect(media).toEqual({ status: 'READY', size: 1000 });
      const content = await fetch(`http://127.0.0.1:${second.port}/media/${completed.id}/content`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(content.status).toBe(200);
      expect((await content.arrayBuffer()).byteLength).toBe(1000);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    expect((await mediaRows(first.store)).map((row) => row.id)).toEqual([completed.id]);
  }, 300_000);
});
