// Live fan-out of the event log to the subscribers of this gateway instance.
//
// One reader per instance. A wake-up (PostgreSQL NOTIFY on one dedicated LISTEN connection,
// or Redis pub/sub when REDIS_URL is set; see wake.ts) only says "read now". The hub then
// reads the log once, `position > head` in position order, and hands each event to every
// local subscriber whose filter matches and who may read it now (`rules.eventReadable` of
// src/access/rules.ts, decided from the subscriber's current principal and the session's facts;
// both loaded in at most two statements per batch, never per subscriber). Because
// appendEvents makes positions visible in commit order (log.ts), reading `position > head`
// never skips an event that commits later. Wake-ups may be lost (listener dropped, Redis
// down): every (re)connect of the wake source triggers a read, a slow safety poll
// (`pollIntervalMs`) catches anything else, so at worst an event is late, never lost.
//
// Replay, then live, without gap or duplicate. A subscriber registers synchronously, noting
// the head H at that instant; every event the hub dispatches afterwards has position > H and
// is parked in its `pending` list while it replays. Replay pages are read from the database
// after registration, so together they cover everything up to at least H; when a short page
// ends the replay, pending events at or below the last replayed position are dropped and the
// rest follow in order. Without `after`, a subscriber starts live at H.
//
// Roles, groups, users and tokens change without events: the instance that changed them
// broadcasts `access` on the same channel and every instance's AccessRegistry drops what it
// knew and re-checks its live streams (src/access/registry.ts).
//
// With Redis, PostgreSQL's NOTIFY is not listened to: the instance that committed publishes
// after commit (`committed()`, called by the GraphQL layer once a mutation has finished, i.e.
// after its transaction committed). Writers outside GraphQL are caught by the safety poll.
//
// Each subscriber's buffer is bounded (`bufferSize`); a subscriber that falls further behind
// gets a RATE_LIMITED error (with `resumeAfter`, its last delivered cursor) and its stream ends.
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import type { Principal } from '../access/principal.ts';
import type { AccessRegistry, Credential } from '../access/registry.ts';
import { rules, type SessionFacts } from '../access/rules.ts';
import type { Database, DatabaseHandle } from '../db/client.ts';
import { eventTable } from '../db/schema.ts';
import { DomainError, ErrorCode } from '../domain/errors.ts';
import { cursorPosition, lastPosition } from '../domain/events.ts';
import { rowsOf } from '../domain/rows.ts';
import type { GatewayMetrics } from '../http/observability.ts';
import { backgroundDatabase } from './background-db.ts';
import { SESSION_ACCESS_EVENT_TYPES } from './event-types.ts';
import { SessionFactsCache } from './session-facts-cache.ts';
import type { EventRow, EventType } from './log.ts';
import { EventSubscription, type EventFilter, type StreamSource } from './subscription.ts';
import { LISTENER_APPLICATION_NAME, PgliteWake, PostgresWake, RedisWake, type WakeSource } from './wake.ts';

export interface EventHubOptions {
  database: DatabaseHandle;
  /** Principals of the subscribers, the access signal and the re-check of streams. */
  access: AccessRegistry;
  logger: Logger;
  metrics?: GatewayMetrics;
  redisUrl?: string | null;
  /** Events a subscriber may have buffered before its stream ends with RATE_LIMITED. */
  bufferSize?: number;
  /** Safety poll of the log, in case a wake-up was lost. */
  pollIntervalMs?: number;
  /** How often the LISTEN connection is checked; a half-open one is replaced within this plus 5 s (a closed one at once). */
  heartbeatMs?: number;
  /** How long session facts (status, participants) are trusted without an event saying otherwise. */
  accessTtlMs?: number;
  /** Where the LISTEN connection goes (its options are copied); the database's own pool by default. */
  listenVia?: postgres.Sql | null;
  /** Called after each batch of new events is dispatched (webhook delivery wakes on it). */
  onRead?: (events: readonly EventRow[]) => void;
}

