// Every access rule of src/access/rules.ts, run in both of its forms (the SQL predicate and the
// in-memory check) for every kind of viewer on the same rows of a real database, must give the
// same answer; and the answers that the spec fixes are checked by name. A rule added to `rules`
// without a row in CASES fails the first test.
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSessionFacts } from '../src/access/facts.ts';
import { loadPrincipals, type Principal } from '../src/access/principal.ts';
import { rules, type RuleName, type SessionFacts } from '../src/access/rules.ts';
import { PERMISSIONS } from '../src/auth/permissions.ts';
import { applicationTable, eventTable, groupTable, mediaTable, sessionTable, userTable } from '../src/db/schema.ts';
import { createApplication, createRole, createUser, dataOf, grantRole, type TestUser } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { postMultipart, pngImage, uploadPhoto } from './helpers/media.ts';

type Row = Record<string, any>;

/** One rule over one table: the ids its SQL form selects, and the ids its check accepts among all rows. */
interface Case {
  rows: () => Promise<Row[]>;
  sql: (viewer: Principal) => Promise<string[]>;
  check: (viewer: Principal, row: Row) => boolean;
}

describe('the access rules: one answer from the SQL and the in-memory form, for every viewer', () => {
  let gw: TestGateway;
  let db: TestGateway['db'];
  const viewers: Record<string, Principal> = {};
  let facts: Map<string, SessionFacts>;
  let app: { id: string; roles: Record<string, string> };
  let other: { id: string; roles: Record<string, string> };
  const sessions: Record<string, string> = {};
  let crew: string;

  const ids = async (table: any, where: SQL) => (await db.select({ id: table.id }).from(table).where(where)).map((row: Row) => row.id as string);
  const all = (table: any) => db.select().from(table);

  const CASES: Record<RuleName, Case[]> = {
    applicationVisible: [
      {
        rows: () => all(applicationTable),
        sql: (v) => ids(applicationTable, rules.applicationVisible.sql(v, applicationTable)),
        check: (v, row) => rules.applicationVisible.check(v, row as { id: string }),
      },
    ],
    permissionHeld: PERMISSIONS.map((permission) => ({
      rows: () => all(applicationTable),
      sql: (v: Principal) => ids(applicationTable, rules.permissionHeld.sql(v, { applicationId: applicationTable.id, permission })),
      check: (v: Principal, row: Row) => rules.permissionHeld.check(v, { applicationId: row.id, permission }),
    })),
    sessionVisible: [
      {
        rows: () => all(sessionTable),
        sql: (v) => ids(sessionTable, rules.sessionVisible.sql(v, sessionTable)),
        check: (v, row) => rules.sessionVisible.check(v, facts.get(row.id)!),
      },
    ],
    sessionChangeable: [
      {
        rows: () => all(sessionTable),
        sql: (v) => ids(sessionTable, rules.sessionChangeable.sql(v, sessionTable)),
        check: (v, row) => rules.sessionChangeable.check(v, facts.get(row.id)!),
      },
    ],
    sessionMediaVisible: [
      {
        rows: async () => (await all(mediaTable)).filter((row: Row) => row.scope === 'SESSION'),
        sql: (v) => ids(mediaTable, sql`${mediaTable.scope} = 'SESSION' and ${rules.sessionMediaVisible.sql(v, mediaTable)}`),
        check: (v, row) => rules.sessionMediaVisible.check(v, { session: facts.get(row.sessionId)! }),
      },
    ],
    mediaOfVisibleSession: [
      {
        rows: async () => (await all(mediaTable)).filter((row: Row) => row.scope === 'SESSION'),
        sql: (v) => ids(mediaTable, sql`${mediaTable.scope} = 'SESSION' and ${rules.mediaOfVisibleSession.sql(v, mediaTable)}`),
        check: (v, row) => rules.mediaOfVisibleSession.check(v, { session: facts.get(row.sessionId)! }),
      },
    ],
    mediaVisible: [
      {
        rows: () => all(mediaTable),
        sql: (v) => ids(mediaTable, rules.mediaVisible.sql(v, mediaTable)),
        check: (v, row) => rules.mediaVisible.check(v, { ...(row as any), session: row.sessionId ? facts.get(row.sessionId)! : null }),
      },
    ],
    eventReadable: [
      {
        rows: () => all(eventTable),
        sql: async (v) =>
          (await db.select({ id: eventTable.id }).from(eventTable).where(rules.eventReadable.sql(v, eventTable))).map((row) => row.id),
        check: (v, row) =>
          rules.eventReadable.check(v, { ...(row as any), session: row.sessionId ? (facts.get(row.sessionId) ?? null) : null }),
      },
    ],
    groupVisible: [
      {
        rows: () => all(groupTable),
        sql: (v) => ids(groupTable, rules.groupVisible.sql(v, groupTable)),
        check: (v, row) => rules.groupVisible.check(v, row as { id: string }),
      },
    ],
    userPrivateFields: [
      {
        rows: () => all(userTable),
        sql: (v) => ids(userTable, rules.userPrivateFields.sql(v, userTable)),
        check: (v, row) => rules.userPrivateFields.check(v, row as { id: string }),
      },
    ],
  };

  const gql = async (query: string, variables: Record<string, unknown> = {}) => dataOf(await gw.gql(query, variables));

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: `/tmp/access-rules-${process.pid}` });
    db = gw.db;
    app = await createApplication(gw);
    other = await createApplication(gw);
    const people: Record<string, TestUser> = {};
    for (const name of ['owner', 'developer', 'manager', 'user', 'custom', 'crewMember', 'integration', 'nobody', 'admin2', 'outsider']) {
      people[name] = await createUser(gw, { isIntegration: name === 'integration', isAdmin: name === 'admin2' });
    }
    await grantRole(gw, app.id, app.roles.Owner!, { id: people.owner!.id });
    await grantRole(gw, app.id, app.roles.Developer!, { id: people.developer!.id });
    await grantRole(gw, app.id, app.roles.Manager!, { id: people.manager!.id });
    await grantRole(gw, app.id, app.roles.User!, { id: people.user!.id });
    await grantRole(gw, app.id, app.roles.Manager!, { id: people.integration!.id });
    await grantRole(gw, other.id, other.roles.User!, { id: people.outsider!.id });
    const custom = await createRole(gw, app.id, ['application:read', 'session:read:participant', 'session:update:any', 'session:media:read:title']);
    await grantRole(gw, app.id, custom, { id: people.custom!.id });
    crew = (await gql(`mutation { createGroup(name: "crew-${Date.now()}") { id } }`)).createGroup.id;
    await gql(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: crew, u: people.crewMember!.id });
    await gql(`mutation { createGroup(name: "others-${Date.now()}") { id } }`);
    await grantRole(gw, app.id, app.roles.User!, { id: crew, type: 'GROUP' });

    const session = async (name: string, participants: { id: string; type: 'USER' | 'GROUP' }[], close = false) => {
      const id = (await gql(`mutation($a: ID!, $n: String!) { createSession(input: { applicationId: $a, name: $n }) { id } }`, { a: app.id, n: name }))
        .createSession.id as string;
      for (const p of participants) {
        await gql(`mutation($a: ID!, $s: ID!, $p: ParticipantInput!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: $p) { id } }`, {
          a: app.id,
          s: id,
          p,
        });
      }
      await uploadPhoto(gw, { applicationId: app.id, sessionId: id }, { title: name });
      await gql(`mutation($a: ID!, $s: ID!) { createSessionEvent(applicationId: $a, sessionId: $s, data: { n: 1 }) { id } }`, { a: app.id, s: id });
      if (close) await gql(`mutation($a: ID!, $s: ID!) { closeSession(applicationId: $a, sessionId: $s) { id } }`, { a: app.id, s: id });
      sessions[name] = id;
    };
    await session('direct', [{ id: people.user!.id, type: 'USER' }, { id: people.custom!.id, type: 'USER' }]);
    await session('group', [{ id: crew, type: 'GROUP' }]);
    await session('none', []);
    await session('closed', [{ id: people.user!.id, type: 'USER' }, { id: people.integration!.id, type: 'USER' }], true);
    await postMultipart(gw, `mutation($a: ID!, $file: Upload!) { uploadApplicationMedia(applicationId: $a, file: $file) { id } }`, { a: app.id }, [
      { name: 'ref.png', type: 'image/png', bytes: pngImage(4, 4, [1, 2, 3]) },
    ]);
    const loaded = await loadPrincipals(db, [...Object.values(people).map((p) => p.id)]);
    for (const [name, person] of Object.entries(people)) viewers[name] = loaded.get(person.id)!;
    const admin = await db.query.userTable.findFirst({ where: { username: 'admin' } });
    viewers.admin = (await loadPrincipals(db, [admin!.id])).get(admin!.id)!;
    facts = await loadSessionFacts(db, Object.values(sessions));
  }, 120_000);
  afterAll(() => gw?.stop());

  it('has cases for every rule', () => {
    for (const name of Object.keys(rules)) expect(CASES[name as RuleName]?.length ?? 0, name).toBeGreaterThan(0);
  });

  it('gives the same answer in SQL and in memory, for every rule and every kind of viewer', async () => {
    let compared = 0;
    for (const [name, cases] of Object.entries(CASES)) {
      for (const kase of cases) {
        const rows = await kase.rows();
        expect(rows.length, name).toBeGreaterThan(0);
        for (const [who, viewer] of Object.entries(viewers)) {
          const bySql = new Set(await kase.sql(viewer));
          const inMemory = new Set(rows.filter((row) => kase.check(viewer, row)).map((row) => row.id as string));
          expect([...bySql].sort(), `${name} for ${who}`).toEqual([...inMemory].sort());
          compared += rows.length;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('Session.media: the media of a visible session are those of sessionMediaVisible, for every viewer', async () => {
    const sessionMedia = sql`${mediaTable.scope} = 'SESSION'`;
    for (const [who, viewer] of Object.entries(viewers)) {
      const visibleSession = sql`exists (select 1 from session v where v.id = ${mediaTable.sessionId} and ${rules.sessionVisible.sql(viewer, {
        id: sql`v.id`,
        applicationId: sql`v.application_id`,
      })})`;
      const throughSession = await ids(mediaTable, sql`${sessionMedia} and ${visibleSession} and ${rules.mediaOfVisibleSession.sql(viewer, mediaTable)}`);
      const direct = await ids(mediaTable, sql`${sessionMedia} and ${rules.sessionMediaVisible.sql(viewer, mediaTable)}`);
      expect(throughSession.sort(), who).toEqual(direct.sort());
    }
    // The rule alone does not ask for visibility: the user holds the media permission, and sees
    // the media of 'none' only through a Session it is never handed.
    const noneMedia = (await all(mediaTable)).find((row: Row) => row.sessionId === sessions.none)!;
    expect(rules.mediaOfVisibleSession.check(viewers.user!, { session: facts.get(noneMedia.sessionId)! })).toBe(true);
    expect(rules.sessionMediaVisible.check(viewers.user!, { session: facts.get(noneMedia.sessionId)! })).toBe(false);
  });

  it('says what the spec says for each kind of viewer', async () => {
    const visible = async (who: string) =>
      (await ids(sessionTable, rules.sessionVisible.sql(viewers[who]!, sessionTable))).map((id) =>
        Object.keys(sessions).find((name) => sessions[name] === id),
      );
    expect((await visible('admin')).sort()).toEqual(['closed', 'direct', 'group', 'none']);
    expect((await visible('manager')).sort()).toEqual(['closed', 'direct', 'group', 'none']);
    expect((await visible('user')).sort()).toEqual(['closed', 'direct']);
    expect((await visible('crewMember')).sort()).toEqual(['group']);
    expect((await visible('custom')).sort()).toEqual(['direct']);
    expect(await visible('nobody')).toEqual([]);
    expect(await visible('outsider')).toEqual([]);

    const closedMedia = (await all(mediaTable)).find((row: Row) => row.sessionId === sessions.closed)!;
    const sees = (who: string) => rules.mediaVisible.check(viewers[who]!, { ...(closedMedia as any), session: facts.get(sessions.closed!)! });
    expect(sees('user')).toBe(false);
    expect(sees('manager')).toBe(false);
    expect(sees('integration')).toBe(true);
    expect(sees('admin')).toBe(true);

    // The custom role reads titles only: its media are listed; a reader with no media permission has none.
    const directMedia = (await all(mediaTable)).find((row: Row) => row.sessionId === sessions.direct)!;
    expect(rules.mediaVisible.check(viewers.custom!, { ...(directMedia as any), session: facts.get(sessions.direct!)! })).toBe(true);
    expect(rules.permissionHeld.check(viewers.custom!, { applicationId: app.id, permission: 'session:media:read:labels' })).toBe(false);
    expect(rules.sessionChangeable.check(viewers.custom!, facts.get(sessions.direct!)!)).toBe(true);
    expect(rules.sessionChangeable.check(viewers.manager!, facts.get(sessions.none!)!)).toBe(true);
    expect(rules.sessionChangeable.check(viewers.user!, facts.get(sessions.none!)!)).toBe(false);

    expect(rules.groupVisible.check(viewers.crewMember!, { id: crew })).toBe(true);
    expect(rules.groupVisible.check(viewers.user!, { id: crew })).toBe(false);
    expect(rules.userPrivateFields.check(viewers.user!, { id: viewers.manager!.id })).toBe(false);
    expect(rules.userPrivateFields.check(viewers.user!, { id: viewers.user!.id })).toBe(true);
  });
});
