// Issue 15: several gateway instances on one database share webhook delivery with one
// deliverer per endpoint at a time, so an endpoint receives each event exactly once and in
// order while everyone is healthy, and at least once, still in order, when the delivering
// instance is killed (kill -9) mid-stream: another takes over from the stored cursor once the
// dead one's lease runs out.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, dataOf } from './helpers/factories.ts';
import { onRealPostgres } from './helpers/database.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { freshStore, gql, startProcess, type GatewayProcess } from './helpers/gateway-process.ts';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.ts';
import { CREATE_SESSION, CREATE_WEBHOOK, CUSTOM_EVENT, createSession, createWebhook, until } from './helpers/webhooks.ts';

const receivers: Receiver[] = [];
afterAll(async () => {
  for (const receiver of receivers) await receiver.close();
});

/** Ids of the events of an application in cursor order, read from the database. */
async function eventIds(url: string, applicationId: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const rows = await sql`select id from event where application_id = ${applicationId} and type = 'SESSION_EVENT_CREATED' order by position`;
  await sql.end();
  return rows.map((row) => row.id as string);
}

/**
 * What at-least-once in order means for what a receiver saw: the first arrivals of the event
 * ids are exactly `expected` in order, and anything else is a repeat of an event already seen
 * (resent after a crash). Answers the number of repeats.
 */
function expectAtLeastOnceInOrder(seen: string[], expected: string[]): number {
  const first: string[] = [];
  const known = new Set<string>();
  for (const id of seen) {
    if (known.has(id)) continue;
    known.add(id);
    first.push(id);
  }
  expect(first).toEqual(expected);
  return seen.length - first.length;
}

describe.skipIf(!onRealPostgres)('two gateway instances on one PostgreSQL (needs the real server: PGlite lives in one process)', () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startGateway({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    b = await a.startAnother();
  });
  afterAll(async () => {
    await b?.server.stop();
    await a?.stop();
  });

  it('deliver each event to each endpoint exactly once, in order, while events are written through both', async () => {
    const app = await createApplication(a);
    const session = await createSession(a, app.id);
    const endpoints = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const rx = await startReceiver();
        receivers.push(rx);
        const { secret, webhook } = await createWebhook(a, { applicationId: app.id, url: rx.url });
        rx.secrets = [secret];
        return { rx, webhook };
      }),
    );
    // Both instances write at once, so commits interleave and both get woken.
    await Promise.all(
      [a, b].map(async (gw, k) => {
        for (let n = 0; n < 25; n++) dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s: session, data: { n, k } }));
      }),
    );
    const ids = await eventIds(a.database.url!, app.id);
    expect(ids).toHaveLength(50);
    for (const { rx } of endpoints) await rx.until(50);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const { rx } of endpoints) {
      expect(rx.requests.map((r) => r.headers['webhook-id'])).toEqual(ids);
      expect(rx.requests.every((r) => r.verified[0])).toBe(true);
    }
    const sql = postgres(a.database.url!, { max: 1, onnotice: () => {} });
    const attempts = await sql`select count(*)::int as n, count(distinct (webhook_id, event_id))::int as distinct_events,
        count(distinct instance)::int as instances, count(*) filter (where status <> 'SUCCEEDED')::int as failed
      from webhook_delivery where webhook_id in ${sql(endpoints.map((e) => e.webhook.id))}`;
    await sql.end();
    expect(attempts[0]).toMatchObject({ n: 300, distinct_events: 300, failed: 0 });
    // Both instances took part (each claims endpoints as they have work).
    expect(attempts[0]!.instances).toBe(2);
  });
});

