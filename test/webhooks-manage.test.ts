// Issue 15: managing webhooks. application:webhooks:manage (Owner and Developer by default,
// granted by no other permission) is needed to see or change them; the signing secret is shown
// once and stored sealed; bad input changes nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ROLES, expandPermissions } from '../src/auth/permissions.ts';
import { webhookTable } from '../src/db/schema.ts';
import { rowsOf } from '../src/domain/rows.ts';
import { codesOf, createApplication, createRole, createUser, dataOf, userWithRole } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import {
  APPLICATION_WEBHOOKS,
  CREATE_WEBHOOK,
  DELETE_WEBHOOK,
  PAUSE_WEBHOOK,
  RESUME_WEBHOOK,
  ROTATE_SECRET,
  UPDATE_WEBHOOK,
  WEBHOOK,
  createSession,
  createWebhook,
  emit,
} from './helpers/webhooks.ts';

const URL_A = 'http://127.0.0.1:9/a';
const URL_B = 'http://127.0.0.1:9/b';
const MANAGE = 'application:webhooks:manage';

let gw: TestGateway;
beforeAll(async () => {
  // Nothing listens on port 9: deliveries fail quietly with long back-offs while these tests look at settings.
  gw = await startGateway({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_BACKOFF_MS: '3600000' });
});
afterAll(() => gw?.stop());

const webhookCount = async () => rowsOf<{ n: number }>(await gw.db.execute(sql`select count(*)::int as n from webhook`))[0]!.n;

describe('the permission application:webhooks:manage', () => {
  it('is in the Owner and Developer default roles and is granted by no other permission', async () => {
    const app = await createApplication(gw);
    const roles = dataOf(await gw.gql(`query($a: ID!) { roles(applicationId: $a) { name permissions } }`, { a: app.id })).roles;
    const holders = roles.filter((role: any) => role.permissions.includes(MANAGE)).map((role: any) => role.name);
    expect(holders.sort()).toEqual(['Developer', 'Owner']);
    expect(DEFAULT_ROLES.filter((role) => expandPermissions(role.permissions).includes(MANAGE)).map((r) => r.name).sort()).toEqual([
      'Developer',
      'Owner',
    ]);
    const everythingElse = expandPermissions(DEFAULT_ROLES.find((r) => r.name === 'Owner')!.permissions.filter((p) => p !== MANAGE));
    expect(everythingElse).not.toContain(MANAGE);
  });

  it('is needed to see Application.webhooks and to manage webhooks; application:read alone sees null with FORBIDDEN', async () => {
    const app = await createApplication(gw);
    const developer = await userWithRole(gw, app.id, app.roles.Developer!);
    const manager = await userWithRole(gw, app.id, app.roles.Manager!);
    const custom = await userWithRole(gw, app.id, await createRole(gw, app.id, ['application:read', MANAGE]));
    const outsider = await createUser(gw);
    const created = await createWebhook(gw, { applicationId: app.id, url: URL_A }, developer.token);
    expect(created.webhook).toMatchObject({ applicationId: app.id, url: URL_A, status: 'ACTIVE', createdBy: developer.id, ownerId: developer.id });

    for (const user of [developer, custom]) {
      const seen = dataOf(await gw.gql(APPLICATION_WEBHOOKS, { a: app.id }, user.token)).application.webhooks;
      expect(seen.map((w: any) => w.id)).toEqual([created.webhook.id]);
    }
    const hidden = await gw.gql(APPLICATION_WEBHOOKS, { a: app.id }, manager.token);
    expect(hidden.data?.application).toMatchObject({ id: app.id, webhooks: null });
    expect(codesOf(hidden)).toEqual(['FORBIDDEN']);
    expect(hidden.errors![0]!.path).toEqual(['application', 'webhooks']);

    const vars = { a: app.id, w: created.webhook.id };
    expect(codesOf(await gw.gql(WEBHOOK, vars, manager.token))).toEqual(['FORBIDDEN']);
    expect(codesOf(await gw.gql(WEBHOOK, vars, outsider.token))).toEqual(['NOT_FOUND']);
    const before = await webhookCount();
    expect(codesOf(await gw.gql(CREATE_WEBHOOK, { input: { applicationId: app.id, url: URL_B } }, manager.token))).toEqual(['FORBIDDEN']);
    expect(codesOf(await gw.gql(CREATE_WEBHOOK, { input: { applicationId: app.id, url: URL_B } }, outsider.token))).toEqual(['NOT_FOUND']);
    expect(codesOf(await gw.gql(CREATE_WEBHOOK, { input: { applicationId: app.id, url: URL_B } }, null))).toEqual(['UNAUTHENTICATED']);
    for (const mutation of [PAUSE_WEBHOOK, RESUME_WEBHOOK, DELETE_WEBHOOK, ROTATE_SECRET]) {
      expect(codesOf(await gw.gql(mutation, vars, manager.token))).toEqual(['FORBIDDEN']);
      expect(codesOf(await gw.gql(mutation, vars, outsider.token))).toEqual(['NOT_FOUND']);
    }
    expect(codesOf(await gw.gql(UPDATE_WEBHOOK, { ...vars, input: { url: URL_B } }, manager.token))).toEqual(['FORBIDDEN']);
    expect(await webhookCount()).toBe(before);
    expect(dataOf(await gw.gql(WEBHOOK, vars)).webhook).toMatchObject({ url: URL_A, status: 'ACTIVE' });
  });

  it('reaches the default roles of applications created before it existed (the migration)', async () => {
    const app = await createApplication(gw);
    const custom = await createRole(gw, app.id, ['application:read']);
    // As those roles were stored before the permission existed.
    await gw.db.execute(sql`update role set permissions = array_remove(permissions, ${MANAGE}) where application_id = ${app.id}`);
    const folder = readdirSync(new URL('../drizzle/', import.meta.url)).find((name) => name.endsWith('_webhooks_permission'))!;
    const migration = readFileSync(new URL(`../drizzle/${folder}/migration.sql`, import.meta.url), 'utf8');
    await gw.db.execute(sql.raw(migration));
    await gw.db.execute(sql.raw(migration));
    const roles = rowsOf<{ id: string; name: string; permissions: string[] }>(
      await gw.db.execute(sql`select id, name, permissions from role where application_id = ${app.id} order by name`),
    );
    const holding = Object.fromEntries(roles.map((role) => [role.id === custom ? 'custom' : role.name, role.permissions.filter((p) => p === MANAGE).length]));
    expect(holding).toEqual({ Developer: 1, Manager: 0, Owner: 1, User: 0, custom: 0 });
  });
});

