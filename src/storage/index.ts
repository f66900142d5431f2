// Picks the blob storage driver from the configuration: an S3-compatible bucket when S3_BUCKET
// is set, else the local directory MEDIA_DIR. The domain only sees BlobStorage.
import type { Config } from '../config.ts';
import { LocalStorage } from './local.ts';
import { createS3Storage } from './s3.ts';
import type { BlobStorage } from './types.ts';

export function createStorage(config: Pick<Config, 'mediaDir' | 's3'>): BlobStorage {
  return config.s3 ? createS3Storage(config.s3) : new LocalStorage(config.mediaDir);
}

export type { BlobStorage } from './types.ts';