export interface SubscribeInput {
  viewer: Principal;
  /** Guard the stream with this credential (SSE); over graphql-ws the socket guards it. */
  guard?: Credential | null;
  applicationId: string;
  sessionId?: string | null;
  types?: readonly EventType[] | null;
  /** A cursor: replay every stored event after it first. */
  after?: string | null;
}

const READ_BATCH = 500;

export class EventHub {
  /** Names this instance's wake-up connections. */
  readonly instanceId = randomUUID().slice(0, 8);
  private readonly subscribers = new Map<string, Set<EventSubscription>>();
  /** Per application, how many subscriptions each viewer has: a batch's work grows with viewers, not subscriptions. */
  private readonly viewers = new Map<string, Map<string, number>>();
  private readonly sessions: SessionFactsCache;
  private readonly access: AccessRegistry;
  private readonly bufferSize: number;
  private wakeSource: WakeSource | null = null;
  private poller: NodeJS.Timeout | null = null;
  private head = 0;
  private reading: Promise<void> | null = null;
  private readAgain = false;
  private started = false;
  private readonly source: StreamSource;
  private readonly db: Database;
  /**
   * Reads run in the async context the hub was made in, not in that of the request whose
   * commit woke it: no request scope (AsyncLocalStorage) follows the live path.
   */
  private readonly readScope = new AsyncResource('skylight.EventHub.read');

  constructor(private readonly options: EventHubOptions) {
    this.db = backgroundDatabase(options.database);
    this.access = options.access;
    this.sessions = new SessionFactsCache(this.db, options.accessTtlMs ?? options.access.recheckMs);
    this.bufferSize = options.bufferSize ?? 1000;
    this.source = {
      readPage: (filter, position, limit) => this.readPage(filter, position, limit),
      visible: (viewer, filter, rows) => this.visible(viewer, filter, rows),
      readerOf: (viewer, event) => ({ principal: this.access.peek(viewer.id) ?? viewer, session: this.sessions.get(event.sessionId) }),
      delivered: (event) => {
        this.countDelivered(1);
        this.observeLag(event);
      },
      closed: (subscription) => this.remove(subscription),
    };
  }

  /** Deliveries are counted here and added to the Prometheus counter once per turn of the event loop. */
  private deliveredSinceFlush = 0;
  private flushScheduled = false;

