// SPEC 5 faults: a LISTEN connection that goes silent without closing (a half-open link, a
// frozen network path) is noticed by the heartbeat within seconds, replaced, and the hub
// catches up from the last position it read: nothing is lost.
import { createServer, connect, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPrincipals } from '../src/access/principal.ts';
import { AccessRegistry } from '../src/access/registry.ts';
import { openDatabase, type DatabaseHandle } from '../src/db/client.ts';
import { EventHub } from '../src/events/hub.ts';
import { appendEvents, EventType } from '../src/events/log.ts';
import { onRealPostgres, createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { ensureBuiltinAdmin } from '../src/domain/identity.ts';
import { applicationTable } from '../src/db/schema.ts';
import type { EventRow } from '../src/events/log.ts';

/** A TCP proxy to PostgreSQL that can freeze its open connections (they stay open, nothing passes). */
function freezableProxy(target: { host: string; port: number }) {
  const pairs: { client: Socket; upstream: Socket; frozen: boolean }[] = [];
  const server: Server = createServer((client) => {
    const pair = { client, upstream: connect(target.port, target.host), frozen: false };
    pairs.push(pair);
    client.on('data', (chunk) => pair.frozen || pair.upstream.write(chunk));
    pair.upstream.on('data', (chunk) => pair.frozen || client.write(chunk));
    const end = () => {
      client.destroy();
      pair.upstream.destroy();
    };
    client.on('close', end).on('error', end);
    pair.upstream.on('close', end).on('error', end);
  });
  return {
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))),
    freezeAll: () => pairs.forEach((pair) => (pair.frozen = true)),
    close: () => {
      pairs.forEach((pair) => (pair.client.destroy(), pair.upstream.destroy()));
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(!onRealPostgres)('a silent LISTEN connection (needs the real server: PGlite has no connection to lose)', () => {
  let database: TestDatabase;
  let proxied: DatabaseHandle;
  let proxy: ReturnType<typeof freezableProxy>;
  let hub: EventHub;

  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url!);
    proxy = freezableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${await proxy.listen()}`;
    proxied = await openDatabase({ url: url.toString(), max: 1 });
    // Reads go straight to the database; only the LISTEN connection goes through the proxy.
    hub = new EventHub({
      database: database.handle,
      access: new AccessRegistry({ recheckMs: 10_000 }),
      listenVia: proxied.sql,
      logger: pino({ level: 'silent' }),
      pollIntervalMs: 0,
      heartbeatMs: 500,
    });
    await hub.start();
  });
  afterAll(async () => {
    await hub?.stop();
    await proxied?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('is replaced within seconds and the events committed meanwhile are delivered in order', async () => {
    const db = database.handle.db;
    await ensureBuiltinAdmin(db);
    const admin = await db.query.userTable.findFirst({ where: { username: 'admin' } });
    const [app] = await db.insert(applicationTable).values({ name: 'faults' }).returning();
    const append = (n: number) =>
      db.transaction((tx) =>
        appendEvents(tx, [{ type: EventType.APPLICATION_MEDIA_CREATED, applicationId: app!.id, userId: null, payload: { n } }]),
      );
    const viewer = (await loadPrincipals(db, [admin!.id])).get(admin!.id)!;
    const subscription = await hub.subscribe({ viewer, applicationId: app!.id });
    const received: EventRow[] = [];
    const reading = (async () => {
      for await (const item of subscription) {
        if ('failure' in item) throw item.failure;
        received.push(item);
        if (received.length === 6) return;
      }
    })();
    for (let n = 0; n < 3; n++) await append(n);
    while (received.length < 3) await new Promise((resolve) => setTimeout(resolve, 20));

    proxy.freezeAll();
    const frozenAt = Date.now();
    for (let n = 3; n < 6; n++) await append(n);
    await reading;
    const took = Date.now() - frozenAt;
    expect(took).toBeGreaterThan(1000);
    expect(took).toBeLessThan(9000);
    expect(received.map((event) => (event.payload as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5]);
    await subscription.return();
  });
});
