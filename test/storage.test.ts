// The BlobStorage conformance suite against each driver: S3 on a local s3rver started here
// (port 0, temporary directory), and the local directory driver.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createS3Storage } from '../src/storage/s3.ts';
import type { BlobStorage } from '../src/storage/types.ts';
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

// The local directory driver (src/storage/local.ts, from the media work) passes the same suite.
const localDriver = new URL('../src/storage/local.ts', import.meta.url);
describeStorage(
  'local directory',
  async () => {
    const { LocalStorage } = await import(localDriver.href);
    const root = mkdtempSync(join(tmpdir(), 'skylight-local-storage-'));
    return {
      storage: new LocalStorage(root) as BlobStorage,
      files: () => walk(root),
      cleanup: async () => rmSync(root, { recursive: true, force: true }),
    };
  },
  { skip: existsSync(localDriver) ? undefined : 'src/storage/local.ts does not exist yet' },
);

function walk(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name), root) : [relative(root, join(dir, entry.name))]))
    .sort();
}