  private countDelivered(count: number): void {
    const metrics = this.options.metrics;
    if (!metrics || count === 0) return;
    this.deliveredSinceFlush += count;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      metrics.eventsDelivered.inc(this.deliveredSinceFlush);
      this.deliveredSinceFlush = 0;
    });
  }

  /** The hub's view of the database: statements sent through it are not counted as requests'. */
  get database(): Database | null {
    return this.started ? this.db : null;
  }

  /** The last position this instance has read and dispatched. */
  get position(): number {
    return this.head;
  }

  get subscriberCount(): number {
    let count = 0;
    for (const set of this.subscribers.values()) count += set.size;
    return count;
  }

  /** Statements sent to decide visibility (tests check that fan-out does not query per subscriber). */
  get accessQueries(): number {
    return this.sessions.queries + this.access.backgroundQueries;
  }

  get wakeKind(): WakeSource['kind'] | null {
    return this.wakeSource?.kind ?? null;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { database, logger } = this.options;
    this.head = await lastPosition(this.db);
    this.wakeSource = await this.createWakeSource();
    await this.wakeSource.start({
      wake: (position) => {
        if (position === null || position > this.head) this.read();
      },
      // Back after being deaf: an access signal may have been missed too.
      listening: () => {
        this.access.invalidate();
        this.read();
      },
      accessChanged: () => this.access.invalidate(),
    });
    this.access.start(this.db, () => this.wakeSource?.publish('access'));
    const pollMs = this.options.pollIntervalMs ?? 5000;
    if (pollMs > 0) {
      this.poller = setInterval(() => this.read(), pollMs);
      this.poller.unref();
    }
    logger.debug({ wake: this.wakeSource.kind, head: this.head, database: database.kind }, 'event hub started');
  }

  private async createWakeSource(): Promise<WakeSource> {
    const { database, logger, redisUrl } = this.options;
    if (redisUrl) {
      const [row] = rowsOf<{ name: string }>(await this.db.execute(sql`select current_database() as name`));
      return new RedisWake(redisUrl, `skylight_events:${row?.name ?? 'default'}`, logger, this.instanceId);
    }
    const listenVia = this.options.listenVia ?? database.sql;
    if (listenVia) {
      const applicationName = `${LISTENER_APPLICATION_NAME}-${this.instanceId}`;
      return new PostgresWake(listenVia, logger, this.options.heartbeatMs ?? 2000, applicationName);
    }
    if (database.pglite) return new PgliteWake(database.pglite);
    throw new Error('The event hub needs a PostgreSQL or PGlite database');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.poller) clearInterval(this.poller);
    for (const set of [...this.subscribers.values()]) for (const subscription of [...set]) subscription.close();
    await this.access.stop();
    await this.wakeSource?.stop();
    this.wakeSource = null;
    await this.reading?.catch(() => {});
  }

  /** Call after a transaction that appended events has committed (wakes other instances over Redis). */
  committed(): void {
    this.wakeSource?.publish('events');
    this.read();
  }

  /**
   * A stream of the events the viewer may read, replaying from `after` when given. The caller
   * has checked that the viewer may see the application (and session). Throws BAD_USER_INPUT
   * for a malformed cursor or one beyond the end of the log.
   */
  async subscribe(input: SubscribeInput): Promise<EventSubscription> {
    const filter: EventFilter = {
      applicationId: input.applicationId,
      sessionId: input.sessionId ?? null,
      types: input.types?.length ? new Set(input.types) : null,
    };
    let after: number | null = null;
    if (input.after != null) {
      after = await cursorPosition(this.db, input.after, 'after', this.head);
    }
    // From here to registration is synchronous: `head` cannot move in between.
    const head = this.head;
    const start = after === null ? { position: head, replay: false } : { position: after, replay: after < head };
    const subscription = new EventSubscription(this.source, input.viewer, filter, start, this.bufferSize);
    let set = this.subscribers.get(filter.applicationId);
    if (!set) this.subscribers.set(filter.applicationId, (set = new Set()));
    set.add(subscription);
    let counts = this.viewers.get(filter.applicationId);
    if (!counts) this.viewers.set(filter.applicationId, (counts = new Map()));
    counts.set(input.viewer.id, (counts.get(input.viewer.id) ?? 0) + 1);
    if (input.guard) {
      subscription.unguard = this.access.guard({
        credential: input.guard,
        end: ({ reason, message }) =>
          subscription.fail(new DomainError(ErrorCode.UNAUTHENTICATED, message, { reason: reason === 'EXPIRED' ? 'TOKEN_EXPIRED' : 'TOKEN_REVOKED' })),
      });
    }
    this.options.metrics?.openSubscriptions.inc();
    return subscription;
  }

  private remove(subscription: EventSubscription): void {
    const { applicationId } = subscription.filter;
    const set = this.subscribers.get(applicationId);
    if (!set?.delete(subscription)) return;
    if (set.size === 0) this.subscribers.delete(applicationId);
    const counts = this.viewers.get(applicationId)!;
    const left = counts.get(subscription.viewer.id)! - 1;
    if (left > 0) counts.set(subscription.viewer.id, left);
    else counts.delete(subscription.viewer.id);
    if (counts.size === 0) this.viewers.delete(applicationId);
    subscription.unguard?.();
    this.options.metrics?.openSubscriptions.dec();
  }

  /** Schedules a read of the log; reads never overlap, and a wake-up during a read causes one more. */
  read(): void {
    if (!this.started) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.readScope
      .runInAsyncScope(() => this.readLoop())
      .catch((error) => this.options.logger.warn({ err: error }, 'reading the event log failed; retrying on the next wake-up'))
      .finally(() => {
        this.reading = null;
        if (this.readAgain && this.started) {
          this.readAgain = false;
          this.read();
        }
      });
  }

  private async readLoop(): Promise<void> {
    for (;;) {
      this.readAgain = false;
      const rows = await this.db
        .select()
        .from(eventTable)
        .where(gt(eventTable.position, this.head))
        .orderBy(asc(eventTable.position))
        .limit(READ_BATCH);
      if (rows.length === 0 || !this.started) return;
      await this.prepare(rows);
      if (!this.started) return;
      this.dispatch(rows);
      if (rows.length < READ_BATCH && !this.readAgain) return;
    }
  }

  /** Loads what visibility needs for this batch: at most two statements, whatever the subscribers. */
  private async prepare(rows: EventRow[]): Promise<void> {
    for (const row of rows) {
      if (row.sessionId && SESSION_ACCESS_EVENT_TYPES.has(row.type)) this.sessions.forget(row.sessionId);
    }
    const viewers = new Set<string>();
    const sessionIds: string[] = [];
    for (const applicationId of new Set(rows.map((row) => row.applicationId))) {
      for (const viewer of this.viewers.get(applicationId)?.keys() ?? []) viewers.add(viewer);
    }
    for (const row of rows) if (row.sessionId && this.subscribers.has(row.applicationId)) sessionIds.push(row.sessionId);
    await Promise.all([this.access.refresh(this.db, viewers), this.sessions.load(sessionIds)]);
  }

  /** The viewer as the registry knows it now if it may read the event; null otherwise. */
  private reader(viewer: Principal, event: EventRow & { session: SessionFacts | null }): Principal | null {
    const current = this.access.peek(viewer.id);
    const principal = current === null ? null : (current ?? viewer);
    return principal && rules.eventReadable.check(principal, event) ? principal : null;
  }

  private observeLag(event: EventRow): void {
    this.options.metrics?.eventDeliveryLag.observe(Math.max(0, Date.now() - event.createdAt.getTime()) / 1000);
  }

  /**
   * Synchronous on purpose: `head` moves together with the hand-over (see the top of this file).
   * Visibility is decided once per (event, viewer), however many subscriptions the viewer has;
   * each subscription gets the viewer as the registry knows it now and the session's facts.
   */
  private dispatch(rows: EventRow[]): void {
    const readers = new Map<string, Principal | null>();
    let delivered = 0;
    for (const event of rows) {
      const set = this.subscribers.get(event.applicationId);
      if (!set) continue;
      const session = this.sessions.get(event.sessionId);
      const facts = { ...event, session };
      readers.clear();
      let offered = 0;
      for (const subscription of set) {
        if (!matches(subscription.filter, event)) continue;
        const viewerId = subscription.viewer.id;
        let reader = readers.get(viewerId);
        if (reader === undefined) {
          reader = this.reader(subscription.viewer, facts);
          readers.set(viewerId, reader);
        }
        if (reader === null) continue;
        offered++;
        if (subscription.offer(event, reader, session)) delivered++;
      }
      if (offered > 0) this.observeLag(event);
    }
    this.countDelivered(delivered);
    this.head = rows[rows.length - 1]!.position;
    this.options.onRead?.(rows);
  }

  private async readPage(filter: EventFilter, position: number, limit: number): Promise<EventRow[]> {
    const conditions: SQL[] = [eq(eventTable.applicationId, filter.applicationId), gt(eventTable.position, position)];
    if (filter.sessionId) conditions.push(eq(eventTable.sessionId, filter.sessionId));
    if (filter.types) conditions.push(inArray(eventTable.type, [...filter.types]));
    return this.db
      .select()
      .from(eventTable)
      .where(and(...conditions))
      .orderBy(asc(eventTable.position))
      .limit(limit);
  }

  private async visible(viewer: Principal, _filter: EventFilter, rows: EventRow[]): Promise<EventRow[]> {
    if (rows.length === 0) return rows;
    await Promise.all([this.access.refresh(this.db, [viewer.id]), this.sessions.load(rows.flatMap((row) => (row.sessionId ? [row.sessionId] : [])))]);
    return rows.filter((event) => this.reader(viewer, { ...event, session: this.sessions.get(event.sessionId) }) !== null);
  }
}

function matches(filter: EventFilter, event: EventRow): boolean {
  if (filter.sessionId && event.sessionId !== filter.sessionId) return false;
  return !filter.types || filter.types.has(event.type as EventType);
}