describe('a graceful restart (PGlite or PostgreSQL)', () => {
  it('loses nothing and repeats nothing: the in-flight attempt finishes, delivery resumes from the stored cursor', async () => {
    const rx = await startReceiver(() => (res) => void setTimeout(() => res.writeHead(200).end('ok'), 40));
    receivers.push(rx);
    const store = await freshStore();
    const env = { WEBHOOK_ALLOW_PRIVATE: 'true' };
    let gateway = await startProcess(env, store);
    const app = (await gql(gateway.port, `mutation { createApplication(input: { name: "restart" }) { id } }`)).createApplication.id;
    const session = (await gql(gateway.port, CREATE_SESSION, { input: { applicationId: app, name: 'stream' } })).createSession.id;
    const created = (await gql(gateway.port, CREATE_WEBHOOK, { input: { applicationId: app, url: rx.url } })).createWebhook;
    rx.secrets = [created.secret];
    const ids: string[] = [];
    for (let n = 0; n < 30; n++) ids.push((await gql(gateway.port, CUSTOM_EVENT, { a: app, s: session, data: { n } })).createSessionEvent.id);
    await rx.until(3);
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    expect(rx.requests.length).toBeLessThan(30);
    gateway = await startProcess(env, store);
    await until(() => new Set(rx.requests.map((r) => r.headers['webhook-id'])).size === 30, 30_000, 'every event delivered');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(rx.requests.map((r) => r.headers['webhook-id'])).toEqual(ids);
    expect(rx.requests.every((r) => r.verified[0])).toBe(true);
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  }, 180_000);
});

describe.skipIf(!onRealPostgres)('kill -9 of the delivering instance (needs the real server: two processes on one database)', () => {
  const env = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_LEASE_MS: '7000', WEBHOOK_TIMEOUT_MS: '5000' };
  let processes: GatewayProcess[];
  let databaseUrl: string;
  beforeAll(async () => {
    const store = await freshStore();
    databaseUrl = store.database!.url!;
    const first = await startProcess(env, store);
    processes = [first, await startProcess(env, store)];
  }, 180_000);

  it('loses nothing: the other instance resends from the stored cursor, in order', async () => {
    // The sixth request is never answered: the deliverer is killed while that attempt is in flight.
    const rx = await startReceiver((_request, index) => (index === 5 ? 'hang' : 200));
    receivers.push(rx);
    const [p1] = processes;
    const app = (await gql(p1!.port, `mutation { createApplication(input: { name: "kill" }) { id } }`)).createApplication.id;
    const session = (await gql(p1!.port, CREATE_SESSION, { input: { applicationId: app, name: 'stream' } })).createSession.id;
    const created = (await gql(p1!.port, CREATE_WEBHOOK, { input: { applicationId: app, url: rx.url } })).createWebhook;
    rx.secrets = [created.secret];
    for (let n = 0; n < 20; n++) await gql(p1!.port, CUSTOM_EVENT, { a: app, s: session, data: { n } });
    await rx.until(6);

    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    const [{ lease_owner: owner }] = await sql`select lease_owner from webhook where id = ${created.webhook.id}`;
    const victim = processes.find((p) => String(owner).split('/')[1] === String(p.child.pid))!;
    const survivor = processes.find((p) => p !== victim)!;
    expect(victim).toBeTruthy();
    victim.child.kill('SIGKILL');
    await victim.exited;
    expect(rx.requests).toHaveLength(6);

    for (let n = 20; n < 30; n++) await gql(survivor.port, CUSTOM_EVENT, { a: app, s: session, data: { n } });
    const ids = await eventIds(databaseUrl, app);
    await until(() => new Set(rx.requests.map((r) => r.headers['webhook-id'])).size === 30, 60_000, 'every event delivered');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The event in flight when the deliverer died arrives a second time; nothing else does.
    const repeats = expectAtLeastOnceInOrder(
      rx.requests.map((r) => String(r.headers['webhook-id'])),
      ids,
    );
    expect(repeats).toBe(1);
    expect(rx.requests[6]!.headers['webhook-id']).toBe(ids[5]);
    expect(rx.requests.every((r) => r.verified[0])).toBe(true);
    const after = await sql`select distinct instance from webhook_delivery where webhook_id = ${created.webhook.id} and event_position >= (
        select position from event where id = ${ids[5]!})`;
    await sql.end();
    expect(after.map((row) => row.instance)).toEqual([expect.stringContaining(`/${survivor.child.pid}/`)]);
    survivor.child.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);
  }, 120_000);
});
