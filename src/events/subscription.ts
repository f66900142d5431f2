// One subscriber's stream: replay from its cursor (pulled page by page from the database,
// only as fast as the subscriber consumes), then live events handed over by the hub.
// See src/events/hub.ts for why the hand-over has no gap and no duplicate.
import type { Principal } from '../access/principal.ts';
import type { SessionFacts } from '../access/rules.ts';
import { DomainError, ErrorCode } from '../domain/errors.ts';
import { encodeEventCursor, type EventRow, type EventType } from './log.ts';

export interface EventFilter {
  applicationId: string;
  /** Only this session's events; null for the whole application. */
  sessionId: string | null;
  /** Only these types; null for all. */
  types: ReadonlySet<EventType> | null;
}

/**
 * The last item of a stream that the hub had to end: the subscriber should resume from its
 * cursor. A DomainError is shown as it is; anything else (the database failed during replay)
 * is masked by the API like any unexpected error.
 */
export interface StreamFailure {
  failure: DomainError | Error;
}

export type StreamItem = EventRow | StreamFailure;

export function isStreamFailure(item: StreamItem): item is StreamFailure {
  return 'failure' in item;
}

/** What a subscription needs from the hub. */
export interface StreamSource {
  /** Events matching the filter after `position`, oldest first, at most `limit`, visibility not applied. */
  readPage(filter: EventFilter, position: number, limit: number): Promise<EventRow[]>;
  /** The events of `rows` the viewer may read now. */
  visible(viewer: Principal, filter: EventFilter, rows: EventRow[]): Promise<EventRow[]>;
  /** Who reads the event now (the viewer as the registry knows it) and its session's facts. */
  readerOf(viewer: Principal, event: EventRow): { principal: Principal; session: SessionFacts | null };
  delivered(event: EventRow): void;
  closed(subscription: EventSubscription): void;
}

/**
 * Where a pushed stream goes (the graphql-ws socket, src/graphql/events/shared-execution.ts):
 * live events are handed over synchronously by the hub's dispatch, with no promise and no
 * iterator step per subscriber.
 */
export interface StreamSink {
  /** Send this event now, as `principal` may read it. */
  event(event: EventRow, principal: Principal, session: SessionFacts | null): void;
  /** The stream ended: with its last item (RATE_LIMITED, revoked, replay failed), or closed (null). */
  end(failure: DomainError | Error | null): void;
  /** Messages handed to the transport and not yet written out: the subscriber's buffer. */
  readonly backlog: number;
  /** Resolves once the backlog is empty (replay pages wait for it). */
  drained(): Promise<void>;
}

export const REPLAY_PAGE_SIZE = 200;

export class EventSubscription implements AsyncIterableIterator<StreamItem> {
  private queue: EventRow[] = [];
  /** Live events that arrive while replaying; null once live. */
  private pending: EventRow[] | null;
  /** Position of the last event queued (or skipped as invisible): nothing at or below it is queued again. */
  private position: number;
  private failure: DomainError | Error | null = null;
  private ended = false;
  private waiter: (() => void) | null = null;

  constructor(
    private readonly source: StreamSource,
    readonly viewer: Principal,
    readonly filter: EventFilter,
    start: { position: number; replay: boolean },
    private readonly bufferSize: number,
  ) {
    this.position = start.position;
    this.pending = start.replay ? [] : null;
  }

  /** Unregisters the stream's credential guard, when it has one (set by the hub). */
  unguard: (() => void) | null = null;

  get live(): boolean {
    return this.pending === null;
  }

  private sink: StreamSink | null = null;

  /**
   * Called by the hub with an event that matches the filter and that the viewer may read, as
   * `principal` (the viewer now) with the session's `facts`. True when it was sent at once
   * (pushed streams; the hub counts those, the others count when taken).
   */
  offer(event: EventRow, principal?: Principal, facts?: SessionFacts | null): boolean {
    if (this.ended || this.failure) return false;
    if (this.pending) {
      this.pending.push(event);
      if (this.pending.length > this.bufferSize) this.overflow();
      return false;
    }
    if (event.position <= this.position) return false;
    this.position = event.position;
    const sink = this.sink;
    if (sink && this.queue.length === 0) {
      this.lastDelivered = event.position;
      if (principal) sink.event(event, principal, facts ?? null);
      else this.push(sink, event);
      if (sink.backlog > this.bufferSize) this.overflow();
      return true;
    }
    this.queue.push(event);
    if (this.queue.length > this.bufferSize) this.overflow();
    else this.signal();
    return false;
  }

