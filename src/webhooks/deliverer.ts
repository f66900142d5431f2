// Delivers the event log to webhook endpoints: at least once, in position order per endpoint,
// cluster-wide.
//
// One deliverer per endpoint across all instances. An instance leases endpoints that have
// work (store.ts: FOR UPDATE SKIP LOCKED, a lease token on the row), delivers their events
// one at a time, and gives each up once it has caught up, so every instance shares the work
// and another takes over when one stops. A crashed instance's leases run out after
// WEBHOOK_LEASE_MS. The holder never starts an attempt that could outlast its lease (it
// renews first), so a late attempt of a former holder cannot overtake the next holder's.
//
// Per batch (up to BATCH_SIZE events) the owner's user and permissions are loaded afresh and
// the log is read with the owner's access as SQL (`eventReadable`, the rule of the `events`
// query): a fixed number of statements per batch, and an owner who lost access stops
// receiving at the next batch. Each attempt is then one statement: its log row, and the cursor
// moved on a 2xx. The cursor is only ever moved past events that were delivered (2xx) or
// that the owner may not read, so a crash loses nothing: the next holder resends from the
// stored cursor (the event id, sent as `webhook-id`, is the idempotency key).
//
// A failure keeps the cursor on the event: the endpoint waits out a back-off (exponential,
// with jitter) during which no instance holds it, then any instance retries it; after
// WEBHOOK_MAX_ATTEMPTS the endpoint is paused with the reason. Events behind it wait: order
// is never given up for progress.
//
// Wake-ups: the live event hub calls `eventsRead()` whenever it read new events (so deliveries
// follow the same NOTIFY/Redis signals as subscriptions), a timer fires when a back-off ends,
// and a poll picks up retries and expired leases of other instances: every `pollMs` while this
// instance delivers or waits for a back-off, else every IDLE_POLL_MS (at most half a lease), so
// an idle gateway does not send a claim statement every second beside its reads. A holder
// that caught up lingers a second for more (lingering.ts) before it gives the endpoint up.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { and, eq, inArray } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Principal } from '../access/principal.ts';
import type { WebhookConfig } from '../config.ts';
import type { Database, DatabaseHandle } from '../db/client.ts';
import { eventTable } from '../db/schema.ts';
import { isUuid } from '../domain/ids.ts';
import { DomainError, ErrorCode, FOREIGN_KEY_VIOLATION, notFound, sqlState } from '../domain/errors.ts';
import { eventReadable } from '../domain/events.ts';
import { requireWebhook } from '../domain/webhooks.ts';
import { backgroundDatabase } from '../events/background-db.ts';
import type { EventRow } from '../events/log.ts';
import { backoffMs, deliveryRecord, ownerAccess, signingSecrets } from './endpoint.ts';
import { Lingering } from './lingering.ts';
import { countAttempt, type WebhookMetrics } from './metrics.ts';
import { SecretBox } from './secrets.ts';
import { WebhookSender, type AttemptResult } from './send.ts';
import * as store from './store.ts';
import type { DeliveryRow, WebhookRow } from './store.ts';

/** Makes the request body of an event, as the GraphQL `Event` type serialises it for `owner`. */
export type EventSerialiser = (owner: Principal) => (event: EventRow) => Promise<string>;

export interface WebhookDelivererOptions {
  database: DatabaseHandle;
  logger: Logger;
  config: WebhookConfig;
  metrics: WebhookMetrics;
  serialiser: EventSerialiser;
  /** Endpoints this instance delivers at the same time. */
  concurrency?: number;
  /** How often to look for retries that are due and endpoints whose holder vanished. */
  pollMs?: number;
  batchSize?: number;
}

const BATCH_SIZE = 100;
/** A batch is read again (the owner's access with it) once it is this old. */
const ACCESS_FRESH_MS = 2000;
/**
 * How long a holder that caught up keeps the endpoint, waiting for more of its application's
 * events: a busy endpoint then costs no claim and release per event.
 */
const LINGER_MS = 1000;
/** Room left on a lease beyond one attempt's timeout before the holder renews it. */
const LEASE_MARGIN_MS = 1000;
/**
 * Endpoints leased per claim statement. One: instances woken by the same event then claim in
 * turns, so endpoints spread over the instances instead of going to whichever woke first.
 */
