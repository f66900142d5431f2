// Webhook endpoints of an application (the deliverer is src/webhooks/). Each change is one
// statement. The signing secret is generated here, shown once (the caller returns it) and
// stored sealed. Whose read access filters the events (`owner_id`) is the creator, then
// whoever last set the URL: pointing an endpoint somewhere else takes it over, so nobody can
// redirect another user's events to a receiver of their own.
import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { sessionTable, webhookTable } from '../db/schema.ts';
import type { EventType } from '../events/log.ts';
import { checkWebhookUrl } from '../webhooks/address.ts';
import { generateSecret, type SecretBox } from '../webhooks/secrets.ts';
import { isUuid } from './ids.ts';
import { badInput, notFound } from './errors.ts';
import { lastPosition, positionAfter } from './events.ts';
import { rowsOf } from './rows.ts';

export type WebhookRow = typeof webhookTable.$inferSelect;

export interface WebhookSettings {
  allowPrivate: boolean;
  box: SecretBox;
}

export interface CreateWebhookInput {
  applicationId: string;
  url: string;
  types?: readonly EventType[] | null;
  sessionId?: string | null;
  /** Start after this cursor (replaying what followed it) instead of at the end of the log. */
  after?: string | null;
}

export interface UpdateWebhookInput {
  url?: string | null;
  /** null or empty: every type; omitted: unchanged. */
  types?: readonly EventType[] | null;
  /** null: every session; omitted: unchanged. */
  sessionId?: string | null;
}

/** Longest grace period of a rotated secret: a week. */
export const MAX_SECRET_GRACE_SECONDS = 7 * 24 * 3600;
/** Lag is counted up to this many events, so a far-behind endpoint costs a bounded read. */
export const LAG_COUNT_LIMIT = 100_000;

const typesOf = (types: readonly EventType[] | null | undefined) => (types?.length ? [...new Set(types)] : null);

async function requireSessionIn(db: Executor, applicationId: string, sessionId: string) {
  const [found] = isUuid(sessionId)
    ? await db
        .select({ id: sessionTable.id })
        .from(sessionTable)
        .where(and(eq(sessionTable.id, sessionId), eq(sessionTable.applicationId, applicationId)))
    : [];
  if (!found) throw notFound('Session');
}

/** Creates an endpoint that starts at the end of the log (or after `input.after`). Answers it and its secret, once. */
export async function createWebhook(db: Executor, actorId: string, input: CreateWebhookInput, settings: WebhookSettings) {
  const url = await checkWebhookUrl(input.url, settings.allowPrivate);
  if (input.sessionId) await requireSessionIn(db, input.applicationId, input.sessionId);
  const position = input.after ? await positionAfter(db, input.after, 'input.after') : await lastPosition(db);
  const id = randomUUID();
  const secret = generateSecret();
  const [webhook] = await db
    .insert(webhookTable)
    .values({
      id,
      applicationId: input.applicationId,
      url,
      types: typesOf(input.types),
      sessionId: input.sessionId ?? null,
      secret: settings.box.seal(secret, id),
      ownerId: actorId,
      position,
      createdBy: actorId,
      modifiedBy: actorId,
    })
    .returning();
  return { webhook: webhook!, secret };
}

export async function requireWebhook(db: Executor, applicationId: string, webhookId: string): Promise<WebhookRow> {
  const [webhook] =
    isUuid(webhookId) && isUuid(applicationId)
      ? await db
          .select()
          .from(webhookTable)
          .where(and(eq(webhookTable.id, webhookId), eq(webhookTable.applicationId, applicationId)))
      : [];
  if (!webhook) throw notFound('Webhook');
  return webhook;
}

const touched = (actorId: string) => ({
  modifiedBy: actorId,
  modifiedAt: new Date(),
  revision: sql`${webhookTable.revision} + 1`,
});

async function changeWebhook(db: Executor, applicationId: string, webhookId: string, change: Record<string, unknown>, only?: SQL) {
  await requireWebhook(db, applicationId, webhookId);
  const [webhook] = await db
    .update(webhookTable)
    .set(change)
    .where(and(eq(webhookTable.id, webhookId), only))
    .returning();
  return webhook ?? requireWebhook(db, applicationId, webhookId);
}

