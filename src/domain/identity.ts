// Users, groups and API tokens (admin work, SPEC 1).
import { and, eq, isNull } from 'drizzle-orm';
import { hashPassword } from '../auth/passwords.ts';
import { API_TOKEN_PREFIX, hashSecret, newSecret } from '../auth/tokens.ts';
import { BUILTIN_ADMIN_USERNAME } from '../auth/viewer.ts';
import type { Executor } from '../db/client.ts';
import { apiTokenTable, groupMemberTable, groupTable, userTable } from '../db/schema.ts';
import { isUuid } from './access.ts';
import { badInput, notFound } from './errors.ts';

export interface NewUser {
  username: string;
  displayName?: string | null;
  password?: string | null;
  isIntegration?: boolean | null;
  isAdmin?: boolean | null;
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export async function createUser(db: Executor, input: NewUser) {
  if (!USERNAME.test(input.username)) {
    throw badInput('username', 'A username has 1 to 64 letters, digits, ".", "_", "@" or "-"');
  }
  if (input.password != null && input.password.length < 8) {
    throw badInput('password', 'A password has at least 8 characters');
  }
  const [existing] = await db.select({ id: userTable.id }).from(userTable).where(eq(userTable.username, input.username));
  if (existing) throw badInput('username', `The username "${input.username}" is taken`);
  const [user] = await db
    .insert(userTable)
    .values({
      username: input.username,
      displayName: input.displayName?.trim() || input.username,
      passwordHash: input.password ? await hashPassword(input.password) : null,
      isIntegration: input.isIntegration ?? false,
      isAdmin: input.isAdmin ?? false,
    })
    .onConflictDoNothing()
    .returning();
  if (!user) throw badInput('username', `The username "${input.username}" is taken`);
  return user;
}

export async function createGroup(db: Executor, name: string) {
  if (!name.trim()) throw badInput('name', 'A group needs a name');
  const [group] = await db.insert(groupTable).values({ name: name.trim() }).onConflictDoNothing().returning();
  if (!group) throw badInput('name', `The group name "${name}" is taken`);
  return group;
}

async function requireUser(db: Executor, userId: string) {
  const [user] = isUuid(userId) ? await db.select().from(userTable).where(eq(userTable.id, userId)) : [];
  if (!user) throw notFound('User');
  return user;
}

async function requireGroup(db: Executor, groupId: string) {
  const [group] = isUuid(groupId) ? await db.select().from(groupTable).where(eq(groupTable.id, groupId)) : [];
  if (!group) throw notFound('Group');
  return group;
}

export async function addGroupMember(db: Executor, groupId: string, userId: string) {
  const group = await requireGroup(db, groupId);
  await requireUser(db, userId);
  await db.insert(groupMemberTable).values({ groupId, userId }).onConflictDoNothing();
  return group;
}

export async function removeGroupMember(db: Executor, groupId: string, userId: string) {
  const group = await requireGroup(db, groupId);
  await requireUser(db, userId);
  await db.delete(groupMemberTable).where(and(eq(groupMemberTable.groupId, groupId), eq(groupMemberTable.userId, userId)));
  return group;
}

/** Creates a token; the secret is in the result once and never stored. */
export async function createApiToken(db: Executor, userId: string, name: string) {
  await requireUser(db, userId);
  if (!name.trim()) throw badInput('name', 'A token needs a name');
  const secret = newSecret(API_TOKEN_PREFIX);
  const [token] = await db
    .insert(apiTokenTable)
    .values({ userId, name: name.trim(), tokenHash: hashSecret(secret) })
    .returning();
  return { ...token!, token: secret as string | null };
}

export async function revokeApiToken(db: Executor, id: string): Promise<string> {
  const [token] = isUuid(id)
    ? await db
        .update(apiTokenTable)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiTokenTable.id, id), isNull(apiTokenTable.revokedAt)))
        .returning({ id: apiTokenTable.id })
    : [];
  if (!token) throw notFound('API token');
  return token.id;
}

/** The user behind ADMIN_TOKEN: created once, so that what it does has an author. */
export async function ensureBuiltinAdmin(db: Executor) {
  await db
    .insert(userTable)
    .values({ username: BUILTIN_ADMIN_USERNAME, displayName: 'Administrator', isAdmin: true })
    .onConflictDoNothing();
  const [admin] = await db.select().from(userTable).where(eq(userTable.username, BUILTIN_ADMIN_USERNAME));
  return admin!;
}
