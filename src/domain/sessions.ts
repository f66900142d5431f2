// Sessions (SPEC 3): create, patch, data merge patches, participants, close, custom events.
// Every change is one transaction that locks the session row, checks it is open, changes it
// and appends its events last (src/events/log.ts), so nothing commits without its event.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/client.ts';
import { applicationTable, groupTable, sessionParticipantTable, sessionTable, userTable } from '../db/schema.ts';
import { appendEvents, EventType, type Actor, type EventRow, type NewEvent } from '../events/log.ts';
import { isUuid } from './ids.ts';
import type { ParticipantRef } from './applications.ts';
import { badInput, notFound, sessionClosed } from './errors.ts';

export type SessionRow = typeof sessionTable.$inferSelect;

/** A session as events carry it: the row and its participants right after the change. */
export interface SessionSnapshot extends SessionRow {
  participants: { participantId: string; participantType: 'USER' | 'GROUP' }[];
}

export interface SessionKey {
  applicationId: string;
  sessionId: string;
}

export interface CreateSessionInput {
  applicationId: string;
  name: string;
  description?: string | null;
  properties?: Record<string, string> | null;
  version?: number | null;
}

export interface SessionPatch {
  name?: string | null;
  description?: string | null;
  properties?: Record<string, string> | null;
  status?: 'OPEN' | 'CLOSED' | null;
}

function requireName(name: string, field: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw badInput(field, 'A session needs a name');
  return trimmed;
}

function requireStringMap(value: Record<string, string>, field: string): Record<string, string> {
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw badInput(field, `Property "${key}" must be a string`);
  }
  return value;
}

/** The participants of each session, in the order they joined. */
export async function loadParticipants(db: Executor, sessionIds: string[]): Promise<Map<string, SessionSnapshot['participants']>> {
  const rows = await db
    .select({
      sessionId: sessionParticipantTable.sessionId,
      participantId: sessionParticipantTable.participantId,
      participantType: sessionParticipantTable.participantType,
    })
    .from(sessionParticipantTable)
    .where(inArray(sessionParticipantTable.sessionId, sessionIds))
    .orderBy(sessionParticipantTable.createdAt, sessionParticipantTable.participantId);
  const bySession = new Map<string, SessionSnapshot['participants']>();
  for (const { sessionId, ...participant } of rows) {
    const list = bySession.get(sessionId) ?? [];
    list.push(participant);
    bySession.set(sessionId, list);
  }
  return bySession;
}

async function snapshot(tx: Executor, session: SessionRow): Promise<SessionSnapshot> {
  const participants = (await loadParticipants(tx, [session.id])).get(session.id) ?? [];
  return { ...session, participants };
}

function sessionEvent(type: EventType, actor: Actor, session: SessionRow, payload: unknown): NewEvent {
  return {
    type,
    applicationId: session.applicationId,
    sessionId: session.id,
    userId: actor.userId,
    timestamp: actor.clientTimestamp,
    version: session.version,
    payload,
  };
}

/** Locks the session row for the rest of the transaction; refuses closed sessions. */
async function lockOpenSession(tx: Executor, key: SessionKey): Promise<SessionRow> {
  const session = await lockSession(tx, key);
  if (session.status === 'CLOSED') throw sessionClosed();
  return session;
}

async function lockSession(tx: Executor, key: SessionKey): Promise<SessionRow> {
  const [session] =
    isUuid(key.sessionId) && isUuid(key.applicationId)
      ? await tx
          .select()
          .from(sessionTable)
          .where(and(eq(sessionTable.id, key.sessionId), eq(sessionTable.applicationId, key.applicationId)))
          .for('update')
      : [];
  if (!session) throw notFound('Session');
  return session;
}