const CLAIM_STEP = 1;
const PRUNE_EVERY_MS = 3600_000;
/** The poll's period while nothing is held or waited for here (capped at half the lease). */
const IDLE_POLL_MS = 15_000;

export class WebhookDeliverer {
  /** Names this instance in `webhook.lease_owner`: host, process id and a random part. */
  readonly owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  private readonly db: Database;
  private readonly box: SecretBox;
  private readonly sender: WebhookSender;
  private readonly active = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly lingering = new Lingering();
  private poller: NodeJS.Timeout | null = null;
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private started = false;
  private stopping = false;
  private lastPrune = 0;
  private lastPoll = 0;
  private readonly sent = { count: 0 };

  constructor(private readonly options: WebhookDelivererOptions) {
    this.db = backgroundDatabase(options.database, this.sent);
    this.box = new SecretBox(options.config.secretKey);
    this.sender = new WebhookSender({ timeoutMs: options.config.timeoutMs, allowPrivate: options.config.allowPrivate, logger: options.logger });
  }

  /** Seals and opens webhook secrets (the domain seals new ones with it). */
  get secretBox(): SecretBox {
    return this.box;
  }

  /** Statements the deliverer sent (tests check that a batch costs a fixed number of them). */
  get statements(): number {
    return this.sent.count;
  }

  /** Endpoints this instance is delivering right now. */
  get activeCount(): number {
    return this.active.size;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.poller = setInterval(() => this.tick(), this.options.pollMs ?? 1000);
    this.poller.unref();
    this.claim();
  }

