// SPEC 2: default roles, role participants (directly and through groups), super permission
// expansion, and what each permission lets a viewer see and do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../src/auth/permissions.ts';
import { codesOf, createApplication, createRole, createUser, dataOf, grantRole, unique, userWithRole } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

const PERMS = `query($a: ID!) { viewer { permissions(applicationId: $a) } }`;
const ROLES = `query($a: ID!) { roles(applicationId: $a) { id name permissions isDefault createdBy createdAt modifiedAt participants { id type } } }`;
const APP = `query($a: ID!) { application(applicationId: $a) { id name createdAt createdBy draftVersion publishedVersion } }`;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw?.stop());

const permissionsOf = async (applicationId: string, token: string) =>
  dataOf(await gw.gql(PERMS, { a: applicationId }, token)).viewer.permissions as string[];

describe('applications', () => {
  it('starts with draft 1, no published version, four default roles and the creator as Owner', async () => {
    const app = await createApplication(gw);
    const application = dataOf(await gw.gql(APP, { a: app.id })).application;
    expect(application).toMatchObject({ draftVersion: 1, publishedVersion: null });
    const roles = dataOf(await gw.gql(ROLES, { a: app.id })).roles;
    expect(roles.map((role: any) => role.name).sort()).toEqual(['Developer', 'Manager', 'Owner', 'User']);
    for (const role of roles) {
      expect(role).toMatchObject({ isDefault: true, createdBy: null, createdAt: application.createdAt });
    }
    const owner = roles.find((role: any) => role.name === 'Owner');
    expect(owner.participants).toEqual([{ id: application.createdBy, type: 'USER' }]);
  });

  it('publishes the draft and opens a new draft on update', async () => {
    const app = await createApplication(gw);
    const publish = `mutation($a: ID!) { publishApplication(applicationId: $a) { draftVersion publishedVersion } }`;
    const update = `mutation($a: ID!) { updateApplication(applicationId: $a, input: { name: "Renamed" }) { name draftVersion publishedVersion } }`;
    expect(dataOf(await gw.gql(publish, { a: app.id })).publishApplication).toEqual({ draftVersion: null, publishedVersion: 1 });
    expect(codesOf(await gw.gql(publish, { a: app.id }))).toEqual(['FAILED_PRECONDITION']);
    expect(dataOf(await gw.gql(update, { a: app.id })).updateApplication).toEqual({ name: 'Renamed', draftVersion: 2, publishedVersion: 1 });
    expect(dataOf(await gw.gql(update, { a: app.id })).updateApplication.draftVersion).toBe(2);
    expect(dataOf(await gw.gql(publish, { a: app.id })).publishApplication).toEqual({ draftVersion: null, publishedVersion: 2 });
  });

  it('lists only the applications the viewer may read', async () => {
    const visible = await createApplication(gw);
    const hidden = await createApplication(gw);
    const user = await userWithRole(gw, visible.id, visible.roles.User!);
    const list = `{ applications(first: 100) { edges { node { id } } pageInfo { hasNextPage } } }`;
    const ids = dataOf(await gw.gql(list, {}, user.token)).applications.edges.map((edge: any) => edge.node.id);
    expect(ids).toEqual([visible.id]);
    expect(codesOf(await gw.gql(APP, { a: hidden.id }, user.token))).toEqual(['NOT_FOUND']);
    const all = dataOf(await gw.gql(list, {})).applications.edges.map((edge: any) => edge.node.id);
    expect(all).toEqual(expect.arrayContaining([visible.id, hidden.id]));
  });

  it('pages through applications with cursors, each once', async () => {
    const user = await createUser(gw);
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const app = await createApplication(gw);
      await grantRole(gw, app.id, app.roles.User!, { id: user.id });
      created.push(app.id);
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = dataOf(
        await gw.gql(`query($after: String) { applications(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`, { after }, user.token),
      ).applications;
      seen.push(...page.edges.map((edge: any) => edge.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(created);
  });
});

describe('permissions', () => {
  it('gives each default role its permissions, super permissions expanded', async () => {
    const app = await createApplication(gw);
    const manager = await userWithRole(gw, app.id, app.roles.Manager!);
    const developer = await userWithRole(gw, app.id, app.roles.Developer!);
    const owner = await userWithRole(gw, app.id, app.roles.Owner!);
    const plain = await userWithRole(gw, app.id, app.roles.User!);

    expect(await permissionsOf(app.id, owner.token)).toEqual([...PERMISSIONS]);
    expect(await permissionsOf(app.id, developer.token)).toEqual(PERMISSIONS.filter((p) => p !== 'role:manage'));
    const managerPermissions = await permissionsOf(app.id, manager.token);
    expect(managerPermissions).toEqual(
      expect.arrayContaining(['application:read', 'session:read:any', 'session:update:any', 'session:media:archive']),
    );
    // session:media:create grants read and update with all their children.
    expect(managerPermissions).toEqual(
      expect.arrayContaining(['session:media:read:title', 'session:media:read:content', 'session:media:update:annotations']),
    );
    expect(managerPermissions).not.toContain('session:media:delete');
    expect(managerPermissions).not.toContain('role:manage');
    const userPermissions = await permissionsOf(app.id, plain.token);
    expect(userPermissions).toContain('session:read:participant');
    expect(userPermissions).not.toContain('session:read:any');
  });

  it('expands a super permission to its children only', async () => {
    const app = await createApplication(gw);
    const roleId = await createRole(gw, app.id, ['application:read', 'session:media:read']);
    const user = await userWithRole(gw, app.id, roleId);
    expect(await permissionsOf(app.id, user.token)).toEqual([
      'application:read',
      'session:media:read',
      'session:media:read:title',
      'session:media:read:labels',
      'session:media:read:annotations',
      'session:media:read:properties',
      'session:media:read:content',
    ]);
  });

  it('grants a role held through a group, and takes it away with the membership', async () => {
    const app = await createApplication(gw);
    const user = await createUser(gw);
    const group = dataOf(await gw.gql(`mutation($n: String!) { createGroup(name: $n) { id } }`, { n: unique('group') })).createGroup;
    dataOf(await gw.gql(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { members { id } } }`, { g: group.id, u: user.id }));
    await grantRole(gw, app.id, app.roles.Manager!, { id: group.id, type: 'GROUP' });
    expect(await permissionsOf(app.id, user.token)).toContain('session:read:any');

    dataOf(await gw.gql(`mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id } }`, { g: group.id, u: user.id }));
    expect(codesOf(await gw.gql(PERMS, { a: app.id }, user.token))).toEqual(['NOT_FOUND']);
  });

  it('gives admins every permission in every application', async () => {
    const app = await createApplication(gw);
    const admin = await createUser(gw, { isAdmin: true });
    expect(await permissionsOf(app.id, admin.token)).toEqual([...PERMISSIONS]);
  });
});

describe('roles', () => {
  it('creates, updates and deletes a custom role; default roles can be edited but not deleted', async () => {
    const app = await createApplication(gw);
    const roleId = await createRole(gw, app.id, ['application:read'], 'Auditor');
    const updated = dataOf(
      await gw.gql(
        `mutation($a: ID!, $r: ID!) { updateRole(applicationId: $a, roleId: $r, input: { permissions: ["application:read", "session:read:any"], description: "Reads" }) { name description permissions modifiedBy } }`,
        { a: app.id, r: roleId },
      ),
    ).updateRole;
    expect(updated).toMatchObject({ name: 'Auditor', description: 'Reads', permissions: ['application:read', 'session:read:any'] });
    expect(updated.modifiedBy).toBeTruthy();

    const deleteRole = `mutation($a: ID!, $r: ID!) { deleteRole(applicationId: $a, roleId: $r) }`;
    expect(dataOf(await gw.gql(deleteRole, { a: app.id, r: roleId })).deleteRole).toBe(roleId);
    expect(codesOf(await gw.gql(deleteRole, { a: app.id, r: app.roles.User }))).toEqual(['FORBIDDEN']);
    const renamed = await gw.gql(
      `mutation($a: ID!, $r: ID!) { updateRole(applicationId: $a, roleId: $r, input: { name: "Member" }) { name isDefault } }`,
      { a: app.id, r: app.roles.User },
    );
    expect(dataOf(renamed).updateRole).toEqual({ name: 'Member', isDefault: true });
  });

  it('rejects unknown permission strings and duplicate names with BAD_USER_INPUT, changing nothing', async () => {
    const app = await createApplication(gw);
    const create = `mutation($a: ID!, $input: CreateRoleInput!) { createRole(applicationId: $a, input: $input) { id } }`;
    const unknown = await gw.gql(create, { a: app.id, input: { name: 'Bad', permissions: ['application:read', 'session:fly'] } });
    expect(codesOf(unknown)).toEqual(['BAD_USER_INPUT']);
    expect(unknown.errors![0]!.message).toContain('session:fly');
    expect(codesOf(await gw.gql(create, { a: app.id, input: { name: 'Owner', permissions: [] } }))).toEqual(['BAD_USER_INPUT']);
    const update = await gw.gql(
      `mutation($a: ID!, $r: ID!) { updateRole(applicationId: $a, roleId: $r, input: { permissions: ["root"] }) { id } }`,
      { a: app.id, r: app.roles.User },
    );
    expect(codesOf(update)).toEqual(['BAD_USER_INPUT']);
    const roles = dataOf(await gw.gql(ROLES, { a: app.id })).roles;
    expect(roles.map((role: any) => role.name).sort()).toEqual(['Developer', 'Manager', 'Owner', 'User']);
    expect(roles.find((role: any) => role.name === 'User').permissions).not.toContain('root');
  });

  it('needs role:manage: FORBIDDEN for a reader, NOT_FOUND for an outsider', async () => {
    const app = await createApplication(gw);
    const reader = await userWithRole(gw, app.id, app.roles.Developer!);
    const outsider = await createUser(gw);
    const create = `mutation($a: ID!) { createRole(applicationId: $a, input: { name: "X", permissions: [] }) { id } }`;
    expect(codesOf(await gw.gql(create, { a: app.id }, reader.token))).toEqual(['FORBIDDEN']);
    expect(codesOf(await gw.gql(create, { a: app.id }, outsider.token))).toEqual(['NOT_FOUND']);
    const owner = await userWithRole(gw, app.id, app.roles.Owner!);
    expect(dataOf(await gw.gql(create, { a: app.id }, owner.token)).createRole.id).toBeTruthy();
  });

  it('adds a participant once, requires it to exist, and removes it', async () => {
    const app = await createApplication(gw);
    const user = await createUser(gw);
    await grantRole(gw, app.id, app.roles.Manager!, { id: user.id });
    await grantRole(gw, app.id, app.roles.Manager!, { id: user.id });
    const roles = dataOf(await gw.gql(ROLES, { a: app.id })).roles;
    expect(roles.find((role: any) => role.name === 'Manager').participants).toEqual([{ id: user.id, type: 'USER' }]);
    const missing = await gw.gql(
      `mutation($a: ID!, $r: ID!) { addRoleParticipant(applicationId: $a, roleId: $r, participant: { id: "00000000-0000-4000-8000-000000000000", type: GROUP }) { id } }`,
      { a: app.id, r: app.roles.Manager },
    );
    expect(codesOf(missing)).toEqual(['NOT_FOUND']);
    const removed = dataOf(
      await gw.gql(
        `mutation($a: ID!, $r: ID!, $p: ParticipantInput!) { removeRoleParticipant(applicationId: $a, roleId: $r, participant: $p) { participants { id } } }`,
        { a: app.id, r: app.roles.Manager, p: { id: user.id } },
      ),
    ).removeRoleParticipant;
    expect(removed.participants).toEqual([]);
    expect(codesOf(await gw.gql(PERMS, { a: app.id }, user.token))).toEqual(['NOT_FOUND']);
  });
});

describe('administration', () => {
  const adminOnly: [string, string, Record<string, unknown>][] = [
    ['createUser', `mutation { createUser(username: "mallory") { id } }`, {}],
    ['createGroup', `mutation { createGroup(name: "mallories") { id } }`, {}],
    ['createApiToken', `mutation($u: ID!) { createApiToken(userId: $u, name: "x") { token } }`, {}],
    ['revokeApiToken', `mutation { revokeApiToken(id: "00000000-0000-4000-8000-000000000000") }`, {}],
    ['createApplication', `mutation { createApplication(input: { name: "Mine" }) { id } }`, {}],
    ['users', `{ users { id } }`, {}],
    ['groups', `{ groups { id } }`, {}],
    ['user', `query($u: ID!) { user(id: $u) { id } }`, {}],
  ];

  it.each(adminOnly)('refuses %s to a non-admin with FORBIDDEN and changes nothing', async (_name, query, vars) => {
    const user = await createUser(gw);
    const before = dataOf(await gw.gql(`{ users { id } groups { id } }`));
    const response = await gw.gql(query, { u: user.id, ...vars }, user.token);
    expect(codesOf(response)).toEqual(['FORBIDDEN']);
    const after = dataOf(await gw.gql(`{ users { id } groups { id } }`));
    expect(after).toEqual(before);
  });

  it('lets an admin manage users and groups', async () => {
    const username = unique('carol');
    const created = dataOf(
      await gw.gql(`mutation($u: String!) { createUser(username: $u, displayName: "Carol", isIntegration: true) { id username displayName isIntegration isAdmin createdAt groups { id } } }`, { u: username }),
    ).createUser;
    expect(created).toMatchObject({ username, displayName: 'Carol', isIntegration: true, isAdmin: false, groups: [] });
    expect(codesOf(await gw.gql(`mutation($u: String!) { createUser(username: $u) { id } }`, { u: username }))).toEqual(['BAD_USER_INPUT']);
    const fetched = dataOf(await gw.gql(`query($id: ID!) { user(id: $id) { username } }`, { id: created.id })).user;
    expect(fetched.username).toBe(username);
    expect(codesOf(await gw.gql(`{ user(id: "nope") { id } }`))).toEqual(['NOT_FOUND']);
  });
});