export async function createSession(db: Database, actor: Actor, input: CreateSessionInput): Promise<SessionRow> {
  const name = requireName(input.name, 'input.name');
  const properties = requireStringMap(input.properties ?? {}, 'input.properties');
  if (input.version != null && input.version < 1) throw badInput('input.version', 'A version is 1 or more');
  return db.transaction(async (tx) => {
    const [application] = await tx.select().from(applicationTable).where(eq(applicationTable.id, input.applicationId));
    if (!application) throw notFound('Application');
    const version = input.version ?? application.publishedVersion ?? application.draftVersion ?? 1;
    const isDraft = application.publishedVersion == null || version > application.publishedVersion;
    const [session] = await tx
      .insert(sessionTable)
      .values({
        applicationId: application.id,
        name,
        description: input.description ?? '',
        properties,
        version,
        isDraft,
        createdBy: actor.userId,
        modifiedBy: actor.userId,
      })
      .returning();
    await tx
      .insert(sessionParticipantTable)
      .values({ sessionId: session!.id, participantType: 'USER', participantId: actor.userId });
    await appendEvents(tx, [
      sessionEvent(EventType.SESSION_CREATED, actor, session!, { session: await snapshot(tx, session!) }),
    ]);
    return session!;
  });
}

/**
 * Changes only the given fields. One event per kind of change: SESSION_UPDATED (name or
 * description), SESSION_PROPERTIES_UPDATED, SESSION_CLOSED. Closing a closed session, or an
 * empty patch, changes nothing and emits nothing.
 */
export async function patchSession(db: Database, actor: Actor, key: SessionKey, patch: SessionPatch): Promise<SessionRow> {
  const name = patch.name != null ? requireName(patch.name, 'patch.name') : undefined;
  const properties = patch.properties != null ? requireStringMap(patch.properties, 'patch.properties') : undefined;
  const description = patch.description ?? undefined;
  return db.transaction(async (tx) => {
    const current = await lockSession(tx, key);
    const detailsChange = name !== undefined || description !== undefined;
    const closing = patch.status === 'CLOSED' && current.status === 'OPEN';
    if (current.status === 'CLOSED') {
      // Only a repeated close is allowed on a closed session, and it is a no-op.
      if (detailsChange || properties !== undefined || patch.status === 'OPEN') throw sessionClosed();
      return current;
    }
    if (!detailsChange && properties === undefined && !closing) return current;
    const [session] = await tx
      .update(sessionTable)
      .set({
        ...(name !== undefined && { name }),
        ...(description !== undefined && { description }),
        ...(properties !== undefined && { properties }),
        ...(closing && { status: 'CLOSED' as const }),
        modifiedBy: actor.userId,
        modifiedAt: sql`now()`,
      })
      .where(eq(sessionTable.id, current.id))
      .returning();
    const payload = { session: await snapshot(tx, session!) };
    const events: NewEvent[] = [];
    if (detailsChange) events.push(sessionEvent(EventType.SESSION_UPDATED, actor, session!, payload));
    if (properties !== undefined) events.push(sessionEvent(EventType.SESSION_PROPERTIES_UPDATED, actor, session!, payload));
    if (closing) events.push(sessionEvent(EventType.SESSION_CLOSED, actor, session!, payload));
    await appendEvents(tx, events);
    return session!;
  });
}

export const closeSession = (db: Database, actor: Actor, key: SessionKey) =>
  patchSession(db, actor, key, { status: 'CLOSED' });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Object keys in a JSON value, counted at every level; stops counting past `limit`. */
export function countJsonKeys(value: unknown, limit: number): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && count <= limit) {
    const next = pending.pop();
    if (Array.isArray(next)) {
      for (const item of next) if (item !== null && typeof item === 'object') pending.push(item);
    } else if (isPlainObject(next)) {
      for (const key in next) {
        count += 1;
        const value = next[key];
        if (value !== null && typeof value === 'object') pending.push(value);
      }
    }
  }
  return count;
}

/**
 * Applies a JSON Merge Patch (RFC 7386) to the session data inside PostgreSQL, on the locked
 * row, so concurrent patches of different keys all survive. Refuses results over `maxBytes`
 * (the transaction rolls back: nothing changes) and patches of more than `maxKeys` object keys
 * at all levels (before the database). Returns the merged data.
 */
