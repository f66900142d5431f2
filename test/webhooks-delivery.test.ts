// Issue 15: webhooks receive the events of their application, signed by the Standard Webhooks
// spec, in cursor order, exactly once while the receiver answers 2xx; every attempt is in the
// delivery log. Receivers are real HTTP servers started here; they verify signatures with the
// standardwebhooks package, as an integrator's receiver would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, createApplication, dataOf, userWithRole } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.ts';
import {
  EVENTS_AS_DELIVERED,
  REDELIVER,
  ROTATE_SECRET,
  UPDATE_WEBHOOK,
  createSession,
  createWebhook,
  deliveries,
  emit,
  until,
  webhookState,
} from './helpers/webhooks.ts';

let gw: TestGateway;
const receivers: Receiver[] = [];
beforeAll(async () => {
  gw = await startGateway({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_BACKOFF_MS: '50' });
});
afterAll(async () => {
  await gw?.stop();
  for (const receiver of receivers) await receiver.close();
});

async function receiver(...args: Parameters<typeof startReceiver>) {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}

/** Samples of a Prometheus series from the gateway's /metrics whose labels include `labels`, summed. */
async function metric(target: TestGateway, name: string, labels: Record<string, string> = {}): Promise<number | null> {
  const text = await (await fetch(`${target.url}/metrics`)).text();
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    if (Object.entries(labels).every(([key, value]) => (match[2] ?? '').includes(`${key}="${value}"`))) sum = (sum ?? 0) + Number(match[3]);
  }
  return sum;
}

/** An application, a session in it, a verifying receiver and a webhook pointing at it. */
async function setup(input: Record<string, unknown> = {}) {
  const app = await createApplication(gw);
  const session = await createSession(gw, app.id);
  const rx = await receiver();
  const { secret, webhook } = await createWebhook(gw, { applicationId: app.id, url: rx.url, ...input });
  rx.secrets = [secret];
  return { app, session, rx, secret, webhook };
}

