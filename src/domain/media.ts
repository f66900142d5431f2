// Media (SPEC 4): shared parts and session media. Bytes stream to blob storage outside any
// transaction; every row change commits together with its event. Application media is in
// media-application.ts, annotations, archive and delete in media-lifecycle.ts.
//
// A failed or aborted session upload deletes its UPLOADING row (and emits
// SESSION_MEDIA_DELETED, so whoever saw SESSION_MEDIA_CREATED learns it is gone); the
// storage driver already removed the partial bytes. A row can only stay UPLOADING if the
// process dies mid-upload; its partial bytes then sit in the storage's temporary area only.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { and, eq, isNull } from 'drizzle-orm';
import type { Database, Executor } from '../db/client.ts';
import { annotationTable, mediaTable, sessionTable } from '../db/schema.ts';
import { appendEvents, EventType, type Actor } from '../events/log.ts';
import { ObjectTooLargeError, type BlobStorage } from '../storage/types.ts';
import { isUuid } from './ids.ts';
import { badInput, DomainError, ErrorCode, notFound, sessionClosed } from './errors.ts';
import { inspectFile, type InspectedFile } from './media-content.ts';

export type MediaRow = typeof mediaTable.$inferSelect;
export type AnnotationRow = typeof annotationTable.$inferSelect;
export type MediaWithAnnotations = MediaRow & { annotations: AnnotationRow[] };
export type MediaSource = MediaRow['source'];

export interface MediaDeps {
  db: Database;
  storage: BlobStorage;
  maxUploadBytes: number;
  maxAnnotationBytes: number;
  /** MAX_LABELS_PER_MEDIA. */
  maxLabels?: number;
}

export interface IncomingFile {
  filename: string;
  contentType: string | null;
  stream: Readable;
}

export interface SessionMediaInput {
  title?: string | null;
  labels?: string[] | null;
  properties?: Record<string, string> | null;
  source?: MediaSource | null;
  roomId?: string | null;
  wasRemotelyRequested?: boolean | null;
}

export async function findMedia(db: Executor, mediaId: string, options: { archived?: boolean } = {}) {
  if (!isUuid(mediaId)) return null;
  const media = await db.query.mediaTable.findFirst({
    where: { id: mediaId, ...(options.archived ? {} : { archivedAt: { isNull: true } }) },
    with: { annotations: { orderBy: { createdAt: 'asc' } } },
  });
  return media ?? null;
}

/** The media, NOT_FOUND when missing (or archived, unless `archived`). */
export async function requireMedia(db: Executor, mediaId: string, options: { archived?: boolean } = {}) {
  const media = await findMedia(db, mediaId, options);
  if (!media) throw notFound('Media');
  return media;
}

export async function sessionOf(db: Executor, media: Pick<MediaRow, 'sessionId'>) {
  if (!media.sessionId) return null;
  const [session] = await db.select().from(sessionTable).where(eq(sessionTable.id, media.sessionId));
  return session ?? null;
}

/**
 * The media's session, share-locked for the rest of the transaction: a media write and the
 * close of its session never interleave (closing takes the row lock for update).
 */
export async function lockSessionShared(db: Executor, applicationId: string, sessionId: string) {
  const [session] = isUuid(sessionId)
    ? await db
        .select()
        .from(sessionTable)
        .where(and(eq(sessionTable.id, sessionId), eq(sessionTable.applicationId, applicationId)))
        .for('share')
    : [];
  if (!session) throw notFound('Session');
  return session;
}

/** A session change needs an open session (SPEC 3: a closed session rejects every change). */
export async function requireOpenSession(db: Executor, applicationId: string, sessionId: string) {
  const session = await lockSessionShared(db, applicationId, sessionId);
  if (session.status === 'CLOSED') throw sessionClosed();
  return session;
}

/** Storage errors in the spec's terms: too large is PAYLOAD_TOO_LARGE; the rest as they are. */
export function storageError(error: unknown, field: string): unknown {
  if (error instanceof ObjectTooLargeError) {
    return new DomainError(ErrorCode.PAYLOAD_TOO_LARGE, `A file is at most ${error.maxBytes} bytes`, { field });
  }
  return error;
}

export function newStorageKey(mediaId: string): string {
  return `${mediaId}/${randomUUID()}`;
}

export function cleanFilename(filename: string | null | undefined): string {
  // eslint-disable-next-line no-control-regex
  const name = (filename ?? '').replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim();
  return name.slice(-255) || 'file';
}

export const MAX_LABEL_LENGTH = 200;

function checkStrings(values: unknown[] | null | undefined, field: string, maxCount = 100): string[] | undefined {
  if (values == null) return undefined;
  if (values.length > maxCount) throw badInput(field, `A media item has at most ${maxCount} labels`);
  const strings = values.map((value) => String(value).trim());
  if (strings.some((value) => value === '' || value.length > MAX_LABEL_LENGTH)) throw badInput(field, `Labels are 1 to ${MAX_LABEL_LENGTH} characters`);
  return [...new Set(strings)];
}

function sourceFacts(file: IncomingFile, input: SessionMediaInput) {
  const source = input.source ?? 'UPLOAD';
  const properties: Record<string, string> = { ...(input.properties ?? {}) };
  let filename = cleanFilename(file.filename);
  if (source === 'SNAPSHOT' || source === 'SHARED') {
    if (!input.roomId) throw badInput('input.roomId', `${source} media needs the call's roomId`);
    properties.roomId = input.roomId;
  }
  if (source === 'SNAPSHOT') {
    if (!filename.startsWith('LiveSnapshot')) filename = `LiveSnapshot_${filename}`;
    properties.wasRemotelyRequested = String(input.wasRemotelyRequested ?? false);
  }
  if (source === 'SHARED') properties.sharedMedia = 'true';
  return { source, properties, filename };
}

