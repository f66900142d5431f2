// What a delivery needs to know about an endpoint besides its events: whether its owner may
// still receive them (and with which permissions), the secrets to sign with, the back-off
// after a failure, and the delivery log row of an attempt.
import { loadPrincipals, type Principal } from '../access/principal.ts';
import { rules } from '../access/rules.ts';
import type { Database } from '../db/client.ts';
import type { EventRow } from '../events/log.ts';
import type { SecretBox } from './secrets.ts';
import type { AttemptResult } from './send.ts';
import type { NewDelivery, WebhookRow } from './store.ts';

export type OwnerAccess = { viewer: Principal } | { problem: string };

const TAKE_OVER = 'set its url to take it over';

/** The owner as it is now; a problem when it may no longer read the application or manage its webhooks. One statement. */
export async function ownerAccess(db: Database, row: WebhookRow): Promise<OwnerAccess> {
  const viewer = row.ownerId ? (await loadPrincipals(db, [row.ownerId])).get(row.ownerId) : undefined;
  if (!viewer) return { problem: `The webhook's owner no longer exists; ${TAKE_OVER}` };
  const holds = (permission: 'application:read' | 'application:webhooks:manage') =>
    rules.permissionHeld.check(viewer, { applicationId: row.applicationId, permission });
  if (!holds('application:read') || !holds('application:webhooks:manage')) {
    return { problem: `Its owner (${viewer.username}) may no longer read the application or manage its webhooks; ${TAKE_OVER}` };
  }
  return { viewer };
}

/** The secrets to sign with: the current one, and the previous one during its grace period. */
export function signingSecrets(box: SecretBox, row: WebhookRow): { secrets: string[] } | { problem: string } {
  const current = box.open(row.secret, row.id);
  if ('error' in current) {
    return {
      problem:
        current.error === 'KEY_CHANGED'
          ? 'The secret was sealed with another WEBHOOK_SECRET_KEY (or JWT_SECRET); rotate the secret, then resume'
          : 'The stored secret is damaged; rotate the secret, then resume',
    };
  }
  const secrets = [current.secret];
  if (row.previousSecret && row.previousSecretExpiresAt && row.previousSecretExpiresAt.getTime() > Date.now()) {
    const previous = box.open(row.previousSecret, row.id);
    if ('secret' in previous) secrets.push(previous.secret);
  }
  return { secrets };
}

const MAX_BACKOFF_MS = 3600_000;

/** The delay before retry number `failures` (1 after the first failure): base × 4^(n-1), at most an hour, minus a random part of up to half. */
export function backoffMs(baseMs: number, failures: number, random = Math.random()): number {
  const full = Math.min(MAX_BACKOFF_MS, baseMs * 4 ** Math.max(0, failures - 1));
  return Math.round(full * (0.5 + random / 2));
}

export function deliveryRecord(
  instance: string,
  webhookId: string,
  event: EventRow,
  attempt: number,
  result: AttemptResult,
  redelivery: boolean,
): NewDelivery {
  return {
    instance,
    webhookId,
    eventId: event.id,
    eventPosition: event.position,
    eventType: event.type,
    attempt,
    redelivery,
    status: result.ok ? 'SUCCEEDED' : 'FAILED',
    statusCode: result.statusCode,
    durationMs: result.durationMs,
    error: result.error,
    response: result.response,
    createdAt: result.startedAt,
  };
}
