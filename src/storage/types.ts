// Blob storage behind one small interface: the domain never knows whether bytes live in a
// local directory or an S3-compatible bucket. Drivers: local.ts (MEDIA_DIR), s3.ts.
import type { Readable } from 'node:stream';

/** What a completed write measured on the way through. */
export interface StoredObject {
  size: number;
  /** Lowercase hex sha256 of the bytes. */
  sha256: string;
}

/** Inclusive byte range, as HTTP Range gives it. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ListedObject {
  key: string;
  modifiedAt: Date;
}

export interface PutOptions {
  /** Refuse (ObjectTooLargeError) and keep nothing once more bytes than this arrive. */
  maxBytes: number;
  contentType: string;
  /** Aborts the write; nothing is kept. */
  signal?: AbortSignal;
}

export interface BlobStorage {
  /** `local` or `s3`, for logs and the README. */
  readonly kind: string;
  /**
   * Streams `body` to `key`, computing size and sha256 while it flows. The bytes become
   * visible under `key` only when complete (temporary name then rename, or a multipart upload
   * completed at the end); on any failure, including the limit, nothing is left behind.
   */
  put(key: string, body: Readable, options: PutOptions): Promise<StoredObject>;
  /** Streams the bytes of `key` (a part of them with `range`). Throws BlobNotFoundError. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Size of `key`, or null when absent. */
  stat(key: string): Promise<{ size: number } | null>;
  /** Removes `key`; absent keys are not an error. */
  delete(key: string): Promise<void>;
  /**
   * Every complete object with when it was last written, for the sweeper's search for objects
   * no row references (src/domain/upload-sweep.ts). Partial writes are not listed.
   */
  list(): AsyncIterable<ListedObject>;
  /**
   * Removes partial writes (temporary files, unfinished multipart uploads) last written, or
   * begun, before `before`: what a process killed mid-upload leaves. Answers how many.
   */
  removePartials(before: Date): Promise<number>;
  close?(): Promise<void>;
}

export class ObjectTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`Object larger than ${maxBytes} bytes`);
    this.name = 'ObjectTooLargeError';
  }
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`No object ${key}`);
    this.name = 'BlobNotFoundError';
  }
}