function eventOf(type: EventType, actor: Actor, media: MediaRow, version: number | null, payload: unknown, annotationId?: string) {
  return {
    type,
    applicationId: media.applicationId,
    sessionId: media.sessionId,
    mediaId: media.id,
    annotationId: annotationId ?? null,
    userId: actor.userId,
    timestamp: actor.clientTimestamp ?? null,
    version,
    payload,
  };
}

/**
 * Writes the event of a change to `media`. Events carry no copy of the media (readers resolve
 * it as it is now, so nothing of purged or archived media lingers in the log); `withMedia`
 * answers the media as it now is, for the mutation's result.
 */
export async function appendMediaEvent(
  tx: Executor,
  type: EventType,
  actor: Actor,
  media: MediaRow,
  options: { withMedia: boolean; annotationId?: string },
) {
  const version = media.sessionId ? ((await sessionOf(tx, media))?.version ?? null) : null;
  const current = options.withMedia ? await requireMedia(tx, media.id, { archived: true }) : null;
  await appendEvents(tx, [eventOf(type, actor, media, version, null, options.annotationId)]);
  return current;
}

export async function uploadSessionMedia(
  deps: MediaDeps,
  actor: Actor,
  place: { applicationId: string; sessionId: string },
  file: IncomingFile,
  input: SessionMediaInput = {},
) {
  const labels = checkStrings(input.labels, 'input.labels', deps.maxLabels) ?? [];
  const facts = sourceFacts(file, input);
  await requireOpenSession(deps.db, place.applicationId, place.sessionId);
  const inspected: InspectedFile = await inspectFile(file.stream, file.contentType);
  const id = randomUUID();
  const created = await deps.db.transaction(async (tx) => {
    await requireOpenSession(tx, place.applicationId, place.sessionId);
    const [row] = await tx
      .insert(mediaTable)
      .values({
        id,
        scope: 'SESSION',
        applicationId: place.applicationId,
        sessionId: place.sessionId,
        filename: facts.filename,
        contentType: inspected.contentType,
        kind: inspected.kind,
        status: 'UPLOADING',
        source: facts.source,
        title: input.title ?? null,
        labels,
        properties: facts.properties,
        createdBy: actor.userId,
      })
      .returning();
    await appendMediaEvent(tx, EventType.SESSION_MEDIA_CREATED, actor, row!, { withMedia: true });
    return row!;
  });
  const key = newStorageKey(id);
  let stored;
  try {
    stored = await deps.storage.put(key, inspected.stream, { maxBytes: deps.maxUploadBytes, contentType: inspected.contentType });
  } catch (error) {
    await discardUpload(deps.db, actor, created);
    throw storageError(error, 'file');
  }
  try {
    return await deps.db.transaction(async (tx) => {
      // The session may have been closed while the bytes arrived: then the upload fails.
      await requireOpenSession(tx, place.applicationId, place.sessionId);
      const [ready] = await tx
        .update(mediaTable)
        .set({ status: 'READY', size: stored.size, sha256: stored.sha256, storageKey: key, modifiedAt: new Date() })
        .where(and(eq(mediaTable.id, id), eq(mediaTable.status, 'UPLOADING')))
        .returning();
      if (!ready) throw notFound('Media');
      return (await appendMediaEvent(tx, EventType.SESSION_MEDIA_UPDATED, actor, ready, { withMedia: true }))!;
    });
  } catch (error) {
    await deps.storage.delete(key);
    await discardUpload(deps.db, actor, created);
    throw error;
  }
}

/** Removes the row of an upload that did not complete, with its event. */
async function discardUpload(db: Database, actor: Actor, media: MediaRow) {
  await db.transaction(async (tx) => {
    const [deleted] = await tx
      .delete(mediaTable)
      .where(and(eq(mediaTable.id, media.id), eq(mediaTable.status, 'UPLOADING')))
      .returning();
    if (deleted) await appendMediaEvent(tx, EventType.SESSION_MEDIA_DELETED, actor, deleted, { withMedia: false });
  });
}

export interface UpdateSessionMediaInput {
  title?: string | null;
  labels?: string[] | null;
  properties?: Record<string, string> | null;
}

/** Changes title, labels and/or properties (each replaced when given). */
export async function updateSessionMedia(db: Database, actor: Actor, mediaId: string, input: UpdateSessionMediaInput, maxLabels = 100) {
  const labels = checkStrings(input.labels, 'input.labels', maxLabels);
  return db.transaction(async (tx) => {
    const media = await requireMedia(tx, mediaId);
    if (media.scope !== 'SESSION') throw notFound('Media');
    await requireOpenSession(tx, media.applicationId, media.sessionId!);
    const [updated] = await tx
      .update(mediaTable)
      .set({
        ...(input.title !== undefined && { title: input.title }),
        ...(labels && { labels }),
        ...(input.properties != null && { properties: input.properties }),
        modifiedAt: new Date(),
      })
      .where(and(eq(mediaTable.id, media.id), isNull(mediaTable.archivedAt)))
      .returning();
    return (await appendMediaEvent(tx, EventType.SESSION_MEDIA_UPDATED, actor, updated!, { withMedia: true }))!;
  });
}
