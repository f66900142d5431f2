// The BlobStorage conformance suite against each driver: S3 on a local s3rver started here
// (port 0, temporary directory), and the local directory driver.
import { mkdtempSync, readdirSync, rmSync, type Dirent } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStorage } from '../src/storage/local.ts';
import { createS3Storage } from '../src/storage/s3.ts';
import { startS3rver } from './helpers/s3rver.ts';
import { describeStorage } from './helpers/storage-suite.ts';

let s3: Awaited<ReturnType<typeof startS3rver>> | undefined;
describeStorage('S3 (s3rver)', async () => {
  s3 = await startS3rver();
  return {
    storage: createS3Storage(s3.config),
    files: () => s3!.files(),
    cleanup: () => s3!.stop(),
  };
}, {
  // S3 itself makes a completed upload visible atomically; s3rver writes the object file in
  // place, so two uploads completing on one key at the same moment interleave on its disk.
  noSameKeyRaces: 's3rver writes objects in place; S3 replaces them atomically',
});

describe('S3 multipart uploads', () => {
  it('the failed large puts above were multipart uploads, aborted on the server', () => {
    // maxBytes refusal, the stream that failed at 12 MiB, the abort signal.
    expect(s3?.abortedUploads.length).toBeGreaterThanOrEqual(3);
  });
});

describeStorage('local directory', async () => {
  const root = mkdtempSync(join(tmpdir(), 'skylight-storage-'));
  const files = () =>
    (readdirSync(root, { recursive: true, withFileTypes: true }) as Dirent[])
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
  return { storage: new LocalStorage(root), files, cleanup: async () => rmSync(root, { recursive: true, force: true }) };
});
