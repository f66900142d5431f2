// People, not just ids: participants carry the names people see, an application lists every
// user and group holding a role in it (for pickers), and what a non-admin sees of other users
// and groups is bounded: id, username and display name of anyone; groups only as far as the
// viewer belongs to them too; another user's admin and integration flags not at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, createApplication, createUser, dataOf, grantRole, type TestUser } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

describe('people', () => {
  let gw: TestGateway;
  let app: { id: string; roles: Record<string, string> };
  let maria: TestUser;
  let ivan: TestUser;
  let outsider: TestUser;
  let crew: string;
  let secret: string;

  const gql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => dataOf(await gw.gql(query, variables, token));

  beforeAll(async () => {
    gw = await startGateway();
    app = await createApplication(gw);
    maria = await createUser(gw, { username: `maria${Date.now()}` });
    ivan = await createUser(gw, { username: `ivan${Date.now()}` });
    outsider = await createUser(gw);
    await gql(`mutation($u: ID!) { updateUser(userId: $u, input: { displayName: "Maria Rossi" }) { id } }`, { u: maria.id });
    crew = (await gql(`mutation { createGroup(name: "crew-${Date.now()}") { id } }`)).createGroup.id;
    secret = (await gql(`mutation { createGroup(name: "secret-${Date.now()}") { id } }`)).createGroup.id;
    for (const [g, u] of [[crew, maria.id], [crew, ivan.id], [secret, ivan.id]]) {
      await gql(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g, u });
    }
    await grantRole(gw, app.id, app.roles.User!, { id: maria.id });
    await grantRole(gw, app.id, app.roles.Manager!, { id: crew, type: 'GROUP' });
  });
  afterAll(() => gw?.stop());

  it('names the participants of sessions and roles', async () => {
    const s = (await gql(`mutation($a: ID!) { createSession(input: { applicationId: $a, name: "x" }) { id } }`, { a: app.id }, maria.token)).createSession.id;
    await gql(`mutation($a: ID!, $s: ID!, $g: ID!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: { id: $g, type: GROUP }) { id } }`, {
      a: app.id,
      s,
      g: crew,
    }, maria.token);
    const session = (await gql(`query($a: ID!, $s: ID!) { session(applicationId: $a, sessionId: $s) { participants { id type name } } }`, { a: app.id, s }, maria.token))
      .session;
    expect(session.participants).toEqual([
      { id: maria.id, type: 'USER', name: 'Maria Rossi' },
      { id: crew, type: 'GROUP', name: expect.stringMatching(/^crew-/) },
    ]);
    const roles = (await gql(`query($a: ID!) { roles(applicationId: $a) { name participants { id name } } }`, { a: app.id }, maria.token)).roles;
    expect(roles.find((r: any) => r.name === 'User').participants).toEqual([{ id: maria.id, name: 'Maria Rossi' }]);
  });

  it('lists the members of an application for anyone with application:read, and NOT_FOUND for others', async () => {
    const query = `query($a: ID!) { application(applicationId: $a) { members { id type name } } }`;
    const members = (await gql(query, { a: app.id }, maria.token)).application.members;
    expect(members.map((m: any) => m.id).sort()).toEqual([maria.id, crew, (await gw.db.query.userTable.findFirst({ where: { username: 'admin' } }))!.id].sort());
    expect(members.find((m: any) => m.id === maria.id)).toEqual({ id: maria.id, type: 'USER', name: 'Maria Rossi' });
    expect(codesOf(await gw.gql(query, { a: app.id }, outsider.token))).toEqual(['NOT_FOUND']);
  });

  it("shows a non-admin another user's name but only the groups they share, and refuses its flags", async () => {
    const walk = `{ viewer { user { id isAdmin groups { id name members { id username displayName groups { id members { username } } } } } } }`;
    const me = dataOf(await gw.gql(walk, {}, maria.token)).viewer.user;
    expect(me.isAdmin).toBe(false);
    expect(me.groups.map((g: any) => g.id)).toEqual([crew]);
    const ivanSeen = me.groups[0].members.find((m: any) => m.id === ivan.id);
    expect(ivanSeen).toMatchObject({ username: ivan.username, displayName: ivan.username });
    // Ivan is also in `secret`, which Maria is not in: she sees only the group they share.
    expect(ivanSeen.groups.map((g: any) => g.id)).toEqual([crew]);

    // isAdmin is non-null in the contract: refused, it takes its non-null parents with it.
    const flags = await gw.gql(`{ viewer { user { groups { members { username isAdmin isIntegration } } } } }`, {}, maria.token);
    expect(flags.data ?? null).toBeNull();
    expect(new Set(codesOf(flags))).toEqual(new Set(['FORBIDDEN']));
    expect(JSON.stringify(flags)).not.toMatch(/"isAdmin":(true|false)/);
  });

  it('keeps user(id) to admins, who see every group, member and flag', async () => {
    const members = `query($u: ID!) { user(id: $u) { isIntegration groups { name members { username isAdmin } } } }`;
    expect(codesOf(await gw.gql(members, { u: ivan.id }, maria.token))).toEqual(['FORBIDDEN']);
    const admin = dataOf(await gw.gql(members, { u: ivan.id })).user;
    expect(admin.groups).toHaveLength(2);
    expect(admin.groups.every((g: any) => g.members.every((m: any) => typeof m.isAdmin === 'boolean'))).toBe(true);
  });
});
