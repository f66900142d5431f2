// Wake-up signals for the hub: something committed, read the log. They carry no events and
// may be lost or repeated; the hub only uses them to read sooner. Each source reports when it
// (re)connects, so the hub reads whatever committed while it was deaf.
//
// - PostgreSQL: a dedicated connection that LISTENs (built from the pool's options, as
//   postgres.js `sql.listen` does, but owned here so that a failed re-listen during a database
//   restart is retried instead of silently given up). A heartbeat query on that connection
//   notices a dead or half-open link within `heartbeatMs`; the connection is then replaced.
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
  /** The source is listening again after a start or a loss: catch up. */
  listening(): void;
}

export interface WakeSource {
  readonly kind: 'postgres' | 'pglite' | 'redis';
  start(handlers: WakeHandlers): Promise<void>;
  /** Called by the instance that committed events, after commit. */
  publish(): void;
  stop(): Promise<void>;
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
        if (channel === EVENTS_CHANNEL && client === this.client) this.handlers?.wake(positionOf(payload));
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
    if (!client || this.retry) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('heartbeat timed out')), this.heartbeatMs);
    });
    try {
      await Promise.race([client`select 1`, timeout]);
    } catch (error) {
      if (client === this.client) this.lost(client, error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
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

  publish(): void {
    // NOTIFY in appendEvents already wakes every instance, this one included.
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
    this.unlisten = await this.pglite.listen(EVENTS_CHANNEL, (payload) => handlers.wake(positionOf(payload)));
    handlers.listening();
  }

  publish(): void {}

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
      if (channel === this.channel) handlers.wake(positionOf(message));
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

  publish(): void {
    this.publisher?.publish(this.channel, '').catch((error) => this.logger.warn({ err: error }, 'redis publish failed'));
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.subscriber?.quit(), this.publisher?.quit()]);
    this.subscriber = this.publisher = null;
  }
}
