// The deliverer's statements. Ownership of an endpoint is a row lease: `lease_token` names the
// holder's claim, and every write of a holder is conditioned on its token, so a holder that
// lost its lease (it stalled past `lease_expires_at` and another instance claimed the row)
// changes nothing. Claims use FOR UPDATE SKIP LOCKED, so instances claiming at once never
// get the same endpoint. An attempt's log row and its effect on the endpoint are one statement.
import { and, asc, eq, getColumns, gt, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { eventTable, webhookDeliveryTable, webhookTable } from '../db/schema.ts';
import type { EventRow } from '../events/log.ts';

export type WebhookRow = typeof webhookTable.$inferSelect;
export type DeliveryRow = typeof webhookDeliveryTable.$inferSelect;
export type NewDelivery = typeof webhookDeliveryTable.$inferInsert;
export type PauseReason = NonNullable<WebhookRow['pauseReason']>;

const inMs = (ms: number) => sql`now() + make_interval(secs => ${ms / 1000})`;

/** Not held by anyone: released, or its holder's lease ran out. */
const leaseFree = () => or(isNull(webhookTable.leaseToken), lte(webhookTable.leaseExpiresAt, sql`now()`))!;

/** Events after the endpoint's cursor that its filter takes (the owner's access is applied when reading). */
const hasWork = () => sql`exists (select 1 from ${eventTable} e
  where e.application_id = ${webhookTable.applicationId} and e.position > ${webhookTable.position}
    and (${webhookTable.types} is null or e.type = any(${webhookTable.types}))
    and (${webhookTable.sessionId} is null or e.session_id = ${webhookTable.sessionId}))`;

/** An endpoint as stored, and the end of the event log when it was read. */
export interface Held {
  row: WebhookRow;
  head: number;
}

/**
 * The row and, in the same statement, the end of the log: positions become visible in order
 * (src/events/log.ts), so a later read of `position <= head` misses nothing up to it.
 */
const withHead = { ...getColumns(webhookTable), head: sql<number>`(select coalesce(max(${eventTable.position}), 0) from ${eventTable})`.mapWith(Number) };

function held({ head, ...row }: WebhookRow & { head: number }): Held {
  return { row, head };
}

/**
 * Leases up to `limit` active endpoints that have work and no live holder, and are not waiting
 * out a back-off; least recently served first. One statement.
 */
export async function claimDue(db: Database, owner: string, token: string, leaseMs: number, limit: number): Promise<Held[]> {
  const due = db
    .select({ id: webhookTable.id })
    .from(webhookTable)
    .where(
      and(
        eq(webhookTable.status, 'ACTIVE'),
        leaseFree(),
        or(isNull(webhookTable.nextAttemptAt), lte(webhookTable.nextAttemptAt, sql`now()`)),
        hasWork(),
      ),
    )
    .orderBy(sql`${webhookTable.leaseExpiresAt} asc nulls first`, asc(webhookTable.seq))
    .limit(limit)
    .for('update', { skipLocked: true });
  const claimed = await db
    .update(webhookTable)
    .set({ leaseOwner: owner, leaseToken: token, leaseExpiresAt: inMs(leaseMs) })
    .where(and(inArray(webhookTable.id, due), leaseFree()))
    .returning(withHead);
  return claimed.map(held);
}

/**
 * Extends the lease and stores the cursor the holder reached; answers the endpoint as stored
 * now (paused? changed?) with the end of the log, or null when the lease is lost (or the endpoint gone).
 */
export async function renewLease(db: Database, row: WebhookRow, token: string, leaseMs: number): Promise<Held | null> {
  const [renewed] = await db
    .update(webhookTable)
    .set({ leaseExpiresAt: inMs(leaseMs), position: sql`greatest(${webhookTable.position}, ${row.position})` })
    .where(and(eq(webhookTable.id, row.id), eq(webhookTable.leaseToken, token)))
    .returning(withHead);
  return renewed ? held(renewed) : null;
}

/**
 * The next events for the endpoint, in position order: after its cursor and up to `head`,
 * taken by its filter and readable under `readable` (the owner's access, src/domain/events.ts),
 * at most `limit`. A short page means every event up to `head` has been considered.
 */
export async function readBatch(db: Database, row: WebhookRow, readable: SQL, limit: number, head: number): Promise<EventRow[]> {
  if (head <= row.position) return [];
  const conditions = [
    eq(eventTable.applicationId, row.applicationId),
    gt(eventTable.position, row.position),
    lte(eventTable.position, head),
    readable,
  ];
  if (row.types?.length) conditions.push(inArray(eventTable.type, row.types));
  if (row.sessionId) conditions.push(eq(eventTable.sessionId, row.sessionId));
  return db
    .select()
    .from(eventTable)
    .where(and(...conditions))
    .orderBy(asc(eventTable.position))
    .limit(limit);
}

/** Logs an attempt and applies `change` to the endpoint, if `token` still holds it. One statement. */
async function logAndUpdate(
  db: Database,
  webhookId: string,
  token: string,
  attempt: NewDelivery,
  change: Partial<Record<keyof WebhookRow, unknown>>,
): Promise<WebhookRow | null> {
  const log = db
    .$with('log', { id: sql<string>`id` })
    .as(db.insert(webhookDeliveryTable).values(attempt).returning({ id: webhookDeliveryTable.id }).getSQL());
  const [updated] = await db
    .with(log)
    .update(webhookTable)
    .set(change as never)
    .where(and(eq(webhookTable.id, webhookId), eq(webhookTable.leaseToken, token)))
    .returning();
  return updated ?? null;
}

/** A 2xx: the cursor moves past the event, the back-off resets and the lease is extended. */
export function recordDelivered(db: Database, row: WebhookRow, token: string, attempt: NewDelivery, leaseMs: number) {
  return logAndUpdate(db, row.id, token, attempt, {
    position: sql`greatest(${webhookTable.position}, ${attempt.eventPosition})`,
    attempts: 0,
    nextAttemptAt: null,
    leaseExpiresAt: inMs(leaseMs),
  });
}

/**
 * A failure: either the next attempt waits `retryInMs` (the lease is given up meanwhile, so
 * any instance may make it), or, after the last one, the endpoint is paused with the reason.
 */
export function recordFailed(
  db: Database,
  row: WebhookRow,
  token: string,
  attempt: NewDelivery,
  outcome: { retryInMs: number } | { pauseMessage: string },
) {
  const release = { leaseToken: null, leaseOwner: null, leaseExpiresAt: sql`now()` };
  if ('retryInMs' in outcome) {
    return logAndUpdate(db, row.id, token, attempt, { attempts: attempt.attempt, nextAttemptAt: inMs(outcome.retryInMs), ...release });
  }
  return logAndUpdate(db, row.id, token, attempt, {
    attempts: attempt.attempt,
    nextAttemptAt: null,
    ...pausing('DELIVERY_FAILED', outcome.pauseMessage),
    ...release,
  });
}

function pausing(reason: PauseReason, message: string) {
  return {
    status: 'PAUSED' as const,
    pauseReason: reason,
    pauseMessage: message,
    pausedAt: sql`now()`,
    revision: sql`${webhookTable.revision} + 1`,
  };
}

/**
 * Gives the endpoint up with its cursor at `position`, unless events it takes arrived after
 * `position` meanwhile (then the holder keeps it and reads on). True when released.
 */
export async function releaseIfIdle(db: Database, row: WebhookRow, token: string, position: number): Promise<boolean> {
  const released = await db
    .update(webhookTable)
    .set({ position: sql`greatest(${webhookTable.position}, ${position})`, leaseToken: null, leaseOwner: null, leaseExpiresAt: sql`now()` })
    .where(
      and(
        eq(webhookTable.id, row.id),
        eq(webhookTable.leaseToken, token),
        sql`not exists (select 1 from ${eventTable} e
          where e.application_id = ${webhookTable.applicationId} and e.position > ${position}
            and (${webhookTable.types} is null or e.type = any(${webhookTable.types}))
            and (${webhookTable.sessionId} is null or e.session_id = ${webhookTable.sessionId}))`,
      ),
    )
    .returning({ id: webhookTable.id });
  return released.length > 0;
}

/** Gives the endpoint up (shutdown, an error), keeping the cursor reached. */
export async function release(db: Database, row: WebhookRow, token: string): Promise<void> {
  await db
    .update(webhookTable)
    .set({ position: sql`greatest(${webhookTable.position}, ${row.position})`, leaseToken: null, leaseOwner: null, leaseExpiresAt: sql`now()` })
    .where(and(eq(webhookTable.id, row.id), eq(webhookTable.leaseToken, token)));
}

/** Pauses the endpoint for a reason found by its holder (owner lost access, secret unreadable) and releases it. */
export async function pauseHeld(db: Database, row: WebhookRow, token: string, reason: PauseReason, message: string): Promise<void> {
  await db
    .update(webhookTable)
    .set({ ...pausing(reason, message), position: sql`greatest(${webhookTable.position}, ${row.position})`, leaseToken: null, leaseOwner: null, leaseExpiresAt: sql`now()` })
    .where(and(eq(webhookTable.id, row.id), eq(webhookTable.leaseToken, token), eq(webhookTable.status, 'ACTIVE')));
}

/** Logs a redelivery (it moves no cursor). */
export async function insertDelivery(db: Database, attempt: NewDelivery): Promise<DeliveryRow> {
  const [row] = await db.insert(webhookDeliveryTable).values(attempt).returning();
  return row!;
}

/** Deletes delivery log rows older than `days`, oldest first, at most `limit` of them. */
export async function pruneDeliveries(db: Database, days: number, limit: number): Promise<number> {
  const oldest = db
    .select({ seq: webhookDeliveryTable.seq })
    .from(webhookDeliveryTable)
    .orderBy(asc(webhookDeliveryTable.seq))
    .limit(limit);
  const deleted = await db
    .delete(webhookDeliveryTable)
    .where(and(inArray(webhookDeliveryTable.seq, oldest), sql`${webhookDeliveryTable.createdAt} < now() - make_interval(days => ${days})`))
    .returning({ id: webhookDeliveryTable.id });
  return deleted.length;
}
