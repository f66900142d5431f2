// Webhook operations for tests, through the API as an integrator would call it.
import { WEBHOOK_EVENT_FIELDS } from '../../src/graphql/webhooks/payload.ts';
import { dataOf, unique } from './factories.ts';
import type { TestGateway } from './gateway.ts';

export const WEBHOOK_FIELDS = `id applicationId url types sessionId status pauseReason pauseMessage pausedAt cursor failedAttempts
  nextAttemptAt lag ownerId previousSecretExpiresAt createdBy createdAt modifiedBy modifiedAt`;
export const DELIVERY_FIELDS = 'id webhookId eventId eventType eventCursor attempt redelivery status statusCode durationMs error response createdAt';

export const CREATE_WEBHOOK = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { ${WEBHOOK_FIELDS} } } }`;
export const UPDATE_WEBHOOK = `mutation($a: ID!, $w: ID!, $input: UpdateWebhookInput!) {
  updateWebhook(applicationId: $a, webhookId: $w, input: $input) { ${WEBHOOK_FIELDS} } }`;
export const PAUSE_WEBHOOK = `mutation($a: ID!, $w: ID!) { pauseWebhook(applicationId: $a, webhookId: $w) { ${WEBHOOK_FIELDS} } }`;
export const RESUME_WEBHOOK = `mutation($a: ID!, $w: ID!) { resumeWebhook(applicationId: $a, webhookId: $w) { ${WEBHOOK_FIELDS} } }`;
export const DELETE_WEBHOOK = `mutation($a: ID!, $w: ID!) { deleteWebhook(applicationId: $a, webhookId: $w) }`;
export const ROTATE_SECRET = `mutation($a: ID!, $w: ID!, $grace: Int) {
  rotateWebhookSecret(applicationId: $a, webhookId: $w, graceSeconds: $grace) { secret webhook { ${WEBHOOK_FIELDS} } } }`;
export const REDELIVER = `mutation($a: ID!, $w: ID!, $e: ID!) { redeliverWebhookEvent(applicationId: $a, webhookId: $w, eventId: $e) { ${DELIVERY_FIELDS} } }`;
export const WEBHOOK = `query($a: ID!, $w: ID!, $status: WebhookDeliveryStatus, $first: Int, $after: String) {
  webhook(applicationId: $a, webhookId: $w) { ${WEBHOOK_FIELDS}
    deliveries(status: $status, first: $first, after: $after) { edges { cursor node { ${DELIVERY_FIELDS} } } pageInfo { hasNextPage endCursor } } } }`;
export const APPLICATION_WEBHOOKS = `query($a: ID!) { application(applicationId: $a) { id webhooks { ${WEBHOOK_FIELDS} } } }`;
/** The history with exactly the selection a webhook body carries. */
export const EVENTS_AS_DELIVERED = `query($a: ID!, $first: Int) { events(applicationId: $a, first: $first) { edges { node { ${WEBHOOK_EVENT_FIELDS} } } } }`;

export const CREATE_SESSION = `mutation($input: CreateSessionInput!) { createSession(input: $input) { id } }`;
export const CUSTOM_EVENT = `mutation($a: ID!, $s: ID!, $data: JSON!) { createSessionEvent(applicationId: $a, sessionId: $s, data: $data) { id cursor } }`;

export async function createWebhook(gw: TestGateway, input: Record<string, unknown>, token?: string) {
  return dataOf(await gw.gql(CREATE_WEBHOOK, { input }, token)).createWebhook as { secret: string; webhook: any };
}

export async function webhookState(gw: TestGateway, applicationId: string, webhookId: string, extra: Record<string, unknown> = {}) {
  return dataOf(await gw.gql(WEBHOOK, { a: applicationId, w: webhookId, first: 100, ...extra })).webhook;
}

/** The delivery log, oldest first. */
export async function deliveries(gw: TestGateway, applicationId: string, webhookId: string, status?: string): Promise<any[]> {
  const state = await webhookState(gw, applicationId, webhookId, { status });
  return state.deliveries.edges.map((edge: any) => edge.node).reverse();
}

export async function createSession(gw: TestGateway, applicationId: string, token?: string): Promise<string> {
  return dataOf(await gw.gql(CREATE_SESSION, { input: { applicationId, name: unique('s') } }, token)).createSession.id;
}

/** Custom events carrying `{ n }` for n in [from, from + count); answers their ids in order. */
export async function emit(gw: TestGateway, applicationId: string, sessionId: string, count: number, from = 0, token?: string): Promise<string[]> {
  const ids: string[] = [];
  for (let n = from; n < from + count; n++) {
    ids.push(dataOf(await gw.gql(CUSTOM_EVENT, { a: applicationId, s: sessionId, data: { n } }, token)).createSessionEvent.id);
  }
  return ids;
}

export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
