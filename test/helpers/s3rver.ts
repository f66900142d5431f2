// A local S3-protocol server for the tests: s3rver on port 0 over a temporary directory.
//
// Two gaps of s3rver, filled here the way S3 behaves:
// - it does not implement AbortMultipartUpload (it answers 405 and keeps the parts). A small
//   middleware in front of its router drops the upload and its parts, so the storage suite can
//   check that a failed put leaves nothing at all on the server's disk;
// - it reads `Range: bytes=0-0` as the whole object (`end || Infinity`); its store is wrapped
//   to answer the single first byte.
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { S3Config } from '../../src/config.ts';

const require = createRequire(import.meta.url);
// s3rver ships no types; what the tests use of it.
interface S3rverInstance {
  store: {
    getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<any>;
    getResourcePath(bucket: string, key: string, resource: string): string;
  };
  middleware: ((ctx: any, next: () => Promise<void>) => Promise<void>)[];
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

export interface TestS3 {
  config: S3Config;
  /** Environment for a gateway process using this server. */
  env: Record<string, string>;
  /** Every file the server holds (objects, metadata, multipart parts), relative to its root. */
  files(): string[];
  /** AbortMultipartUpload requests received. */
  abortedUploads: string[];
  stop(): Promise<void>;
}

function walk(dir: string, root = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path, root));
    else out.push(relative(root, path));
  }
  return out.sort();
}

export async function startS3rver(bucket = 'skylight-test'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'skylight-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  const abortedUploads: string[] = [];
  server.middleware.unshift(async (ctx, next) => {
    const uploadId = ctx.query?.uploadId;
    if (ctx.method === 'DELETE' && typeof uploadId === 'string' && !uploadId.includes('/') && !uploadId.includes('..')) {
      abortedUploads.push(uploadId);
      const [bucketName] = ctx.path.split('/').filter(Boolean);
      rmSync(join(directory, bucketName, '._S3rver_uploads', uploadId), { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    await next();
  });
  const getObject = server.store.getObject.bind(server.store);
  server.store.getObject = async (bucketName, key, options) => {
    const object = await getObject(bucketName, key, options);
    if (options?.end === 0 && object?.content) {
      object.content.destroy();
      object.content = createReadStream(server.store.getResourcePath(bucketName, key, 'object'), { start: 0, end: 0 });
      object.range = { start: 0, end: 0 };
    }
    return object;
  };
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const config: S3Config = {
    endpoint,
    bucket,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    forcePathStyle: true,
  };
  return {
    config,
    env: { S3_ENDPOINT: endpoint, S3_BUCKET: bucket, S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' },
    files: () => {
      try {
        statSync(directory);
      } catch {
        return [];
      }
      // Empty directories that s3rver leaves behind are not bytes; files are.
      return walk(directory).filter((file) => !file.endsWith('.DS_Store'));
    },
    abortedUploads,
    async stop() {
      await server.close().catch(() => {});
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
