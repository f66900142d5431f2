// The conformance suite every BlobStorage driver passes (local directory, S3). A driver under
// test comes with `files()`: everything its backing store holds (files on disk, objects and
// multipart parts on the S3 server), so "nothing left behind" is checked for real.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, ObjectTooLargeError, type BlobStorage } from '../../src/storage/types.ts';

export interface StorageUnderTest {
  storage: BlobStorage;
  /** Everything the backing store holds, as names; compared before and after a failed put. */
  files(): string[] | Promise<string[]>;
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;
const sha256 = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let counter = 0;
const newKey = (prefix = 'blob') => `${prefix}/${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** `buffer` as a stream of chunks, the way an HTTP body arrives. */
export function streamOf(buffer: Buffer, chunkSize = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < buffer.length; offset += chunkSize) yield buffer.subarray(offset, offset + chunkSize);
    })(),
    { objectMode: false },
  );
}

/** Sends `good` bytes, then fails like a client that goes away. */
function failingStream(good: Buffer, error: Error): Readable {
  return Readable.from(
    (async function* () {
      for (let offset = 0; offset < good.length; offset += 256 * 1024) yield good.subarray(offset, offset + 256 * 1024);
      await sleep(20);
      throw error;
    })(),
    { objectMode: false },
  );
}

/** Never ends by itself: 64 KiB every few milliseconds; counts what it sent. */
function endlessStream(sent: { bytes: number }): Readable {
  return new Readable({
    read() {
      setTimeout(() => {
        sent.bytes += 64 * 1024;
        this.push(randomBytes(64 * 1024));
      }, 2);
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export interface SuiteOptions {
  /** Reason to skip the whole suite. */
  skip?: string;
  /** Reason the backing store cannot take racing writes to one key (a test server's gap). */
  noSameKeyRaces?: string;
}

export function describeStorage(name: string, makeStorage: () => Promise<StorageUnderTest>, options: SuiteOptions = {}) {
  describe.skipIf(!!options.skip)(`${name} storage${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    let subject: StorageUnderTest;
    let storage: BlobStorage;
    const put = (key: string, body: Readable, maxBytes = 64 * MiB, signal?: AbortSignal) =>
      storage.put(key, body, { maxBytes, contentType: 'application/octet-stream', signal });

    beforeAll(async () => {
      subject = await makeStorage();
      storage = subject.storage;
    });
    afterAll(async () => {
      await storage?.close?.();
      await subject?.cleanup();
    });

    /** Runs a put that must fail and checks the backing store is exactly as it was. */
    async function expectNothingLeft(key: string, attempt: () => Promise<unknown>): Promise<unknown> {
      const before = await subject.files();
      const error = await attempt().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, 'the put should have failed').toBeInstanceOf(Error);
      expect(await storage.stat(key)).toBeNull();
      await expect(storage.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await subject.files()).toEqual(before);
      return error;
    }

    it.each([
      ['empty', 0],
      ['small (one part)', 1000],
      ['large (several parts)', 12 * MiB + 12345],
    ])('round trip of a %s object: exact bytes, size and sha256', async (_label, size) => {
      const key = newKey();
      const bytes = randomBytes(size);
      const stored = await put(key, streamOf(bytes));
      expect(stored).toEqual({ size, sha256: sha256(bytes) });
      expect(await storage.stat(key)).toEqual({ size });
      const back = await readAll(await storage.get(key));
      expect(back.length).toBe(size);
      expect(sha256(back)).toBe(sha256(bytes));
    });

    it('reads byte ranges (inclusive), also across part boundaries', async () => {
      const key = newKey();
      const bytes = randomBytes(11 * MiB);
      await put(key, streamOf(bytes));
      for (const [start, end] of [
        [0, 0],
        [10, 19],
        [5 * MiB - 3, 5 * MiB + 3],
        [bytes.length - 100, bytes.length - 1],
      ]) {
        const part = await readAll(await storage.get(key, { start, end }));
        expect(part.equals(bytes.subarray(start, end + 1)), `bytes ${start}-${end}`).toBe(true);
      }
    });

