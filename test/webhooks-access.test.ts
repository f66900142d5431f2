// Issue 15: a webhook receives only what its owner may read at delivery time (the rules of the
// `events` history), and stops, paused with the reason, once its owner may no longer read the
// application or manage its webhooks. Whoever sets its URL becomes the owner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, createRole, dataOf } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.ts';
import { RESUME_WEBHOOK, UPDATE_WEBHOOK, createSession, createWebhook, emit, until, webhookState } from './helpers/webhooks.ts';
import { userWithRole } from './helpers/factories.ts';

const MANAGE = 'application:webhooks:manage';
const ADD_PARTICIPANT = `mutation($a: ID!, $s: ID!, $u: ID!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: { id: $u }) { id } }`;
const REMOVE_ROLE = `mutation($a: ID!, $r: ID!, $u: ID!) { removeRoleParticipant(applicationId: $a, roleId: $r, participant: { id: $u }) { id } }`;

let gw: TestGateway;
const receivers: Receiver[] = [];
beforeAll(async () => {
  gw = await startGateway({ WEBHOOK_ALLOW_PRIVATE: 'true' });
});
afterAll(async () => {
  await gw?.stop();
  for (const receiver of receivers) await receiver.close();
});

async function receiver() {
  const started = await startReceiver();
  receivers.push(started);
  return started;
}

describe('what a webhook receives', () => {
  it("is what its owner may read: a participant-only owner gets the events of its sessions, and the cursor passes over the rest", async () => {
    const app = await createApplication(gw);
    const role = await createRole(gw, app.id, ['application:read', 'session:read:participant', MANAGE]);
    const owner = await userWithRole(gw, app.id, role);
    const mine = await createSession(gw, app.id);
    const theirs = await createSession(gw, app.id);
    dataOf(await gw.gql(ADD_PARTICIPANT, { a: app.id, s: mine, u: owner.id }));
    const rx = await receiver();
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: rx.url, types: ['SESSION_EVENT_CREATED'] }, owner.token);
    const expected: string[] = [];
    for (let n = 0; n < 3; n++) {
      expected.push(...(await emit(gw, app.id, mine, 1, n)));
      await emit(gw, app.id, theirs, 1, n);
    }
    await rx.until(3);
    await until(async () => (await webhookState(gw, app.id, webhook.id)).lag === 0, 15_000, 'cursor past the unreadable events');
    expect(rx.requests.map((r) => r.event.id)).toEqual(expected);
    expect(rx.requests.every((r) => r.event.sessionId === mine)).toBe(true);
  });

  it('stops when its owner loses access: paused with the reason; setting the URL takes it over and resuming delivers what waited', async () => {
    const app = await createApplication(gw);
    const session = await createSession(gw, app.id);
    const owner = await userWithRole(gw, app.id, app.roles.Developer!);
    const rx = await receiver();
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: rx.url }, owner.token);
    const [before] = await emit(gw, app.id, session, 1);
    await rx.until(1);
    dataOf(await gw.gql(REMOVE_ROLE, { a: app.id, r: app.roles.Developer!, u: owner.id }));
    const waiting = await emit(gw, app.id, session, 2, 1);
    await until(async () => (await webhookState(gw, app.id, webhook.id)).status === 'PAUSED', 15_000, 'paused');
    const paused = await webhookState(gw, app.id, webhook.id);
    expect(paused).toMatchObject({ pauseReason: 'OWNER_LOST_ACCESS', lag: 2 });
    expect(paused.pauseMessage).toContain(owner.username);
    expect(rx.requests.map((r) => r.event.id)).toEqual([before]);

    const successor = await userWithRole(gw, app.id, app.roles.Developer!);
    const taken = dataOf(await gw.gql(UPDATE_WEBHOOK, { a: app.id, w: webhook.id, input: { url: rx.url } }, successor.token)).updateWebhook;
    expect(taken).toMatchObject({ ownerId: successor.id, status: 'PAUSED' });
    dataOf(await gw.gql(RESUME_WEBHOOK, { a: app.id, w: webhook.id }, successor.token));
    await rx.until(3);
    expect(rx.requests.map((r) => r.event.id)).toEqual([before, ...waiting]);
  });

  it('stops for an owner who keeps application:read but loses application:webhooks:manage', async () => {
    const app = await createApplication(gw);
    const session = await createSession(gw, app.id);
    const integrator = await createRole(gw, app.id, [MANAGE]);
    const owner = await userWithRole(gw, app.id, app.roles.Manager!);
    dataOf(
      await gw.gql(`mutation($a: ID!, $r: ID!, $u: ID!) { addRoleParticipant(applicationId: $a, roleId: $r, participant: { id: $u }) { id } }`, {
        a: app.id,
        r: integrator,
        u: owner.id,
      }),
    );
    const rx = await receiver();
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: rx.url }, owner.token);
    await emit(gw, app.id, session, 1);
    await rx.until(1);
    dataOf(await gw.gql(REMOVE_ROLE, { a: app.id, r: integrator, u: owner.id }));
    await emit(gw, app.id, session, 1, 1);
    await until(async () => (await webhookState(gw, app.id, webhook.id)).status === 'PAUSED', 15_000, 'paused');
    expect((await webhookState(gw, app.id, webhook.id)).pauseReason).toBe('OWNER_LOST_ACCESS');
    expect(rx.requests).toHaveLength(1);
  });
});
