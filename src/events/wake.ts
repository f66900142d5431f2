// Wake-up signals for the hub: something committed, read the log. They carry no events and
// may be lost or repeated; the hub only uses them to read sooner. Each source reports when it
// (re)connects, so the hub reads whatever committed while it was deaf.
//
// - PostgreSQL: a dedicated connection that LISTENs (built from the pool's options, as
//   postgres.js `sql.listen` does, but owned here so that a failed re-listen during a database
//   restart is retried instead of silently given up). A heartbeat query on that connection
//   that goes unanswered for 5 s replaces a half-open link; a closed one is replaced at once.
// - PGlite: its in-process `listen`.
// - Redis: a subscriber connection (ioredis re-subscribes by itself; `ready` reports it). The
//   database NOTIFY still fires but nobody listens; the instance that committed publishes.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import postgres from 'postgres';
import type { PGlite } from '@electric-sql/pglite';
import { EVENTS_CHANNEL } from './log.ts';

export interface WakeHandlers {
  /** A hint that events up to `position` (when known) committed. */
  wake(position: number | null): void;
  /** Roles or groups changed somewhere: cached permissions and participants are stale. */
  accessChanged(): void;
  /** The source is listening again after a start or a loss: catch up. */
  listening(): void;
}

export interface WakeSource {
  readonly kind: 'postgres' | 'pglite' | 'redis';
  start(handlers: WakeHandlers): Promise<void>;
  /**
   * Called after commit by the instance that committed: `events` (needed only where the
   * database's own NOTIFY is not listened to) or `access` (roles or groups changed).
   */
  publish(signal: WakeSignal): void;
  stop(): Promise<void>;
}

export type WakeSignal = 'events' | 'access';
const ACCESS_SIGNAL = 'access';

/** Routes a payload: a position (or nothing) wakes the reader, `access` drops cached access. */
function deliver(handlers: WakeHandlers | null, payload: string): void {
  if (payload === ACCESS_SIGNAL) handlers?.accessChanged();
  else handlers?.wake(positionOf(payload));
}

/** Prefix of the LISTEN connection's application_name; the hub's instance id follows. */
export const LISTENER_APPLICATION_NAME = 'skylight-events-listener';

function positionOf(payload: string): number | null {
  if (!/^\d+$/.test(payload)) return null;
  const value = Number(payload);
  return Number.isSafeInteger(value) ? value : null;
}

export class PostgresWake implements WakeSource {
  readonly kind = 'postgres';
  private client: postgres.Sql | null = null;
  private handlers: WakeHandlers | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;
  private attempt = 0;
  private checking = false;

  constructor(
    private readonly pool: postgres.Sql,
    private readonly logger: Logger,
    private readonly heartbeatMs: number,
    /** application_name of the listening connection, so operators (and tests) can find it. */
    readonly applicationName: string,
  ) {}