  /** Lets in-flight attempts finish (each within WEBHOOK_TIMEOUT_MS), then gives every lease up. */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    if (this.poller) clearInterval(this.poller);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.lingering.wakeAll();
    await this.claiming?.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.active.values()]),
      new Promise((resolve) => (timer = setTimeout(resolve, this.options.config.timeoutMs + LEASE_MARGIN_MS))),
    ]);
    clearTimeout(timer);
    this.sender.close();
  }

  /** A webhook changed (resumed, updated, paused): its holder looks again, and due endpoints are claimed. */
  wake(): void {
    this.lingering.wakeAll();
    this.claim();
  }

  /** The event hub read new events: holders of those applications read on, idle endpoints with work are claimed. */
  eventsRead(events: readonly EventRow[]): void {
    this.lingering.eventsRead(new Set(events.map((event) => event.applicationId)));
    this.claim();
  }

  /** Leases due endpoints up to the concurrency; claims never run twice at once, a request meanwhile runs one more. */
  private claim(): void {
    if (!this.started || this.stopping) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claimLoop()
      .catch((error) => this.options.logger.warn({ err: error }, 'claiming webhooks failed; retrying on the next poll'))
      .finally(() => {
        this.claiming = null;
        if (this.claimAgain) this.claim();
      });
  }

  private tick(): void {
    const busy = this.active.size > 0 || this.timers.size > 0;
    const idlePollMs = Math.min(IDLE_POLL_MS, this.options.config.leaseMs / 2);
    if (busy || performance.now() - this.lastPoll >= idlePollMs) {
      this.lastPoll = performance.now();
      this.claim();
    }
    const days = this.options.config.deliveryRetentionDays;
    if (days > 0 && Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      store
        .pruneDeliveries(this.db, days, 10_000)
        .catch((error) => this.options.logger.warn({ err: error }, 'pruning the webhook delivery log failed'));
    }
  }

  private async claimLoop(): Promise<void> {
    const { leaseMs } = this.options.config;
    const concurrency = this.options.concurrency ?? 16;
    for (;;) {
      this.claimAgain = false;
      const free = concurrency - this.active.size;
      if (free <= 0 || this.stopping) return;
      const token = randomUUID();
      // The local deadline is counted from before the claim was sent, so it ends no later than the row's.
      const deadline = performance.now() + leaseMs;
      const step = Math.min(free, CLAIM_STEP);
      const epoch = this.lingering.epoch;
      const claimed = await store.claimDue(this.db, this.owner, token, leaseMs, step);
      for (const held of claimed) this.active.set(held.row.id, this.work(held, token, deadline, epoch));
      if (claimed.length < step && !this.claimAgain) return;
    }
  }

  private async work(claimed: store.Held, token: string, deadline: number, readAtEpoch: number): Promise<void> {
    const lease = { token, deadline };
    let { row, head } = claimed;
    let epoch = readAtEpoch;
    let held = true;
    let failed = false;
    let idleSince: number | null = null;
    try {
      while (!this.stopping && row.status === 'ACTIVE') {
        let next: 'idle' | 'read' | 'stop' = 'idle';
        if (head > row.position) {
          const access = await ownerAccess(this.db, row);
          if ('problem' in access) {
            await this.pause(row, token, 'OWNER_LOST_ACCESS', access.problem);
            break;
          }
          const secrets = signingSecrets(this.box, row);
          if ('problem' in secrets) {
            await this.pause(row, token, 'SECRET_UNREADABLE', secrets.problem);
            break;
          }
          const batchSize = this.options.batchSize ?? BATCH_SIZE;
          const events = await store.readBatch(this.db, row, eventReadable(access.viewer), batchSize, head);
          const serialise = this.options.serialiser(access.viewer);
          const readAt = performance.now();
          const revision = row.revision;
          if (events.length === batchSize) next = 'read';
          for (const event of events) {
            if (this.stopping) {
              next = 'stop';
              break;
            }
            if (performance.now() - readAt > ACCESS_FRESH_MS) {
              next = 'read';
              break;
            }
            const kept = await this.keepLease(row, lease);
            if (!kept) {
              held = false;
              break;
            }
            row = kept;
            if (row.status === 'ACTIVE' && row.revision === revision) {
              const delivered = await this.attempt(row, lease, event, serialise, secrets.secrets);
              if (!delivered) {
                held = false;
                break;
              }
              row = delivered;
            }
            // Paused meanwhile, or changed (URL, filter, secret): this batch was read under the old settings.
            if (row.status !== 'ACTIVE') {
              next = 'stop';
              break;
            }
            if (row.revision !== revision) {
              next = 'read';
              break;
            }
          }
        }
        if (!held || next === 'stop') break;
        if (next === 'idle') {
          // Caught up with `head`: events up to it were delivered or are not for this endpoint.
          row = { ...row, position: Math.max(row.position, head) };
          idleSince ??= performance.now();
          const lingered = performance.now() - idleSince;
          if (lingered >= LINGER_MS || this.stopping) {
            if (await store.releaseIfIdle(this.db, row, token, row.position)) {
              held = false;
              break;
            }
            idleSince = null;
          } else {
            await this.lingering.wait(row.applicationId, epoch, LINGER_MS - lingered);
          }
        } else {
          idleSince = null;
        }
        // Every batch starts from the stored endpoint, so a pause or a change is seen before anything is sent.
        epoch = this.lingering.epoch;
        const renewed = await this.renew(row, lease);
        if (!renewed) {
          held = false;
          break;
        }
        ({ row, head } = renewed);
      }
    } catch (error) {
      failed = true;
      // Deleted while its attempt was in flight: the log row has no webhook to belong to any more.
      if (sqlState(error) === FOREIGN_KEY_VIOLATION) this.options.logger.debug({ webhookId: row.id }, 'webhook deleted during delivery');
      else this.options.logger.warn({ err: error, webhookId: row.id }, 'webhook delivery stopped by an error; retrying on the next poll');
    } finally {
      if (held) await store.release(this.db, row, token).catch(() => {});
      this.active.delete(claimed.row.id);
      // After an error, wait a poll period: retrying at once could spin on a persistent fault.
      if (!failed) this.claim();
      else this.wakeIn(this.options.pollMs ?? 1000);
    }
  }

  /** One attempt at the event at the cursor. Answers the endpoint as it is now, or null when it was given up (failure, lost lease). */
  private async attempt(
    row: WebhookRow,
    lease: { token: string; deadline: number },
    event: EventRow,
    serialise: (event: EventRow) => Promise<string>,
    secrets: string[],
  ): Promise<WebhookRow | null> {
    const { config, metrics, logger } = this.options;
    const number = row.attempts + 1;
    const result = await this.send(row.url, event, serialise, secrets);
    countAttempt(metrics, result.failure);
    const log = deliveryRecord(this.owner, row.id, event, number, result, false);
    if (result.ok) {
      const before = performance.now();
      const updated = await store.recordDelivered(this.db, row, lease.token, log, config.leaseMs);
      if (updated) lease.deadline = before + config.leaseMs;
      metrics.deliveryLag.observe(Math.max(0, Date.now() - event.createdAt.getTime()) / 1000);
      return updated;
    }
    const exhausted = number >= config.maxAttempts;
    const retryInMs = backoffMs(config.backoffMs, number);
    const pauseMessage = `Event ${event.id} (${event.type}) failed ${number} times; the last attempt: ${result.error}`;
    await store.recordFailed(this.db, row, lease.token, log, exhausted ? { pauseMessage } : { retryInMs });
    if (exhausted) logger.warn({ webhookId: row.id, eventId: event.id, attempts: number, error: result.error }, 'webhook paused: delivery failed');
    else {
      logger.info({ webhookId: row.id, eventId: event.id, attempt: number, error: result.error, retryInMs }, 'webhook delivery failed; retrying');
      this.wakeIn(retryInMs);
    }
    return null;
  }

  private send(url: string, event: EventRow, serialise: (event: EventRow) => Promise<string>, secrets: string[]): Promise<AttemptResult> {
    return this.sender.sendEvent(url, event.id, () => serialise(event), secrets);
  }

  /** Renews the lease if the next attempt could outlast it; the endpoint as stored, or null when the lease is lost. */
  private async keepLease(row: WebhookRow, lease: { token: string; deadline: number }): Promise<WebhookRow | null> {
    if (performance.now() + this.options.config.timeoutMs + LEASE_MARGIN_MS < lease.deadline) return row;
    return (await this.renew(row, lease))?.row ?? null;
  }

  private async renew(row: WebhookRow, lease: { token: string; deadline: number }): Promise<store.Held | null> {
    const before = performance.now();
    const renewed = await store.renewLease(this.db, row, lease.token, this.options.config.leaseMs);
    if (renewed) lease.deadline = before + this.options.config.leaseMs;
    return renewed;
  }

  private wakeIn(ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.claim();
    }, ms + 10);
    timer.unref();
    this.timers.add(timer);
  }

  private async pause(row: WebhookRow, token: string, reason: store.PauseReason, message: string): Promise<void> {
    await store.pauseHeld(this.db, row, token, reason, message);
    this.options.logger.warn({ webhookId: row.id, reason, message }, 'webhook paused');
  }

  /**
   * Sends one event again, now, outside the ordered stream (the cursor does not move), if the
   * owner may read it and the filter takes it; logged as a redelivery. Answers the log row.
   */
  async redeliver(applicationId: string, webhookId: string, eventId: string): Promise<DeliveryRow> {
    const row = await requireWebhook(this.db, applicationId, webhookId);
    const access = await ownerAccess(this.db, row);
    if ('problem' in access) throw new DomainError(ErrorCode.FAILED_PRECONDITION, access.problem, { reason: 'OWNER_LOST_ACCESS' });
    const secrets = signingSecrets(this.box, row);
    if ('problem' in secrets) throw new DomainError(ErrorCode.FAILED_PRECONDITION, secrets.problem, { reason: 'SECRET_UNREADABLE' });
    const conditions = [eq(eventTable.applicationId, applicationId), eventReadable(access.viewer)];
    if (row.types?.length) conditions.push(inArray(eventTable.type, row.types));
    if (row.sessionId) conditions.push(eq(eventTable.sessionId, row.sessionId));
    const [event] = isUuid(eventId) ? await this.db.select().from(eventTable).where(and(eq(eventTable.id, eventId), ...conditions)) : [];
    if (!event) throw notFound('Event');
    const result = await this.send(row.url, event, this.options.serialiser(access.viewer), secrets.secrets);
    countAttempt(this.options.metrics, result.failure);
    return store.insertDelivery(this.db, deliveryRecord(this.owner, row.id, event, 1, result, true));
  }
}

