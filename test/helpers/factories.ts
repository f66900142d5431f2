// Test data through the API itself, as an admin would make it.
import type { TestGateway } from './gateway.ts';

let counter = 0;
export const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;

/** Fails the test with the server's own words when an operation answered errors. */
export function dataOf(response: { data?: unknown; errors?: unknown[] }): any {
  if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  return response.data;
}

export function codesOf(response: { errors?: { extensions?: Record<string, any> }[] }): string[] {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

export interface TestUser {
  id: string;
  username: string;
  token: string;
}

export async function createUser(
  gw: TestGateway,
  options: { username?: string; password?: string; isIntegration?: boolean; isAdmin?: boolean } = {},
): Promise<TestUser> {
  const username = options.username ?? unique('user');
  const created = dataOf(
    await gw.gql(
      `mutation($username: String!, $password: String, $isIntegration: Boolean, $isAdmin: Boolean) {
        createUser(username: $username, password: $password, isIntegration: $isIntegration, isAdmin: $isAdmin) { id }
      }`,
      { username, password: options.password, isIntegration: options.isIntegration ?? false, isAdmin: options.isAdmin ?? false },
    ),
  );
  const id = created.createUser.id as string;
  const token = dataOf(
    await gw.gql(`mutation($id: ID!) { createApiToken(userId: $id, name: "test") { token } }`, { id }),
  ).createApiToken.token as string;
  return { id, username, token };
}

export async function createApplication(gw: TestGateway, name = unique('app')): Promise<{ id: string; roles: Record<string, string> }> {
  const data = dataOf(
    await gw.gql(`mutation($name: String!) { createApplication(input: { name: $name }) { id roles { id name } } }`, { name }),
  );
  const roles = Object.fromEntries(data.createApplication.roles.map((role: { id: string; name: string }) => [role.name, role.id]));
  return { id: data.createApplication.id, roles };
}

export async function grantRole(
  gw: TestGateway,
  applicationId: string,
  roleId: string,
  participant: { id: string; type?: 'USER' | 'GROUP' },
): Promise<void> {
  dataOf(
    await gw.gql(
      `mutation($a: ID!, $r: ID!, $p: ParticipantInput!) { addRoleParticipant(applicationId: $a, roleId: $r, participant: $p) { id } }`,
      { a: applicationId, r: roleId, p: { id: participant.id, type: participant.type ?? 'USER' } },
    ),
  );
}

/** A user holding one default role (or custom permissions) in the application. */
export async function userWithRole(gw: TestGateway, applicationId: string, roleId: string, options: Parameters<typeof createUser>[1] = {}) {
  const user = await createUser(gw, options);
  await grantRole(gw, applicationId, roleId, { id: user.id });
  return user;
}

export async function createRole(gw: TestGateway, applicationId: string, permissions: string[], name = unique('role')): Promise<string> {
  return dataOf(
    await gw.gql(
      `mutation($a: ID!, $input: CreateRoleInput!) { createRole(applicationId: $a, input: $input) { id } }`,
      { a: applicationId, input: { name, permissions } },
    ),
  ).createRole.id;
}
