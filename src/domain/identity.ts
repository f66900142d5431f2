// Users, groups and API tokens (admin work, SPEC 1). Every write here changes who may do what:
// each is one transaction, and the caller announces the access change after commit.
import { and, eq, isNull } from 'drizzle-orm';
import { BUILTIN_ADMIN_USERNAME } from '../access/authenticate.ts';
import { hashPassword } from '../auth/passwords.ts';
import { API_TOKEN_PREFIX, hashSecret, newSecret } from '../auth/tokens.ts';
import type { Database, Executor } from '../db/client.ts';
import { apiTokenTable, groupMemberTable, groupTable, roleParticipantTable, userTable } from '../db/schema.ts';
import { isUuid } from './ids.ts';
import { badInput, DomainError, ErrorCode, notFound, withConstraintErrors } from './errors.ts';

export interface NewUser {
  username: string;
  displayName?: string | null;
  password?: string | null;
  isIntegration?: boolean | null;
  isAdmin?: boolean | null;
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function checkPassword(password: string | null | undefined) {
  if (password != null && password.length < 8) throw badInput('password', 'A password has at least 8 characters');
}

export async function createUser(db: Executor, input: NewUser) {
  if (!USERNAME.test(input.username)) {
    throw badInput('username', 'A username has 1 to 64 letters, digits, ".", "_", "@" or "-"');
  }
  checkPassword(input.password);
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

/** The user, locked for the rest of the transaction (`share`: it must stay; `update`: it changes). */
async function requireUser(db: Executor, userId: string, lock: 'share' | 'update' = 'share') {
  const [user] = isUuid(userId) ? await db.select().from(userTable).where(eq(userTable.id, userId)).for(lock) : [];
  if (!user) throw notFound('User');
  return user;
}

async function requireGroup(db: Executor, groupId: string) {
  const [group] = isUuid(groupId) ? await db.select().from(groupTable).where(eq(groupTable.id, groupId)).for('share') : [];
  if (!group) throw notFound('Group');
  return group;
}

export async function addGroupMember(db: Database, groupId: string, userId: string) {
  return withConstraintErrors(
    () =>
      db.transaction(async (tx) => {
        const group = await requireGroup(tx, groupId);
        await requireUser(tx, userId);
        await tx.insert(groupMemberTable).values({ groupId, userId }).onConflictDoNothing();
        return group;
      }),
    { foreignKey: () => notFound('User') },
  );
}

export async function removeGroupMember(db: Database, groupId: string, userId: string) {
  return db.transaction(async (tx) => {
    const group = await requireGroup(tx, groupId);
    await requireUser(tx, userId);
    await tx.delete(groupMemberTable).where(and(eq(groupMemberTable.groupId, groupId), eq(groupMemberTable.userId, userId)));
    return group;
  });
}

export interface UserChanges {
  displayName?: string | null;
  password?: string | null;
  isAdmin?: boolean | null;
  isIntegration?: boolean | null;
}

const builtinAdminStays = () =>
  new DomainError(ErrorCode.FAILED_PRECONDITION, 'The built-in admin (ADMIN_TOKEN) stays an admin and cannot be deleted', {
    reason: 'BUILTIN_ADMIN',
  });

/** Changes a user's display name, password or flags; omitted fields stay. */
export async function updateUser(db: Database, userId: string, changes: UserChanges) {
  checkPassword(changes.password);
  if (changes.displayName != null && !changes.displayName.trim()) throw badInput('displayName', 'A display name is not empty');
  const passwordHash = changes.password ? await hashPassword(changes.password) : undefined;
  return db.transaction(async (tx) => {
    const user = await requireUser(tx, userId, 'update');
    if (user.username === BUILTIN_ADMIN_USERNAME && changes.isAdmin === false) throw builtinAdminStays();
    const [updated] = await tx
      .update(userTable)
      .set({
        ...(changes.displayName != null && { displayName: changes.displayName.trim() }),
        ...(passwordHash && { passwordHash }),
        ...(changes.isAdmin != null && { isAdmin: changes.isAdmin }),
        ...(changes.isIntegration != null && { isIntegration: changes.isIntegration }),
      })
      .where(eq(userTable.id, user.id))
      .returning();
    return updated!;
  });
}

/**
 * Deletes a user for good: its tokens and group memberships go with it (cascade), and so do its
 * roles. Sessions keep it in their participant lists (their history names it), without access.
 */
export async function deleteUser(db: Database, actorId: string, userId: string): Promise<string> {
  return db.transaction(async (tx) => {
    const user = await requireUser(tx, userId, 'update');
    if (user.username === BUILTIN_ADMIN_USERNAME) throw builtinAdminStays();
    if (user.id === actorId) throw new DomainError(ErrorCode.FAILED_PRECONDITION, 'An admin cannot delete itself', { reason: 'SELF' });
    await tx
      .delete(roleParticipantTable)
      .where(and(eq(roleParticipantTable.participantType, 'USER'), eq(roleParticipantTable.participantId, user.id)));
    await tx.delete(userTable).where(eq(userTable.id, user.id));
    return user.id;
  });
}

/** Creates a token; the secret is in the result once and never stored. */
export async function createApiToken(db: Database, userId: string, name: string) {
  if (!name.trim()) throw badInput('name', 'A token needs a name');
  const secret = newSecret(API_TOKEN_PREFIX);
  return withConstraintErrors(
    () =>
      db.transaction(async (tx) => {
        await requireUser(tx, userId);
        const [token] = await tx
          .insert(apiTokenTable)
          .values({ userId, name: name.trim(), tokenHash: hashSecret(secret) })
          .returning();
        return { ...token!, token: secret as string | null };
      }),
    { foreignKey: () => notFound('User') },
  );
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