describe('webhook settings', () => {
  it('answers the secret once, in the Standard Webhooks format, and stores it sealed', async () => {
    const app = await createApplication(gw);
    const { secret, webhook } = await createWebhook(gw, { applicationId: app.id, url: URL_A });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const introspection = dataOf(await gw.gql(`{ __type(name: "Webhook") { fields { name } } }`)).__type.fields.map((f: any) => f.name);
    expect(introspection.filter((name: string) => /secret/i.test(name))).toEqual(['previousSecretExpiresAt']);
    const [row] = await gw.db.select().from(webhookTable).where(sql`${webhookTable.id} = ${webhook.id}`);
    expect(row!.secret).not.toContain(secret.slice(6));
    expect(row!.secret).toMatch(/^v1\.[0-9a-f]{12}\./);
    const again = await createWebhook(gw, { applicationId: app.id, url: URL_A });
    expect(again.secret).not.toBe(secret);
  });

  it('changes URL and filters with updateWebhook, keeping the cursor; setting the URL makes the caller the owner', async () => {
    const app = await createApplication(gw);
    const session = await createSession(gw, app.id);
    const developer = await userWithRole(gw, app.id, app.roles.Developer!);
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: URL_A });
    const vars = { a: app.id, w: webhook.id };
    const typed = dataOf(await gw.gql(UPDATE_WEBHOOK, { ...vars, input: { types: ['SESSION_CLOSED'], sessionId: session } }, developer.token)).updateWebhook;
    expect(typed).toMatchObject({ url: URL_A, types: ['SESSION_CLOSED'], sessionId: session, ownerId: webhook.ownerId, modifiedBy: developer.id, cursor: webhook.cursor });
    const moved = dataOf(await gw.gql(UPDATE_WEBHOOK, { ...vars, input: { url: URL_B } }, developer.token)).updateWebhook;
    expect(moved).toMatchObject({ url: URL_B, types: ['SESSION_CLOSED'], sessionId: session, ownerId: developer.id, createdBy: webhook.createdBy });
    const cleared = dataOf(await gw.gql(UPDATE_WEBHOOK, { ...vars, input: { types: [], sessionId: null } })).updateWebhook;
    expect(cleared).toMatchObject({ types: null, sessionId: null, ownerId: developer.id });
  });

  it('refuses bad input with BAD_USER_INPUT or NOT_FOUND and changes nothing', async () => {
    const app = await createApplication(gw);
    const other = await createApplication(gw);
    const otherSession = await createSession(gw, other.id);
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: URL_A });
    const before = await webhookCount();
    const create = (input: Record<string, unknown>) => gw.gql(CREATE_WEBHOOK, { input: { applicationId: app.id, url: URL_A, ...input } });
    for (const url of ['not a url', 'ftp://127.0.0.1/x', 'file:///etc/passwd', 'http://user:pass@127.0.0.1/x', `http://127.0.0.1/${'x'.repeat(2100)}`]) {
      const answer = await create({ url });
      expect(codesOf(answer), url).toEqual(['BAD_USER_INPUT']);
      expect(answer.errors![0]!.extensions!.field).toBe('input.url');
    }
    expect(codesOf(await create({ types: ['NOT_A_TYPE'] }))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await create({ sessionId: otherSession }))).toEqual(['NOT_FOUND']);
    expect(codesOf(await create({ sessionId: 'nope' }))).toEqual(['NOT_FOUND']);
    expect(codesOf(await create({ after: 'bm90IGEgY3Vyc29y' }))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await create({ after: Buffer.from('event:999999999').toString('base64url') }))).toEqual(['BAD_USER_INPUT']);
    expect(await webhookCount()).toBe(before);

    const vars = { a: app.id, w: webhook.id };
    expect(codesOf(await gw.gql(UPDATE_WEBHOOK, { ...vars, input: { url: 'gopher://x' } }))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await gw.gql(UPDATE_WEBHOOK, { ...vars, input: { url: null } }))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await gw.gql(UPDATE_WEBHOOK, { ...vars, input: { sessionId: otherSession } }))).toEqual(['NOT_FOUND']);
    expect(codesOf(await gw.gql(ROTATE_SECRET, { ...vars, grace: -1 }))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await gw.gql(ROTATE_SECRET, { ...vars, grace: 8 * 24 * 3600 }))).toEqual(['BAD_USER_INPUT']);
    expect(dataOf(await gw.gql(WEBHOOK, vars)).webhook).toMatchObject({ url: URL_A, sessionId: null, previousSecretExpiresAt: null });

    for (const mutation of [PAUSE_WEBHOOK, RESUME_WEBHOOK, DELETE_WEBHOOK, ROTATE_SECRET]) {
      expect(codesOf(await gw.gql(mutation, { a: other.id, w: webhook.id }))).toEqual(['NOT_FOUND']);
      expect(codesOf(await gw.gql(mutation, { a: app.id, w: 'nope' }))).toEqual(['NOT_FOUND']);
    }
    expect(codesOf(await gw.gql(WEBHOOK, { a: other.id, w: webhook.id }))).toEqual(['NOT_FOUND']);
    expect(await webhookCount()).toBe(before);
  });

  it('starts after a given cursor, replaying what followed it', async () => {
    const app = await createApplication(gw);
    const session = await createSession(gw, app.id);
    const [first] = await emit(gw, app.id, session, 3);
    const cursor = dataOf(await gw.gql(`query($a: ID!) { events(applicationId: $a, first: 100) { edges { cursor node { id } } } }`, { a: app.id })).events.edges.find(
      (edge: any) => edge.node.id === first,
    ).cursor;
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: URL_A, after: cursor });
    expect(webhook.cursor).toBe(cursor);
    expect(webhook.lag).toBe(2);
  });

  it('pauses, resumes and deletes', async () => {
    const app = await createApplication(gw);
    const { webhook } = await createWebhook(gw, { applicationId: app.id, url: URL_A });
    const vars = { a: app.id, w: webhook.id };
    const paused = dataOf(await gw.gql(PAUSE_WEBHOOK, vars)).pauseWebhook;
    expect(paused).toMatchObject({ status: 'PAUSED', pauseReason: 'PAUSED_BY_USER' });
    expect(paused.pausedAt).toBeTruthy();
    expect(dataOf(await gw.gql(PAUSE_WEBHOOK, vars)).pauseWebhook).toMatchObject({ status: 'PAUSED', pausedAt: paused.pausedAt });
    expect(dataOf(await gw.gql(RESUME_WEBHOOK, vars)).resumeWebhook).toMatchObject({ status: 'ACTIVE', pauseReason: null, pauseMessage: null, pausedAt: null });
    expect(dataOf(await gw.gql(DELETE_WEBHOOK, vars)).deleteWebhook).toBe(webhook.id);
    expect(codesOf(await gw.gql(WEBHOOK, vars))).toEqual(['NOT_FOUND']);
    expect(codesOf(await gw.gql(DELETE_WEBHOOK, vars))).toEqual(['NOT_FOUND']);
    expect(dataOf(await gw.gql(APPLICATION_WEBHOOKS, { a: app.id })).application.webhooks).toEqual([]);
  });

  it('needs the session of a session filter to be readable by the caller', async () => {
    const app = await createApplication(gw);
    const session = await createSession(gw, app.id);
    const reader = await userWithRole(gw, app.id, await createRole(gw, app.id, ['application:read', 'session:read:participant', MANAGE]));
    const answer = await gw.gql(CREATE_WEBHOOK, { input: { applicationId: app.id, url: URL_A, sessionId: session } }, reader.token);
    expect(codesOf(answer)).toEqual(['NOT_FOUND']);
    expect(dataOf(await gw.gql(CREATE_WEBHOOK, { input: { applicationId: app.id, url: URL_A } }, reader.token)).createWebhook.webhook.ownerId).toBe(reader.id);
  });
});