  private push(sink: StreamSink, event: EventRow): void {
    const reader = this.source.readerOf(this.viewer, event);
    sink.event(event, reader.principal, reader.session);
  }

  /**
   * Pushes the stream into `sink` instead of being iterated: the replay (page by page, each
   * once the sink has written the previous one out), then live events as the hub hands them over.
   */
  pushTo(sink: StreamSink): void {
    this.sink = sink;
    void this.pump();
  }

  private pumping = false;

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      await this.pumpLoop(this.sink!);
    } finally {
      this.pumping = false;
    }
  }

  private async pumpLoop(sink: StreamSink): Promise<void> {
    for (;;) {
      for (let event = this.queue.shift(); event; event = this.queue.shift()) {
        this.lastDelivered = event.position;
        this.source.delivered(event);
        this.push(sink, event);
      }
      if (this.failure) {
        const failure = this.failure;
        this.failure = null;
        this.ended = true;
        return sink.end(failure);
      }
      if (this.ended) return sink.end(null);
      if (!this.pending) return;
      try {
        await this.replayPage();
        if (sink.backlog > 0) await sink.drained();
      } catch (error) {
        this.failure = error instanceof Error ? error : new Error(String(error));
        this.queue = [];
        this.pending = null;
        this.source.closed(this);
      }
    }
  }

  /** The subscriber fell too far behind: drop what is buffered and end with an error. */
  private overflow(): void {
    const resumeAfter = this.lastDelivered;
    this.queue = [];
    this.pending = null;
    this.failure = new DomainError(
      ErrorCode.RATE_LIMITED,
      `The subscriber fell more than ${this.bufferSize} events behind; subscribe again with after: its last cursor`,
      { reason: 'SUBSCRIBER_TOO_SLOW', ...(resumeAfter ? { resumeAfter: encodeEventCursor(resumeAfter) } : {}) },
    );
    this.source.closed(this);
    this.signal();
  }

  private lastDelivered = 0;

  /** Ends the stream with `failure` as its last item (the credential failed its re-check). */
  fail(failure: DomainError): void {
    if (this.ended || this.failure) return;
    this.queue = [];
    this.pending = null;
    this.failure = failure;
    this.source.closed(this);
    this.signal();
  }

  async next(): Promise<IteratorResult<StreamItem>> {
    for (;;) {
      const event = this.queue.shift();
      if (event) {
        this.lastDelivered = event.position;
        this.source.delivered(event);
        return { done: false, value: event };
      }
      if (this.failure) {
        const failure = this.failure;
        this.failure = null;
        this.ended = true;
        return { done: false, value: { failure } };
      }
      if (this.ended) return { done: true, value: undefined };
      if (this.pending) {
        try {
          await this.replayPage();
        } catch (error) {
          this.failure = error instanceof Error ? error : new Error(String(error));
          this.queue = [];
          this.pending = null;
          this.source.closed(this);
        }
      }
      else await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Reads the next page of history; a short page means history is exhausted: go live. */
  private async replayPage(): Promise<void> {
    const rows = await this.source.readPage(this.filter, this.position, REPLAY_PAGE_SIZE);
    if (this.ended || this.failure) return;
    const visible = await this.source.visible(this.viewer, this.filter, rows);
    if (this.ended || this.failure || !this.pending) return;
    for (const event of visible) this.queue.push(event);
    if (rows.length > 0) this.position = rows[rows.length - 1]!.position;
    if (rows.length < REPLAY_PAGE_SIZE) {
      const pending = this.pending;
      this.pending = null;
      for (const event of pending) {
        if (event.position <= this.position) continue;
        this.position = event.position;
        this.queue.push(event);
      }
    }
  }

  private signal(): void {
    const sink = this.sink;
    if (sink) {
      // Pushed: only the end of the stream is signalled. A failure goes after what the pump is
      // still sending; a close ends at once (and releases a pump waiting for the sink).
      if (this.failure && this.pumping) return;
      if (this.failure || this.ended) {
        const failure = this.failure;
        this.failure = null;
        this.ended = true;
        sink.end(failure);
      }
      return;
    }
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  async return(): Promise<IteratorResult<StreamItem>> {
    this.close();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<StreamItem>> {
    this.close();
    throw error;
  }

  /** Ends the stream; a pending `next` answers done. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.pending = null;
    this.failure = null;
    this.source.closed(this);
    this.signal();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