export async function patchSessionData(
  db: Database,
  actor: Actor,
  key: SessionKey,
  patch: unknown,
  maxBytes: number,
  maxKeys = 10_000,
): Promise<Record<string, unknown>> {
  if (!isPlainObject(patch)) throw badInput('data', 'Session data patches are JSON objects');
  if (Buffer.byteLength(JSON.stringify(patch)) > maxBytes) {
    throw badInput('data', `Session data is limited to ${maxBytes} bytes`);
  }
  // MAX_PATCH_KEYS: the merge is linear in the patch, and this bounds the patch.
  if (countJsonKeys(patch, maxKeys) > maxKeys) throw badInput('data', `A session data patch has at most ${maxKeys} keys`);
  return db.transaction(async (tx) => {
    const current = await lockOpenSession(tx, key);
    const [row] = await tx
      .update(sessionTable)
      .set({
        data: sql`jsonb_merge_patch(${sessionTable.data}, ${JSON.stringify(patch)}::text::jsonb)`,
        modifiedBy: actor.userId,
        modifiedAt: sql`now()`,
      })
      .where(eq(sessionTable.id, current.id))
      .returning({ data: sessionTable.data, size: sql<number>`octet_length(${sessionTable.data}::text)`.mapWith(Number) });
    if (row!.size > maxBytes) throw badInput('data', `Session data is limited to ${maxBytes} bytes`);
    await appendEvents(tx, [sessionEvent(EventType.SESSION_DATA_UPDATED, actor, current, { data: patch })]);
    return row!.data;
  });
}

export async function sessionData(db: Executor, key: SessionKey): Promise<Record<string, unknown>> {
  const [row] = await db
    .select({ data: sessionTable.data })
    .from(sessionTable)
    .where(and(eq(sessionTable.id, key.sessionId), eq(sessionTable.applicationId, key.applicationId)));
  if (!row) throw notFound('Session');
  return row.data;
}

/** Adds a user or group (which must exist); adding one already there is a no-op without event. */
export async function addSessionParticipant(
  db: Database,
  actor: Actor,
  key: SessionKey,
  participant: ParticipantRef,
): Promise<SessionRow> {
  const table = participant.type === 'GROUP' ? groupTable : userTable;
  return db.transaction(async (tx) => {
    const current = await lockOpenSession(tx, key);
    const [exists] = isUuid(participant.id)
      ? await tx.select({ id: table.id }).from(table).where(eq(table.id, participant.id))
      : [];
    if (!exists) throw notFound(participant.type === 'GROUP' ? 'Group' : 'User');
    const added = await tx
      .insert(sessionParticipantTable)
      .values({ sessionId: current.id, participantType: participant.type, participantId: participant.id })
      .onConflictDoNothing()
      .returning();
    if (added.length === 0) return current;
    const [session] = await tx
      .update(sessionTable)
      .set({ modifiedBy: actor.userId, modifiedAt: sql`now()` })
      .where(eq(sessionTable.id, current.id))
      .returning();
    await appendEvents(tx, [
      sessionEvent(EventType.SESSION_PARTICIPANT_ADDED, actor, session!, { session: await snapshot(tx, session!) }),
    ]);
    return session!;
  });
}

/** A custom event on an open session; `timestamp` (client time) wins over the header. */
export async function createSessionEvent(
  db: Database,
  actor: Actor,
  key: SessionKey,
  data: unknown,
  timestamp?: Date | null,
): Promise<EventRow> {
  if (data === undefined) throw badInput('data', 'A custom event needs data');
  return db.transaction(async (tx) => {
    const session = await lockOpenSession(tx, key);
    const event = sessionEvent(EventType.SESSION_EVENT_CREATED, actor, session, { data });
    const [row] = await appendEvents(tx, [{ ...event, timestamp: timestamp ?? actor.clientTimestamp }]);
    return row!;
  });
}
