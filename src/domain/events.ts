// Reading the event log: pages of stored history in cursor order, only what the viewer may
// read (`rules.eventReadable`, the same rule live delivery decides in memory).
import { and, asc, desc, eq, getColumns, gt, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { Principal } from '../access/principal.ts';
import { rules } from '../access/rules.ts';
import type { Executor } from '../db/client.ts';
import { eventTable } from '../db/schema.ts';
import { decodeEventCursor, type EventRow, type EventType } from '../events/log.ts';
import { badInput } from './errors.ts';

/** The last position of the event log (0 when empty). */
export async function lastPosition(db: Executor): Promise<number> {
  const [row] = await db.select({ last: sql<number>`coalesce(max(${eventTable.position}), 0)`.mapWith(Number) }).from(eventTable);
  return row?.last ?? 0;
}

/**
 * The position a client cursor stands for. Malformed cursors, and cursors past the end of the
 * log (no event ever had that position), are BAD_USER_INPUT. Positions up to `knownLast` are
 * known to exist without asking the database.
 */
export async function cursorPosition(db: Executor, cursor: string, field = 'after', knownLast = 0): Promise<number> {
  const position = decodeEventCursor(cursor);
  if (position === null) throw badInput(field, 'Malformed cursor');
  if (position > knownLast && position > (await lastPosition(db))) throw badInput(field, 'Unknown cursor');
  return position;
}

/** Like `cursorPosition`, with no cursor (or an empty one) meaning the start of the log. */
export async function positionAfter(db: Executor, cursor: string | null | undefined, field = 'after'): Promise<number> {
  return cursor == null || cursor === '' ? 0 : cursorPosition(db, cursor, field);
}

/**
 * The positions of a page's `after` and `before` cursors (absent: the start of the log, no
 * upper bound), each BAD_USER_INPUT naming its argument when malformed or past the end of the
 * log; checked against the end of the log in at most one statement whatever is given.
 */
export async function pageBounds(
  db: Executor,
  after: string | null | undefined,
  before: string | null | undefined,
): Promise<{ afterPosition: number; beforePosition: number | null }> {
  const decode = (cursor: string | null | undefined, field: string) => {
    if (cursor == null || cursor === '') return null;
    const position = decodeEventCursor(cursor);
    if (position === null) throw badInput(field, 'Malformed cursor');
    return position;
  };
  const afterPosition = decode(after, 'after');
  const beforePosition = decode(before, 'before');
  const highest = Math.max(afterPosition ?? 0, beforePosition ?? 0);
  if (highest > 0 && highest > (await lastPosition(db))) {
    throw badInput(highest === afterPosition ? 'after' : 'before', 'Unknown cursor');
  }
  return { afterPosition: afterPosition ?? 0, beforePosition };
}

/** SQL condition on the event log: the events the principal may read. */
export function eventReadable(principal: Principal): SQL {
  return rules.eventReadable.sql(principal, eventTable);
}

export interface EventPageQuery {
  applicationId: string;
  sessionId?: string | null;
  types?: readonly EventType[] | null;
  afterPosition: number;
  /** Only events before this position (null: no bound). */
  beforePosition?: number | null;
  /** `last`: the newest `limit` events of the range, newest first (the caller turns them around). */
  fromEnd?: boolean;
  /** Rows to read; the caller asks one more than it shows to know whether more follow. */
  limit: number;
  readable: SQL;
}

function rangeConditions(query: Pick<EventPageQuery, 'afterPosition' | 'beforePosition' | 'types' | 'readable'>): SQL[] {
  const conditions = [gt(eventTable.position, query.afterPosition), query.readable];
  if (query.beforePosition != null) conditions.push(lt(eventTable.position, query.beforePosition));
  if (query.types?.length) conditions.push(inArray(eventTable.type, [...query.types]));
  return conditions;
}

export async function readEvents(db: Executor, query: EventPageQuery): Promise<EventRow[]> {
  const conditions = [eq(eventTable.applicationId, query.applicationId), ...rangeConditions(query)];
  if (query.sessionId) conditions.push(eq(eventTable.sessionId, query.sessionId));
  return db
    .select()
    .from(eventTable)
    .where(and(...conditions))
    .orderBy(query.fromEnd ? desc(eventTable.position) : asc(eventTable.position))
    .limit(query.limit);
}

/**
 * The first (`fromEnd`: the last, newest first) `limit` readable events of each of many sessions, in one statement (a window over
 * the sessions' events), so a list of sessions with their histories costs a fixed number of
 * statements.
 */
export async function readSessionsEvents(
  db: Executor,
  query: Omit<EventPageQuery, 'sessionId' | 'applicationId'> & { sessionIds: string[] },
): Promise<Map<string, EventRow[]>> {
  const conditions = [inArray(eventTable.sessionId, query.sessionIds), ...rangeConditions(query)];
  const order = query.fromEnd ? sql`desc` : sql`asc`;
  const ranked = db
    .select({
      ...getColumns(eventTable),
      rank: sql<number>`row_number() over (partition by ${eventTable.sessionId} order by ${eventTable.position} ${order})`.as('rank'),
    })
    .from(eventTable)
    .where(and(...conditions))
    .as('ranked');
  const rows = await db
    .select()
    .from(ranked)
    .where(lte(ranked.rank, query.limit))
    .orderBy(query.fromEnd ? desc(ranked.position) : asc(ranked.position));
  const bySession = new Map<string, EventRow[]>();
  for (const { rank: _rank, ...row } of rows) {
    const list = bySession.get(row.sessionId!) ?? [];
    list.push(row as EventRow);
    bySession.set(row.sessionId!, list);
  }
  return bySession;
}
