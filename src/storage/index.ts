// Picks the blob storage driver from the configuration. The local directory for now; the
// S3-compatible driver is selected here when its configuration is present.
import type { Config } from '../config.ts';
import { LocalStorage } from './local.ts';
import type { BlobStorage } from './types.ts';

export function createStorage(config: Pick<Config, 'mediaDir'>): BlobStorage {
  return new LocalStorage(config.mediaDir);
}

export type { BlobStorage } from './types.ts';
