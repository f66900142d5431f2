// Picks the blob storage driver from the configuration: S3 (or an S3-compatible server) when
// S3_BUCKET is set, else the local directory MEDIA_DIR.
import type { Config } from '../config.ts';
import { LocalStorage } from './local.ts';
import { createS3Storage } from './s3.ts';
import type { BlobStorage } from './types.ts';

export function createStorage(config: Pick<Config, 'mediaDir' | 's3'>): BlobStorage {
  return config.s3 ? createS3Storage(config.s3) : new LocalStorage(config.mediaDir);
}

export type { BlobStorage } from './types.ts';
