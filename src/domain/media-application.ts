// Application media (SPEC 4): reference media of an application, addressed as
// skylight://<id>. Bytes are stored before the row commits; replaced or deleted bytes are
// removed only after the commit, and new bytes are removed again when the commit fails.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { mediaTable } from '../db/schema.ts';
import { EventType, type Actor } from '../events/log.ts';
import { notFound } from './errors.ts';
import { inspectFile } from './media-content.ts';
import {
  appendMediaEvent,
  cleanFilename,
  newStorageKey,
  requireMedia,
  storageError,
  type IncomingFile,
  type MediaDeps,
} from './media.ts';

async function store(deps: MediaDeps, mediaId: string, file: IncomingFile) {
  const inspected = await inspectFile(file.stream, file.contentType);
  const key = newStorageKey(mediaId);
  try {
    const stored = await deps.storage.put(key, inspected.stream, {
      maxBytes: deps.maxUploadBytes,
      contentType: inspected.contentType,
    });
    return { key, stored, contentType: inspected.contentType, kind: inspected.kind, filename: cleanFilename(file.filename) };
  } catch (error) {
    throw storageError(error, 'file');
  }
}

/** Runs `commit`; when it fails the new bytes go again. */
async function committing<T>(deps: MediaDeps, key: string, commit: () => Promise<T>): Promise<T> {
  try {
    return await commit();
  } catch (error) {
    await deps.storage.delete(key);
    throw error;
  }
}

export async function uploadApplicationMedia(
  deps: MediaDeps,
  actor: Actor,
  applicationId: string,
  file: IncomingFile,
  title?: string | null,
) {
  const id = randomUUID();
  const bytes = await store(deps, id, file);
  return committing(deps, bytes.key, () =>
    deps.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(mediaTable)
        .values({
          id,
          scope: 'APPLICATION',
          applicationId,
          filename: bytes.filename,
          contentType: bytes.contentType,
          kind: bytes.kind,
          size: bytes.stored.size,
          sha256: bytes.stored.sha256,
          status: 'READY',
          title: title ?? null,
          storageKey: bytes.key,
          createdBy: actor.userId,
        })
        .returning();
      return (await appendMediaEvent(tx, EventType.APPLICATION_MEDIA_CREATED, actor, row!, { withMedia: true }))!;
    }),
  );
}

async function requireApplicationMedia(deps: MediaDeps, mediaId: string) {
  const media = await requireMedia(deps.db, mediaId);
  if (media.scope !== 'APPLICATION') throw notFound('Media');
  return media;
}

/** New title and/or new content; the old bytes go once the new ones are committed. */
export async function updateApplicationMedia(
  deps: MediaDeps,
  actor: Actor,
  mediaId: string,
  change: { title?: string | null; file?: IncomingFile | null },
) {
  const before = await requireApplicationMedia(deps, mediaId);
  const bytes = change.file ? await store(deps, before.id, change.file) : null;
  const update = async () =>
    deps.db.transaction(async (tx) => {
      const [row] = await tx
        .update(mediaTable)
        .set({
          ...(change.title !== undefined && { title: change.title }),
          ...(bytes && {
            filename: bytes.filename,
            contentType: bytes.contentType,
            kind: bytes.kind,
            size: bytes.stored.size,
            sha256: bytes.stored.sha256,
            storageKey: bytes.key,
          }),
          modifiedAt: new Date(),
        })
        .where(eq(mediaTable.id, before.id))
        .returning();
      if (!row) throw notFound('Media');
      return (await appendMediaEvent(tx, EventType.APPLICATION_MEDIA_UPDATED, actor, row, { withMedia: true }))!;
    });
  const updated = bytes ? await committing(deps, bytes.key, update) : await update();
  if (bytes && before.storageKey) await deps.storage.delete(before.storageKey);
  return updated;
}

export async function deleteApplicationMedia(deps: MediaDeps, actor: Actor, mediaId: string) {
  const media = await requireApplicationMedia(deps, mediaId);
  const deleted = await deps.db.transaction(async (tx) => {
    const [row] = await tx.delete(mediaTable).where(eq(mediaTable.id, media.id)).returning();
    if (!row) throw notFound('Media');
    await appendMediaEvent(tx, EventType.APPLICATION_MEDIA_DELETED, actor, row, { withMedia: false });
    return row;
  });
  if (deleted.storageKey) await deps.storage.delete(deleted.storageKey);
  return deleted.id;
}