    it('stat answers null for an absent key; get throws BlobNotFoundError', async () => {
      expect(await storage.stat(newKey('absent'))).toBeNull();
      await expect(storage.get(newKey('absent'))).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    it('delete removes the bytes; deleting an absent key is not an error', async () => {
      const key = newKey();
      const before = await subject.files();
      await put(key, streamOf(randomBytes(2048)));
      await storage.delete(key);
      expect(await storage.stat(key)).toBeNull();
      await expect(storage.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await subject.files()).toEqual(before);
      await storage.delete(key);
      await storage.delete(newKey('never'));
    });

    it('lists complete objects with when they were written, not partial writes', async () => {
      const key = newKey('listed');
      await put(key, streamOf(randomBytes(100)));
      const sent = { bytes: 0 };
      const controller = new AbortController();
      const partial = newKey('partial');
      const writing = put(partial, endlessStream(sent), 1024 * MiB, controller.signal).catch((error) => error);
      while (sent.bytes < 6 * MiB) await sleep(10);
      const listed = [];
      for await (const object of storage.list()) listed.push(object);
      const mine = listed.find((object) => object.key === key);
      expect(mine?.modifiedAt).toBeInstanceOf(Date);
      expect(Math.abs(mine!.modifiedAt.getTime() - Date.now())).toBeLessThan(10 * 60_000);
      expect(listed.map((object) => object.key)).not.toContain(partial);
      // A write in progress is not stale: removing partials older than a minute leaves it alone.
      expect(await storage.removePartials(new Date(Date.now() - 60_000))).toBe(0);
      controller.abort();
      expect(await writing).toBeInstanceOf(Error);
      await storage.delete(key);
      const after = [];
      for await (const object of storage.list()) after.push(object.key);
      expect(after).not.toContain(key);
    });

    it('overwrites a key with the new bytes', async () => {
      const key = newKey();
      await put(key, streamOf(Buffer.from('first version')));
      const second = Buffer.from('the second version');
      expect((await put(key, streamOf(second))).sha256).toBe(sha256(second));
      expect((await readAll(await storage.get(key))).equals(second)).toBe(true);
    });

    it('refuses more than maxBytes with ObjectTooLargeError and keeps nothing (small and multipart)', async () => {
      const small = newKey();
      const error = await expectNothingLeft(small, () => put(small, streamOf(randomBytes(1000)), 999));
      expect(error).toBeInstanceOf(ObjectTooLargeError);
      const large = newKey();
      const error2 = await expectNothingLeft(large, () => put(large, streamOf(randomBytes(13 * MiB)), 11 * MiB));
      expect(error2).toBeInstanceOf(ObjectTooLargeError);
      // Exactly maxBytes is allowed.
      const exact = newKey();
      expect((await put(exact, streamOf(randomBytes(999)), 999)).size).toBe(999);
    });

    it('a body stream that errors midway leaves nothing, and the error is the stream’s', async () => {
      for (const size of [100 * 1024, 12 * MiB]) {
        const key = newKey();
        const boom = new Error(`client went away after ${size} bytes`);
        const error = await expectNothingLeft(key, () => put(key, failingStream(randomBytes(size), boom)));
        expect(error).toBe(boom);
      }
    });

    it('an abort signal stops the write and leaves nothing', async () => {
      const key = newKey();
      const sent = { bytes: 0 };
      const controller = new AbortController();
      const body = endlessStream(sent);
      await expectNothingLeft(key, async () => {
        const writing = put(key, body, 1024 * MiB, controller.signal);
        // Abort once more than one part went through, so a multipart upload is under way.
        while (sent.bytes < 7 * MiB) await sleep(10);
        controller.abort();
        return writing;
      });
      expect(body.destroyed).toBe(true);
      // An already aborted signal writes nothing at all.
      const early = newKey();
      await expectNothingLeft(early, () => put(early, streamOf(randomBytes(10)), 100, AbortSignal.abort()));
    });

    it('a failed put over an existing key keeps the old bytes', async () => {
      const key = newKey();
      const old = randomBytes(3000);
      await put(key, streamOf(old));
      const failed = await put(key, streamOf(randomBytes(5000)), 4000).catch((e) => e);
      expect(failed).toBeInstanceOf(ObjectTooLargeError);
      expect((await readAll(await storage.get(key))).equals(old)).toBe(true);
    });

    it('concurrent puts each store their own bytes', async () => {
      const bodies = Array.from({ length: 8 }, (_, i) => randomBytes(i % 2 ? 6 * MiB + i : 1000 * (i + 1)));
      const keys = bodies.map(() => newKey('concurrent'));
      const results = await Promise.all(bodies.map((body, i) => put(keys[i], streamOf(body))));
      for (const [i, body] of bodies.entries()) {
        expect(results[i]).toEqual({ size: body.length, sha256: sha256(body) });
        expect(sha256(await readAll(await storage.get(keys[i])))).toBe(sha256(body));
      }
    });

    it.skipIf(!!options.noSameKeyRaces)(
      `concurrent puts on one key leave one whole version${options.noSameKeyRaces ? ` (skipped: ${options.noSameKeyRaces})` : ''}`,
      async () => {
        const shared = newKey('same');
        const versions = [randomBytes(6 * MiB), randomBytes(6 * MiB + 1), randomBytes(4000)];
        await Promise.all(versions.map((body) => put(shared, streamOf(body))));
        const stored = sha256(await readAll(await storage.get(shared)));
        expect(versions.map(sha256)).toContain(stored);
      },
    );
  });
}
