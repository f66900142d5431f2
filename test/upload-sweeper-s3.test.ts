// The sweeper on the S3 driver (s3rver) and its one-instance rule: objects of the gateway's key
// shape that no media row references are removed once older than the timeout, referenced ones
// and foreign keys stay; while another instance holds the sweeper's advisory lock, a sweep skips.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backgroundDatabase } from '../src/events/background-db.ts';
import { sweepUploads, type SweepDeps } from '../src/domain/upload-sweep.ts';
import { createApplication } from './helpers/factories.ts';
import { onRealPostgres } from './helpers/database.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, uploadPhoto } from './helpers/media.ts';
import { startS3rver, type TestS3 } from './helpers/s3rver.ts';

const HOUR = 3600_000;

describe('the upload sweeper on S3', () => {
  let s3: TestS3;
  let gw: TestGateway;
  let deps: SweepDeps;
  beforeAll(async () => {
    s3 = await startS3rver('skylight-sweep');
    // The gateway's own sweeper is off: the test runs sweeps itself.
    gw = await startGateway({ ...s3.env, UPLOAD_SWEEP_MS: '0' });
    deps = { database: gw.database.handle, db: backgroundDatabase(gw.database.handle), storage: gw.server.services.storage, uploadTimeoutMs: HOUR };
  });
  afterAll(async () => {
    await gw?.stop();
    await s3?.stop();
  });

  const keys = async () => {
    const found: string[] = [];
    for await (const object of deps.storage.list()) found.push(object.key);
    return found.sort();
  };
  const put = (key: string) => deps.storage.put(key, Readable.from([Buffer.from('bytes')]), { maxBytes: 100, contentType: 'application/octet-stream' });

  it('removes unreferenced objects of its own key shape once older than the timeout', async () => {
    const application = await createApplication(gw);
    const sessionId = await createSession(gw, application.id);
    const photo = await uploadPhoto(gw, { applicationId: application.id, sessionId });
    const orphan = `${randomUUID()}/${randomUUID()}`;
    const foreign = 'backups/readme.txt';
    await put(orphan);
    await put(foreign);
    const referenced = (await keys()).filter((key) => key !== orphan && key !== foreign);
    expect(referenced).toHaveLength(1);

    // Now, everything is younger than the hour: nothing goes.
    expect(await sweepUploads(deps)).toEqual({ rows: 0, partials: 0, orphans: 0 });
    expect(await keys()).toEqual([...referenced, orphan, foreign].sort());

    // Two hours later the orphan is old enough; the photo's bytes and the foreign key stay.
    expect(await sweepUploads(deps, new Date(Date.now() + 2 * HOUR))).toEqual({ rows: 0, partials: 0, orphans: 1 });
    expect(await keys()).toEqual([...referenced, foreign].sort());
    const download = await fetch(`${gw.url}/media/${photo.id}/content`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(download.status).toBe(200);
  });

  it.skipIf(!onRealPostgres)(`skips while another instance holds the sweeper's lock${onRealPostgres ? '' : ' (skipped: needs the real server)'}`, async () => {
    const other = postgres(gw.database.url!, { max: 1, onnotice: () => {} });
    try {
      const reserved = await other.reserve();
      const [{ locked }] = await reserved`select pg_try_advisory_lock(${0x736b7977}) as locked`;
      expect(locked).toBe(true);
      expect(await sweepUploads(deps)).toBeNull();
      await reserved`select pg_advisory_unlock(${0x736b7977})`;
      reserved.release();
      expect(await sweepUploads(deps)).toEqual({ rows: 0, partials: 0, orphans: 0 });
    } finally {
      await other.end();
    }
  });
});
