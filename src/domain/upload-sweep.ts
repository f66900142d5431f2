// What a process killed mid-upload leaves behind, removed (SPEC 4: nothing lingers):
//  - media rows still UPLOADING after UPLOAD_TIMEOUT_MS, each with its SESSION_MEDIA_DELETED
//    event (whoever saw SESSION_MEDIA_CREATED learns it is gone), as a failed upload does;
//  - partial bytes (temporary files, unfinished multipart uploads) idle for as long;
//  - stored objects no media row references, once older than the timeout (younger ones may
//    belong to an upload about to commit: bytes are stored before their row says READY).
// The timeout must be longer than any legitimate upload: a row older than that is discarded.
// One instance sweeps at a time: a session advisory lock taken with pg_try_advisory_lock, so
// the others skip their turn instead of waiting.
import { and, eq, inArray, lt } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database, DatabaseHandle } from '../db/client.ts';
import { mediaTable } from '../db/schema.ts';
import { EventType } from '../events/log.ts';
import type { BlobStorage } from '../storage/types.ts';
import { appendMediaEvent } from './media.ts';

/** Advisory lock key of the sweeper: 'skyw' as int (the migrations use 'skym'). */
const SWEEP_LOCK = 0x736b7977;
const BATCH = 200;
/** The shape of every key the gateway writes (newStorageKey: `<media id>/<uuid>`); nothing else is touched. */
const OWN_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface SweepDeps {
  /** For the advisory lock (its raw client). */
  database: DatabaseHandle;
  /** Where the statements go: the background view, so requests' statement counts stay theirs. */
  db: Database;
  storage: BlobStorage;
  uploadTimeoutMs: number;
  logger?: Logger;
}

export interface SweepResult {
  /** UPLOADING rows removed. */
  rows: number;
  /** Partial writes removed. */
  partials: number;
  /** Complete objects no row referenced, removed. */
  orphans: number;
}

/** Runs `work` holding the sweeper's lock; null when another instance holds it. */
async function whileLocked<T>(database: DatabaseHandle, work: () => Promise<T>): Promise<T | null> {
  // PGlite: one process owns the database (the DATA_DIR lock), and callers never overlap.
  if (!database.sql) return work();
  const connection = await database.sql.reserve();
  try {
    const [row] = await connection`select pg_try_advisory_lock(${SWEEP_LOCK}) as locked`;
    if (!row?.locked) return null;
    try {
      return await work();
    } finally {
      await connection`select pg_advisory_unlock(${SWEEP_LOCK})`.catch(() => {});
    }
  } finally {
    connection.release();
  }
}

/** Deletes UPLOADING rows created before `before`, each with its event, and their bytes if any. */
async function sweepRows(deps: SweepDeps, before: Date): Promise<number> {
  const { db } = deps;
  let removed = 0;
  for (;;) {
    const stale = await db
      .select({ id: mediaTable.id })
      .from(mediaTable)
      .where(and(eq(mediaTable.status, 'UPLOADING'), lt(mediaTable.createdAt, before)))
      .limit(BATCH);
    if (stale.length === 0) return removed;
    for (const { id } of stale) {
      const deleted = await db.transaction(async (tx) => {
        // Still UPLOADING: an upload finishing right now wins (it sets READY in its own transaction).
        const [row] = await tx
          .delete(mediaTable)
          .where(and(eq(mediaTable.id, id), eq(mediaTable.status, 'UPLOADING')))
          .returning();
        if (row?.scope === 'SESSION') {
          await appendMediaEvent(tx, EventType.SESSION_MEDIA_DELETED, { userId: row.createdBy as string }, row, { withMedia: false });
        }
        return row ?? null;
      });
      if (!deleted) continue;
      removed++;
      if (deleted.storageKey) await deps.storage.delete(deleted.storageKey);
      deps.logger?.info({ mediaId: deleted.id, sessionId: deleted.sessionId, createdAt: deleted.createdAt }, 'sweeper: removed an upload that never completed');
    }
    if (stale.length < BATCH) return removed;
  }
}

/** Deletes stored objects older than `before` that no media row references. */
async function sweepOrphans(deps: SweepDeps, before: Date): Promise<number> {
  let removed = 0;
  let batch: string[] = [];
  const flush = async () => {
    const keys = batch;
    batch = [];
    if (keys.length === 0) return;
    const referenced = await deps.db
      .select({ key: mediaTable.storageKey })
      .from(mediaTable)
      .where(inArray(mediaTable.storageKey, keys));
    const kept = new Set(referenced.map((row) => row.key));
    for (const key of keys) {
      if (kept.has(key)) continue;
      await deps.storage.delete(key);
      removed++;
      deps.logger?.info({ key }, 'sweeper: removed a stored object no media references');
    }
  };
  for await (const object of deps.storage.list()) {
    if (object.modifiedAt >= before || !OWN_KEY.test(object.key)) continue;
    batch.push(object.key);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return removed;
}

/** One sweep; null when another instance was sweeping. */
export async function sweepUploads(deps: SweepDeps, now = new Date()): Promise<SweepResult | null> {
  const before = new Date(now.getTime() - deps.uploadTimeoutMs);
  return whileLocked(deps.database, async () => {
    const rows = await sweepRows(deps, before);
    const partials = await deps.storage.removePartials(before);
    const orphans = await sweepOrphans(deps, before);
    if (rows + partials + orphans > 0) deps.logger?.info({ rows, partials, orphans }, 'sweeper: done');
    return { rows, partials, orphans };
  });
}

/** The sweep at start and every `intervalMs`; failures are logged and retried next time. */
export class UploadSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: SweepDeps & { logger: Logger },
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.stopped = false;
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    this.running = sweepUploads(this.deps)
      .catch((error) => this.deps.logger.warn({ err: error }, 'sweeper: sweep failed; trying again later'))
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        this.timer = setTimeout(() => this.tick(), this.intervalMs);
        this.timer.unref();
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}

