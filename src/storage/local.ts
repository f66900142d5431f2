// The local-directory driver (MEDIA_DIR). Bytes stream to a temporary file under `.tmp/`
// while their size and sha256 are computed; only a complete, fsynced file is renamed to its
// key, so a reader never sees a partial object and a failed write leaves nothing behind.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BlobNotFoundError,
  ObjectTooLargeError,
  type BlobStorage,
  type ByteRange,
  type ListedObject,
  type PutOptions,
  type StoredObject,
} from './types.ts';

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/** Counts and hashes what flows through; fails once more than `maxBytes` arrived. */
export function measuring(maxBytes: number) {
  const hash = createHash('sha256');
  let size = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxBytes) return callback(new ObjectTooLargeError(maxBytes));
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  return { transform, result: (): StoredObject => ({ size, sha256: hash.digest('hex') }) };
}

export class LocalStorage implements BlobStorage {
  readonly kind = 'local';
  private readonly root: string;
  private readonly tmp: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.tmp = join(this.root, '.tmp');
  }

  /** The file of a key; keys are checked so none can leave the root. */
  pathOf(key: string): string {
    if (!KEY.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
      throw new Error(`Invalid storage key ${JSON.stringify(key)}`);
    }
    const path = join(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`Invalid storage key ${JSON.stringify(key)}`);
    return path;
  }

  async put(key: string, body: Readable, options: PutOptions): Promise<StoredObject> {
    const target = this.pathOf(key);
    await mkdir(this.tmp, { recursive: true });
    const temporary = join(this.tmp, `${randomUUID()}.part`);
    const measure = measuring(options.maxBytes);
    const out = createWriteStream(temporary, { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024 });
    // pipeline() settles as soon as it has destroyed its streams, before the file stream has
    // opened (the open is still queued in the thread pool) or closed its descriptor. Removing
    // the temporary file then races the open, which creates it again afterwards: a stray
    // `.part`. So a failure waits for the stream's `close` before it removes the file.
    const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
    try {
      await pipeline(body, measure.transform, out, ...(options.signal ? [{ signal: options.signal }] : []));
      // fsync flushes the file whichever descriptor asks; the rename then publishes whole bytes.
      const file = await open(temporary, 'r');
      await file.sync().finally(() => file.close());
      await mkdir(dirname(target), { recursive: true });
      await rename(temporary, target);
      return measure.result();
    } catch (error) {
      body.destroy();
      out.destroy();
      await closed;
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(key);
    if (!(await this.stat(key))) throw new BlobNotFoundError(key);
    return createReadStream(path, range ? { start: range.start, end: range.end } : {});
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { size: info.size } : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async *list(): AsyncIterable<ListedObject> {
    let entries;
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const key = path.slice(this.root.length + 1).split(sep).join('/');
      if (key.startsWith('.tmp/') || !KEY.test(key)) continue;
      const info = await stat(path).catch(() => null);
      if (info) yield { key, modifiedAt: info.mtime };
    }
  }

  async removePartials(before: Date): Promise<number> {
    const names = await readdir(this.tmp).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      if (!name.endsWith('.part')) continue;
      const path = join(this.tmp, name);
      // A write in progress keeps touching its file: only files idle since `before` go.
      const info = await stat(path).catch(() => null);
      if (info?.isFile() && info.mtime < before) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