describe('webhook delivery', () => {
  it('POSTs each event signed by the Standard Webhooks spec, the body being the event as the GraphQL Event type serialises it', async () => {
    const { app, session, rx, webhook } = await setup();
    const ids = await emit(gw, app.id, session, 3);
    const requests = await rx.until(3);
    const history = dataOf(await gw.gql(EVENTS_AS_DELIVERED, { a: app.id, first: 100 })).events.edges.map((e: any) => e.node);
    const delivered = history.filter((event: any) => ids.includes(event.id));
    for (const [k, request] of requests.entries()) {
      expect(request.method).toBe('POST');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.verified).toEqual([true]);
      expect(request.headers['webhook-id']).toBe(ids[k]);
      expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(request.event).toEqual(delivered[k]);
      expect(request.event).toMatchObject({ __typename: 'SessionDataEvent', type: 'SESSION_EVENT_CREATED', data: { n: k } });
    }
    await until(async () => (await deliveries(gw, app.id, webhook.id)).length === 3);
    const log = await deliveries(gw, app.id, webhook.id);
    expect(log.map((d) => [d.eventId, d.status, d.statusCode, d.attempt, d.redelivery, d.error])).toEqual(
      ids.map((id) => [id, 'SUCCEEDED', 200, 1, false, null]),
    );
    expect(log[0].response).toBe('answer 200');
    const state = await webhookState(gw, app.id, webhook.id);
    expect(state).toMatchObject({ status: 'ACTIVE', lag: 0, failedAttempts: 0, cursor: requests[2]!.event.cursor });
  });

  it('starts with the events committed after its creation, and a session lifecycle body carries the session snapshot', async () => {
    const app = await createApplication(gw);
    await createSession(gw, app.id);
    const rx = await receiver();
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: rx.url });
    const session = await createSession(gw, app.id);
    const [request] = await rx.until(1);
    expect(request!.event).toMatchObject({
      __typename: 'SessionLifecycleEvent',
      type: 'SESSION_CREATED',
      sessionId: session,
      session: { id: session, status: 'OPEN', participants: [{ type: 'USER' }] },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(rx.requests).toHaveLength(1);
    expect((await webhookState(gw, app.id, webhook.id)).lag).toBe(0);
  });

  it('delivers many events exactly once and in cursor order', async () => {
    const { app, session, rx, webhook } = await setup();
    const ids = await emit(gw, app.id, session, 40);
    await rx.until(40);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(rx.requests.map((r) => r.headers['webhook-id'])).toEqual(ids);
    expect(rx.requests.every((r) => r.verified[0])).toBe(true);
    const log = await deliveries(gw, app.id, webhook.id);
    expect(log).toHaveLength(40);
    expect(log.every((d) => d.status === 'SUCCEEDED')).toBe(true);
  });

  it('costs a fixed number of statements per batch of events, and one per attempt', async () => {
    const { app, session, rx, webhook } = await setup();
    const vars = { a: app.id, w: webhook.id };
    dataOf(await gw.gql(`mutation($a: ID!, $w: ID!) { pauseWebhook(applicationId: $a, webhookId: $w) { id } }`, vars));
    await emit(gw, app.id, session, 60);
    const deliverer = gw.server.services.webhooks;
    const before = deliverer.statements;
    const started = Date.now();
    dataOf(await gw.gql(`mutation($a: ID!, $w: ID!) { resumeWebhook(applicationId: $a, webhookId: $w) { id } }`, vars));
    await rx.until(60);
    const used = deliverer.statements - before;
    // 60 attempts; the claim, the owner, its permissions and the events of the batch; one claim
    // per second of polling; a few for holders of earlier tests that the resume woke.
    const polls = Math.ceil((Date.now() - started) / 1000) + 1;
    expect(used).toBeGreaterThanOrEqual(60);
    expect(used).toBeLessThanOrEqual(60 + 4 + polls + 6);
  });

  it('filters by event types and by session', async () => {
    const app = await createApplication(gw);
    const one = await createSession(gw, app.id);
    const two = await createSession(gw, app.id);
    const byType = await receiver();
    const bySession = await receiver();
    await createWebhook(gw, { applicationId: app.id, url: byType.url, types: ['SESSION_CLOSED'] });
    await createWebhook(gw, { applicationId: app.id, url: bySession.url, sessionId: two });
    await emit(gw, app.id, one, 2);
    const [inTwo] = await emit(gw, app.id, two, 1);
    dataOf(await gw.gql(`mutation($a: ID!, $s: ID!) { closeSession(applicationId: $a, sessionId: $s) { id } }`, { a: app.id, s: one }));
    await byType.until(1);
    await bySession.until(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(byType.requests.map((r) => [r.event.type, r.event.sessionId])).toEqual([['SESSION_CLOSED', one]]);
    expect(bySession.requests.map((r) => r.event.id)).toEqual([inTwo]);
  });

  it('retries a failing receiver with exponential back-off, keeping later events behind the failing one', async () => {
    const app = await createApplication(gw);
    const session = await createSession(gw, app.id);
    const rx = await receiver((_request, index) => (index < 3 ? 503 : 200));
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: rx.url });
    const ids = await emit(gw, app.id, session, 4);
    await rx.until(7);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(rx.requests.map((r) => r.headers['webhook-id'])).toEqual([ids[0], ids[0], ids[0], ids[0], ids[1], ids[2], ids[3]]);
    const log = await deliveries(gw, app.id, webhook.id);
    expect(log.map((d) => [d.eventId, d.attempt, d.status, d.statusCode, d.error])).toEqual([
      [ids[0], 1, 'FAILED', 503, 'HTTP 503'],
      [ids[0], 2, 'FAILED', 503, 'HTTP 503'],
      [ids[0], 3, 'FAILED', 503, 'HTTP 503'],
      [ids[0], 4, 'SUCCEEDED', 200, null],
      [ids[1], 1, 'SUCCEEDED', 200, null],
      [ids[2], 1, 'SUCCEEDED', 200, null],
      [ids[3], 1, 'SUCCEEDED', 200, null],
    ]);
    // Retry n waits at least half of WEBHOOK_BACKOFF_MS × 4^(n-1) (the jitter takes off up to half).
    const base = gw.config.webhooks.backoffMs;
    for (let n = 1; n <= 3; n++) {
      const waited = Date.parse(log[n]!.createdAt) - Date.parse(log[n - 1]!.createdAt);
      expect(waited).toBeGreaterThanOrEqual((base * 4 ** (n - 1)) / 2);
    }
    expect(await webhookState(gw, app.id, webhook.id)).toMatchObject({ status: 'ACTIVE', failedAttempts: 0, nextAttemptAt: null, lag: 0 });
  });

  it('redelivers one event on request, outside the stream, with the same webhook-id', async () => {
    const { app, session, rx, webhook } = await setup();
    const [first, second] = await emit(gw, app.id, session, 2);
    await rx.until(2);
    await until(async () => (await webhookState(gw, app.id, webhook.id)).lag === 0);
    const cursor = (await webhookState(gw, app.id, webhook.id)).cursor;
    const again = dataOf(await gw.gql(REDELIVER, { a: app.id, w: webhook.id, e: first })).redeliverWebhookEvent;
    expect(again).toMatchObject({ eventId: first, redelivery: true, status: 'SUCCEEDED', statusCode: 200, attempt: 1 });
    expect(rx.requests).toHaveLength(3);
    expect(rx.requests[2]!.headers['webhook-id']).toBe(first);
    expect(rx.requests[2]!.verified).toEqual([true]);
    expect(rx.requests[2]!.event).toEqual(rx.requests[0]!.event);
    expect((await webhookState(gw, app.id, webhook.id)).cursor).toBe(cursor);
    expect((await deliveries(gw, app.id, webhook.id)).map((d) => [d.eventId, d.redelivery])).toEqual([
      [first, false],
      [second, false],
      [first, true],
    ]);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(codesOf(await gw.gql(REDELIVER, { a: app.id, w: webhook.id, e: unknown }))).toEqual(['NOT_FOUND']);
    expect(codesOf(await gw.gql(REDELIVER, { a: app.id, w: webhook.id, e: 'nope' }))).toEqual(['NOT_FOUND']);
    const typed = await createWebhook(gw, { applicationId: app.id, url: rx.url, types: ['SESSION_CLOSED'] });
    expect(codesOf(await gw.gql(REDELIVER, { a: app.id, w: typed.webhook.id, e: first }))).toEqual(['NOT_FOUND']);
  });

  it('signs with both the new and the old secret during the grace period of a rotation, then with the new one only', async () => {
    const { app, session, rx, secret, webhook } = await setup();
    const rotated = dataOf(await gw.gql(ROTATE_SECRET, { a: app.id, w: webhook.id, grace: 3600 })).rotateWebhookSecret;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    expect(Date.parse(rotated.webhook.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(3500_000);
    rx.secrets = [secret, rotated.secret];
    await emit(gw, app.id, session, 1);
    const [during] = await rx.until(1);
    expect(during!.verified).toEqual([true, true]);
    expect(String(during!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    const again = dataOf(await gw.gql(ROTATE_SECRET, { a: app.id, w: webhook.id, grace: 0 })).rotateWebhookSecret;
    expect(again.webhook.previousSecretExpiresAt).toBeNull();
    rx.secrets = [secret, rotated.secret, again.secret];
    await emit(gw, app.id, session, 1, 1);
    const after = (await rx.until(2))[1]!;
    expect(after.verified).toEqual([false, false, true]);
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
  });

  it('sends to the new URL after updateWebhook, from where the cursor stood', async () => {
    const { app, session, rx, webhook } = await setup();
    await emit(gw, app.id, session, 1);
    await rx.until(1);
    await until(async () => (await webhookState(gw, app.id, webhook.id)).lag === 0);
    const before = await webhookState(gw, app.id, webhook.id);
    const next = await receiver();
    const developer = await userWithRole(gw, app.id, app.roles.Developer!);
    const updated = dataOf(await gw.gql(UPDATE_WEBHOOK, { a: app.id, w: webhook.id, input: { url: next.url } }, developer.token)).updateWebhook;
    expect(updated).toMatchObject({ url: next.url, ownerId: developer.id, createdBy: webhook.createdBy, cursor: before.cursor });
    const [later] = await emit(gw, app.id, session, 1, 1);
    const [request] = await next.until(1);
    expect(request!.headers['webhook-id']).toBe(later);
    expect(rx.requests).toHaveLength(1);
  });
});

describe('webhook metrics', () => {
  it('count attempts and failures, observe the delivery lag, and show each webhook\'s lag in events', async () => {
    const app = await createApplication(gw);
    const session = await createSession(gw, app.id);
    const rx = await receiver((_request, index) => (index === 0 ? 500 : 200));
    const paused = await receiver();
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: rx.url });
    const stopped = await createWebhook(gw, { applicationId: app.id, url: paused.url });
    dataOf(await gw.gql(`mutation($a: ID!, $w: ID!) { pauseWebhook(applicationId: $a, webhookId: $w) { id } }`, { a: app.id, w: stopped.webhook.id }));
    const before = {
      success: (await metric(gw, 'skylight_webhook_attempts_total', { outcome: 'success' })) ?? 0,
      failure: (await metric(gw, 'skylight_webhook_attempts_total', { outcome: 'failure' })) ?? 0,
      status: (await metric(gw, 'skylight_webhook_failures_total', { reason: 'status' })) ?? 0,
      lag: (await metric(gw, 'skylight_webhook_delivery_lag_seconds_count')) ?? 0,
    };
    await emit(gw, app.id, session, 2);
    await rx.until(3);
    await until(async () => (await webhookState(gw, app.id, webhook.id)).lag === 0);
    expect(await metric(gw, 'skylight_webhook_attempts_total', { outcome: 'success' })).toBe(before.success + 2);
    expect(await metric(gw, 'skylight_webhook_attempts_total', { outcome: 'failure' })).toBe(before.failure + 1);
    expect(await metric(gw, 'skylight_webhook_failures_total', { reason: 'status' })).toBe(before.status + 1);
    expect(await metric(gw, 'skylight_webhook_delivery_lag_seconds_count')).toBe(before.lag + 2);
    expect(await metric(gw, 'skylight_webhook_lag_events', { webhook_id: webhook.id })).toBe(0);
    expect(await metric(gw, 'skylight_webhook_lag_events', { webhook_id: stopped.webhook.id })).toBe(2);
  });
});

