// Annotations, archive, unarchive and delete of session media (SPEC 4). Archive keeps row
// and bytes but hides them from every read; delete purges both for good (bytes after the
// commit, so a failed transaction never loses them).
import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { annotationTable, mediaTable } from '../db/schema.ts';
import { EventType, type Actor } from '../events/log.ts';
import type { BlobStorage } from '../storage/types.ts';
import { isUuid } from './ids.ts';
import { badInput, notFound } from './errors.ts';
import { appendMediaEvent, lockSessionShared, requireMedia, requireOpenSession, type MediaDeps } from './media.ts';
import { sanitizeSvg } from './svg.ts';

export async function addMediaAnnotation(deps: Pick<MediaDeps, 'db' | 'maxAnnotationBytes'>, actor: Actor, mediaId: string, svg: string) {
  const clean = sanitizeSvg(svg, deps.maxAnnotationBytes);
  return deps.db.transaction(async (tx) => {
    const media = await requireMedia(tx, mediaId);
    if (media.scope !== 'SESSION') throw notFound('Media');
    if (media.kind !== 'PHOTO') throw badInput('mediaId', 'Annotations go on photos only');
    await requireOpenSession(tx, media.applicationId, media.sessionId!);
    const [annotation] = await tx.insert(annotationTable).values({ mediaId: media.id, svg: clean, createdBy: actor.userId }).returning();
    await tx.update(mediaTable).set({ modifiedAt: new Date() }).where(eq(mediaTable.id, media.id));
    await appendMediaEvent(tx, EventType.SESSION_MEDIA_ANNOTATION_CREATED, actor, media, {
      withMedia: true,
      annotationId: annotation!.id,
    });
    return annotation!;
  });
}

export async function deleteMediaAnnotation(db: Database, actor: Actor, mediaId: string, annotationId: string) {
  return db.transaction(async (tx) => {
    const media = await requireMedia(tx, mediaId);
    if (media.scope !== 'SESSION') throw notFound('Media');
    await requireOpenSession(tx, media.applicationId, media.sessionId!);
    const [deleted] = isUuid(annotationId)
      ? await tx
          .delete(annotationTable)
          .where(and(eq(annotationTable.id, annotationId), eq(annotationTable.mediaId, media.id)))
          .returning()
      : [];
    if (!deleted) throw notFound('Annotation');
    await tx.update(mediaTable).set({ modifiedAt: new Date() }).where(eq(mediaTable.id, media.id));
    await appendMediaEvent(tx, EventType.SESSION_MEDIA_ANNOTATION_DELETED, actor, media, { withMedia: true, annotationId });
    return deleted.id;
  });
}

export async function archiveMedia(db: Database, actor: Actor, mediaId: string) {
  return db.transaction(async (tx) => {
    const media = await requireMedia(tx, mediaId);
    if (media.scope !== 'SESSION') throw notFound('Media');
    await lockSessionShared(tx, media.applicationId, media.sessionId!);
    const [archived] = await tx
      .update(mediaTable)
      .set({ archivedAt: new Date() })
      .where(and(eq(mediaTable.id, media.id), isNull(mediaTable.archivedAt)))
      .returning();
    if (!archived) throw notFound('Media');
    await appendMediaEvent(tx, EventType.SESSION_MEDIA_ARCHIVED, actor, archived, { withMedia: false });
    return archived.id;
  });
}

export async function unarchiveMedia(db: Database, actor: Actor, mediaId: string) {
  return db.transaction(async (tx) => {
    const media = await requireMedia(tx, mediaId, { archived: true });
    if (media.scope !== 'SESSION' || !media.archivedAt) throw notFound('Media');
    await lockSessionShared(tx, media.applicationId, media.sessionId!);
    const [restored] = await tx
      .update(mediaTable)
      .set({ archivedAt: null })
      .where(and(eq(mediaTable.id, media.id), isNotNull(mediaTable.archivedAt)))
      .returning();
    if (!restored) throw notFound('Media');
    return (await appendMediaEvent(tx, EventType.SESSION_MEDIA_UNARCHIVED, actor, restored, { withMedia: true }))!;
  });
}

/** Deletes row and bytes; archived media can be deleted too (a purge after export). */
export async function deleteMedia(deps: { db: Database; storage: BlobStorage }, actor: Actor, mediaId: string) {
  const deleted = await deps.db.transaction(async (tx) => {
    const media = await requireMedia(tx, mediaId, { archived: true });
    if (media.scope !== 'SESSION') throw notFound('Media');
    await lockSessionShared(tx, media.applicationId, media.sessionId!);
    const [row] = await tx.delete(mediaTable).where(eq(mediaTable.id, media.id)).returning();
    if (!row) throw notFound('Media');
    await appendMediaEvent(tx, EventType.SESSION_MEDIA_DELETED, actor, row, { withMedia: false });
    return row;
  });
  if (deleted.storageKey) await deps.storage.delete(deleted.storageKey);
  return deleted.id;
}