  async start(handlers: WakeHandlers): Promise<void> {
    this.handlers = handlers;
    await this.connect();
    this.heartbeat = setInterval(() => void this.checkAlive(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  private async connect(): Promise<void> {
    const options = this.pool.options;
    const client = postgres({
      ...options,
      max: 1,
      idle_timeout: null,
      max_lifetime: null,
      fetch_types: false,
      connect_timeout: Math.max(1, Math.ceil(this.heartbeatMs / 1000)),
      connection: { ...options.connection, application_name: this.applicationName },
      onnotify: (channel: string, payload: string) => {
        if (channel === EVENTS_CHANNEL && client === this.client) deliver(this.handlers, payload);
      },
      onclose: () => {
        if (client === this.client) this.lost(client, 'connection closed');
      },
    } as unknown as postgres.Options<{}>);
    this.client = client;
    try {
      await client.unsafe(`listen ${EVENTS_CHANNEL}`);
    } catch (error) {
      this.lost(client, error instanceof Error ? error.message : String(error));
      return;
    }
    if (this.attempt > 0) this.logger.info({ attempts: this.attempt }, 'event listener connected again');
    this.attempt = 0;
    this.handlers?.listening();
  }

  private async checkAlive(): Promise<void> {
    const client = this.client;
    if (!client || this.retry || this.checking) return;
    this.checking = true;
    let timer: NodeJS.Timeout | undefined;
    // Generous: a busy event loop (a large fan-out) delays the answer without the link being dead.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('heartbeat timed out')), Math.max(5000, 2.5 * this.heartbeatMs));
    });
    try {
      await Promise.race([client`select 1`, timeout]);
    } catch (error) {
      if (client === this.client) this.lost(client, error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
      this.checking = false;
    }
  }

  /** Drops a dead listener and connects a new one after a short back-off. */
  private lost(client: postgres.Sql, reason: string): void {
    if (this.client !== client) return;
    this.client = null;
    void client.end({ timeout: 0 }).catch(() => {});
    if (this.stopped) return;
    this.attempt++;
    this.logger.warn({ reason, attempt: this.attempt }, 'event listener lost; listening again');
    const delay = Math.min(100 * 2 ** (this.attempt - 1), 2000);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.stopped) void this.connect();
    }, delay);
  }

  publish(signal: WakeSignal): void {
    // For events, the NOTIFY in appendEvents already woke every instance, this one included.
    if (signal !== ACCESS_SIGNAL) return;
    this.pool`select pg_notify(${EVENTS_CHANNEL}, ${ACCESS_SIGNAL})`.catch((error) =>
      this.logger.warn({ err: error }, 'could not announce an access change'),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end({ timeout: 1 }).catch(() => {});
  }
}

export class PgliteWake implements WakeSource {
  readonly kind = 'pglite';
  private unlisten: (() => Promise<void>) | null = null;

  constructor(private readonly pglite: PGlite) {}

  async start(handlers: WakeHandlers): Promise<void> {
    this.unlisten = await this.pglite.listen(EVENTS_CHANNEL, (payload) => deliver(handlers, payload));
    handlers.listening();
  }

  /** One process: the hub has already acted on its own signals. */
  publish(_signal: WakeSignal): void {}

  async stop(): Promise<void> {
    if (this.pglite.closed) return;
    await this.unlisten?.().catch(() => {});
  }
}

export class RedisWake implements WakeSource {
  readonly kind = 'redis';
  private subscriber: Redis | null = null;
  private publisher: Redis | null = null;

  /** `channel` names the database, so instances on one database share it and others do not. */
  constructor(
    private readonly url: string,
    readonly channel: string,
    private readonly logger: Logger,
    /** Names the Redis connections (CLIENT LIST shows `skylight-events-<name>-sub`). */
    private readonly name: string,
  ) {}

  async start(handlers: WakeHandlers): Promise<void> {
    const subscriber = new Redis(this.url, { connectionName: `skylight-events-${this.name}-sub`, maxRetriesPerRequest: null });
    const publisher = new Redis(this.url, { connectionName: `skylight-events-${this.name}-pub` });
    this.subscriber = subscriber;
    this.publisher = publisher;
    subscriber.on('error', (error) => this.logger.warn({ err: error }, 'redis subscriber error'));
    publisher.on('error', (error) => this.logger.warn({ err: error }, 'redis publisher error'));
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) deliver(handlers, message);
    });
    await subscriber.subscribe(this.channel);
    // After a reconnect ioredis reports `ready` and then subscribes again; our own subscribe is
    // answered after that one, so the catch-up read starts once wake-ups flow again.
    subscriber.on('ready', () => {
      subscriber
        .subscribe(this.channel)
        .then(() => handlers.listening())
        .catch((error) => this.logger.warn({ err: error }, 'redis subscribe failed'));
    });
    handlers.listening();
  }

  publish(signal: WakeSignal): void {
    this.publisher?.publish(this.channel, signal === ACCESS_SIGNAL ? ACCESS_SIGNAL : '').catch((error) => this.logger.warn({ err: error }, 'redis publish failed'));
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.subscriber?.quit(), this.publisher?.quit()]);
    this.subscriber = this.publisher = null;
  }
}
