// The event log: every change writes its event rows in its own transaction.
//
// Gap-free cursors. A reader that has seen position N must never later find a committed
// event below N. Sequences alone do not give that: two transactions draw 5 and 6, 6 commits
// first, a reader sees 6 and moves past 5 for good (the Hasura streaming failure). Here the
// position is drawn while holding a transaction-scoped advisory lock (one per database) that
// is released only after commit, so positions become visible in exactly increasing order: a
// reader that sees N has already been able to see everything below N. The lock is taken as
// the last step of a transaction (appendEvents is called after the change itself), so the
// serialised section is one insert and the commit. Aborted transactions leave holes in the
// numbering, never gaps in what a reader sees. The same transaction NOTIFYs `skylight_events`,
// which PostgreSQL delivers only on commit, to wake live readers.
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { eventTable } from '../db/schema.ts';
import { isEventType, type EventType } from './event-types.ts';

/** A constant key for pg_advisory_xact_lock: 'skye' as int. */
const EVENT_SEQUENCER_LOCK = 0x736b7965;
export const EVENTS_CHANNEL = 'skylight_events';

export { EVENT_TYPES, EventType } from './event-types.ts';

export type EventRow = typeof eventTable.$inferSelect;

export interface NewEvent {
  type: EventType;
  applicationId: string;
  sessionId?: string | null;
  mediaId?: string | null;
  annotationId?: string | null;
  source?: string;
  userId: string | null;
  /** Client time; server time when absent. */
  timestamp?: Date | null;
  version?: number | null;
  payload?: unknown;
}

/** Who acts and when, as every domain change needs it for its event. */
export interface Actor {
  userId: string;
  clientTimestamp?: Date | null;
}

/** Appends events in the caller's transaction. Call it last in that transaction. */
export async function appendEvents(tx: Executor, events: NewEvent[]): Promise<EventRow[]> {
  if (events.length === 0) return [];
  for (const event of events) if (!isEventType(event.type)) throw new Error(`Unknown event type ${event.type}`);
  await tx.execute(sql`select pg_advisory_xact_lock(${EVENT_SEQUENCER_LOCK})`);
  const rows = await tx
    .insert(eventTable)
    .values(
      events.map((event) => ({
        type: event.type,
        applicationId: event.applicationId,
        sessionId: event.sessionId ?? null,
        mediaId: event.mediaId ?? null,
        annotationId: event.annotationId ?? null,
        source: event.source ?? 'skylight',
        userId: event.userId,
        // Server time: the same transaction clock as createdAt.
        timestamp: event.timestamp ?? sql`now()`,
        version: event.version ?? null,
        payload: event.payload ?? null,
      })),
    )
    .returning();
  await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${String(rows[rows.length - 1]!.position)})`);
  return rows;
}

/** Cursors are opaque to clients: base64url of `event:<position>`. */
export function encodeEventCursor(position: number): string {
  return Buffer.from(`event:${position}`).toString('base64url');
}

/** The position in a cursor, or null when the cursor is malformed. */
export function decodeEventCursor(cursor: string): number | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^event:(\d{1,15})$/.exec(text);
  return match ? Number(match[1]) : null;
}