describe('webhooks that never answer (WEBHOOK_TIMEOUT_MS, WEBHOOK_MAX_ATTEMPTS)', () => {
  let slow: TestGateway;
  beforeAll(async () => {
    slow = await startGateway({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '300', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_BACKOFF_MS: '20' });
  });
  afterAll(() => slow?.stop());

  it('time out, are paused after the last attempt with the reason, and resume from the failed event', async () => {
    const app = await createApplication(slow);
    const session = await createSession(slow, app.id);
    let answering = false;
    const rx = await receiver(() => (answering ? 200 : 'hang'));
    const { webhook } = await createWebhook(slow, { applicationId: app.id, url: rx.url });
    const ids = await emit(slow, app.id, session, 3);
    await until(async () => (await webhookState(slow, app.id, webhook.id)).status === 'PAUSED', 15_000, 'paused');
    const paused = await webhookState(slow, app.id, webhook.id);
    expect(paused).toMatchObject({ pauseReason: 'DELIVERY_FAILED', failedAttempts: 3, lag: 3 });
    expect(paused.pauseMessage).toContain(ids[0]);
    expect(paused.pauseMessage).toContain('No answer within 300 ms');
    const log = await deliveries(slow, app.id, webhook.id);
    expect(log.map((d) => [d.eventId, d.attempt, d.status, d.statusCode, d.error])).toEqual(
      [1, 2, 3].map((n) => [ids[0], n, 'FAILED', null, 'No answer within 300 ms']),
    );
    for (const attempt of log) expect(attempt.durationMs).toBeGreaterThanOrEqual(290);
    expect(rx.requests.map((r) => r.headers['webhook-id'])).toEqual([ids[0], ids[0], ids[0]]);

    answering = true;
    const resumed = dataOf(await slow.gql(`mutation($a: ID!, $w: ID!) { resumeWebhook(applicationId: $a, webhookId: $w) { status pauseReason failedAttempts } }`, { a: app.id, w: webhook.id }));
    expect(resumed.resumeWebhook).toEqual({ status: 'ACTIVE', pauseReason: null, failedAttempts: 0 });
    await rx.until(6);
    expect(rx.requests.slice(3).map((r) => r.headers['webhook-id'])).toEqual(ids);
    await until(async () => (await webhookState(slow, app.id, webhook.id)).lag === 0);
    expect(await metric(slow, 'skylight_webhook_failures_total', { reason: 'timeout' })).toBe(3);
  });
});
