// S3-compatible blob storage (AWS S3, MinIO, Ceph, s3rver in the tests), for deployments
// where several gateway instances share media.
//
// put() streams: the body flows through a Transform that counts and hashes it, then into
// lib-storage's Upload, which cuts it into parts (at most queueSize × partSize bytes buffered,
// 20 MiB by default) and sends them as one multipart upload. S3 shows nothing under the key
// until CompleteMultipartUpload, so a half-written object is never visible. Small bodies (one
// part) go as a single PutObject sent only once the whole body has arrived.
//
// Failures (limit, a body stream that errors, the caller's abort signal) are all turned into
// an error of the counting stream. We do not use Upload.abort(): its done() rejects at once
// while parts may still be in flight, so cleanup would race. Failing the stream instead makes
// Upload stop reading, wait for its in-flight parts and send AbortMultipartUpload before
// done() rejects — when put() throws, nothing is left. An abort that arrives after the last
// byte was read (the upload may then complete) deletes the object before put() throws.
import { createHash } from 'node:crypto';
import { Transform, pipeline, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Config } from '../config.ts';
import { BlobNotFoundError, ObjectTooLargeError, type BlobStorage, type ByteRange, type ListedObject, type PutOptions, type StoredObject } from './types.ts';

export interface S3StorageOptions extends S3Config {
  /** Bytes per multipart part (S3's minimum is 5 MiB). */
  partSize?: number;
  /** Parts uploaded concurrently. */
  queueSize?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  return Object.assign(new Error('The upload was aborted'), { name: 'AbortError' });
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

export function s3ClientConfig(options: S3Config): S3ClientConfig {
  return {
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // Checksums only where S3 requires them: S3-compatible servers do not all understand the
    // aws-chunked trailing checksums the SDK adds by default. Integrity is our own sha256.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

export function createS3Storage(options: S3StorageOptions): BlobStorage {
  const client = new S3Client(s3ClientConfig(options));
  const Bucket = options.bucket;
  const partSize = Math.max(options.partSize ?? MIN_PART_SIZE, MIN_PART_SIZE);
  const queueSize = options.queueSize ?? 4;

  async function remove(key: string): Promise<void> {
    await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
  }

  return {
    kind: 's3',

    async put(key: string, body: Readable, { maxBytes, contentType, signal }: PutOptions): Promise<StoredObject> {
      if (signal?.aborted) {
        body.destroy();
        throw abortError(signal);
      }
      const hash = createHash('sha256');
      let size = 0;
      let failure: Error | null = null;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          if (size > maxBytes) return done(new ObjectTooLargeError(maxBytes));
          hash.update(chunk);
          done(null, chunk);
        },
      });
      // The body's own errors (a client that goes away mid-upload) fail the counter too, and
      // so the part reader inside Upload.
      pipeline(body, counter, (error) => {
        if (error && !failure) failure = error;
      });
      const onAbort = () => {
        if (!failure) failure = abortError(signal!);
        counter.destroy(failure);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const upload = new Upload({
        client,
        params: { Bucket, Key: key, Body: counter, ContentType: contentType },
        partSize,
        queueSize,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (error) {
        // S3 refused a part: stop reading the body (it may be an HTTP request still arriving).
        if (!counter.destroyed) counter.destroy(error as Error);
        throw failure ?? error;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      if (failure || signal?.aborted) {
        // Completed, but the caller gave up or the body failed after its last byte: take it back.
        await remove(key).catch(() => {});
        throw failure ?? abortError(signal!);
      }
      return { size, sha256: hash.digest('hex') };
    },

    async get(key: string, range?: ByteRange): Promise<Readable> {
      try {
        const output = await client.send(
          new GetObjectCommand({ Bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
        );
        if (!output.Body) throw new BlobNotFoundError(key);
        return output.Body as Readable;
      } catch (error) {
        if (isNotFound(error)) throw new BlobNotFoundError(key);
        throw error;
      }
    },

    async stat(key: string): Promise<{ size: number } | null> {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { size: head.ContentLength ?? 0 };
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },

    async delete(key: string): Promise<void> {
      try {
        await remove(key);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },

    async *list(): AsyncIterable<ListedObject> {
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, ContinuationToken: token }));
        for (const object of page.Contents ?? []) {
          if (object.Key) yield { key: object.Key, modifiedAt: object.LastModified ?? new Date(0) };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async removePartials(before: Date): Promise<number> {
      // Multipart uploads never completed nor aborted (a process killed mid-upload): their parts
      // are stored (and billed) until aborted. Lifecycle rules can do this too; this is the fallback.
      let removed = 0;
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      do {
        let page;
        try {
          page = await client.send(new ListMultipartUploadsCommand({ Bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
        } catch (error) {
          // Some S3-compatible servers cannot list them (s3rver): their lifecycle rules must do it.
          if ((error as { name?: string }).name === 'NotImplemented') return removed;
          throw error;
        }
        for (const upload of page.Uploads ?? []) {
          if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated >= before) continue;
          await client.send(new AbortMultipartUploadCommand({ Bucket, Key: upload.Key, UploadId: upload.UploadId })).catch((error) => {
            if (!isNotFound(error)) throw error;
          });
          removed++;
        }
        const more = page.IsTruncated;
        keyMarker = more ? page.NextKeyMarker : undefined;
        uploadIdMarker = more ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
      return removed;
    },

    async close(): Promise<void> {
      client.destroy();
    },
  };
}