/** Changes URL or filter; the cursor stays. Setting the URL (even to the same one) makes the actor the owner. */
export async function updateWebhook(
  db: Executor,
  actorId: string,
  applicationId: string,
  webhookId: string,
  input: UpdateWebhookInput,
  settings: WebhookSettings,
) {
  const change: Record<string, unknown> = touched(actorId);
  if (input.url !== undefined) {
    if (input.url === null) throw badInput('input.url', 'A webhook needs a URL');
    change.url = await checkWebhookUrl(input.url, settings.allowPrivate);
    change.ownerId = actorId;
  }
  if (input.types !== undefined) change.types = typesOf(input.types);
  if (input.sessionId !== undefined) {
    if (input.sessionId !== null) await requireSessionIn(db, applicationId, input.sessionId);
    change.sessionId = input.sessionId;
  }
  return changeWebhook(db, applicationId, webhookId, change);
}

/** Stops delivery; events keep accumulating behind the cursor. Pausing a paused endpoint keeps its reason. */
export function pauseWebhook(db: Executor, actorId: string, applicationId: string, webhookId: string) {
  return changeWebhook(
    db,
    applicationId,
    webhookId,
    { ...touched(actorId), status: 'PAUSED', pauseReason: 'PAUSED_BY_USER', pauseMessage: 'Paused through the API', pausedAt: new Date() },
    eq(webhookTable.status, 'ACTIVE'),
  );
}

/** Delivery continues from the cursor, the event that failed last first, with a fresh set of attempts. */
export function resumeWebhook(db: Executor, actorId: string, applicationId: string, webhookId: string) {
  return changeWebhook(
    db,
    applicationId,
    webhookId,
    { ...touched(actorId), status: 'ACTIVE', pauseReason: null, pauseMessage: null, pausedAt: null, attempts: 0, nextAttemptAt: null },
    eq(webhookTable.status, 'PAUSED'),
  );
}

export async function deleteWebhook(db: Executor, applicationId: string, webhookId: string): Promise<string> {
  await requireWebhook(db, applicationId, webhookId);
  await db.delete(webhookTable).where(eq(webhookTable.id, webhookId));
  return webhookId;
}

/**
 * A new secret; the old one keeps signing (requests carry both signatures) for
 * `graceSeconds`, so receivers can switch without dropping a request. Answers the new secret, once.
 */
export async function rotateWebhookSecret(
  db: Executor,
  actorId: string,
  applicationId: string,
  webhookId: string,
  graceSeconds: number,
  settings: WebhookSettings,
) {
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_SECRET_GRACE_SECONDS) {
    throw badInput('graceSeconds', `graceSeconds must be between 0 and ${MAX_SECRET_GRACE_SECONDS}`);
  }
  const current = await requireWebhook(db, applicationId, webhookId);
  const secret = generateSecret();
  const keepOld = graceSeconds > 0;
  const [webhook] = await db
    .update(webhookTable)
    .set({
      ...touched(actorId),
      secret: settings.box.seal(secret, webhookId),
      previousSecret: keepOld ? current.secret : null,
      previousSecretExpiresAt: keepOld ? sql`now() + make_interval(secs => ${graceSeconds})` : null,
    })
    .where(eq(webhookTable.id, webhookId))
    .returning();
  return { webhook: webhook!, secret };
}

/**
 * Events after each endpoint's cursor that its filter takes, counted up to LAG_COUNT_LIMIT;
 * the owner's access is not applied (events it may not read are skipped when reached). One
 * statement for any number of endpoints; all of them when `webhookIds` is null.
 */
export async function webhookLag(db: Executor, webhookIds: string[] | null): Promise<Map<string, number>> {
  if (webhookIds?.length === 0) return new Map();
  const rows = rowsOf<{ id: string; lag: number | string }>(
    await db.execute(sql`select w.id, (select count(*) from (select 1 from event e
        where e.application_id = w.application_id and e.position > w.position
          and (w.types is null or e.type = any(w.types))
          and (w.session_id is null or e.session_id = w.session_id)
        limit ${LAG_COUNT_LIMIT}) x)::int as lag
      from ${webhookTable} w ${webhookIds ? sql`where ${inArray(sql`w.id`, webhookIds)}` : sql``}`),
  );
  return new Map(rows.map((row) => [row.id, Number(row.lag)]));
}
