// Applications and their roles (SPEC 2). Roles are checked against the permission catalogue.
import { and, eq, sql } from 'drizzle-orm';
import { DEFAULT_ROLES, unknownPermissions } from '../auth/permissions.ts';
import type { Database, Executor } from '../db/client.ts';
import { applicationTable, groupTable, roleParticipantTable, roleTable, userTable } from '../db/schema.ts';
import { isUuid } from './ids.ts';
import { badInput, DomainError, ErrorCode, forbidden, notFound, withConstraintErrors } from './errors.ts';

export type ParticipantType = 'USER' | 'GROUP';
export interface ParticipantRef {
  id: string;
  type: ParticipantType;
}

export async function createApplication(
  db: Database,
  creatorId: string,
  input: { name: string; description?: string | null },
) {
  if (!input.name.trim()) throw badInput('input.name', 'An application needs a name');
  return db.transaction(async (tx) => {
    const [application] = await tx
      .insert(applicationTable)
      .values({ name: input.name.trim(), description: input.description ?? '', draftVersion: 1, createdBy: creatorId })
      .returning();
    const roles = await tx
      .insert(roleTable)
      .values(
        DEFAULT_ROLES.map((role) => ({
          applicationId: application!.id,
          name: role.name,
          description: role.description,
          permissions: role.permissions,
          isDefault: true,
          createdBy: null,
          createdAt: application!.createdAt,
          modifiedAt: application!.createdAt,
        })),
      )
      .returning();
    const owner = roles.find((role) => role.name === 'Owner')!;
    await tx.insert(roleParticipantTable).values({ roleId: owner.id, participantType: 'USER', participantId: creatorId });
    return application!;
  });
}

export async function requireApplication(db: Executor, applicationId: string) {
  const [application] = isUuid(applicationId)
    ? await db.select().from(applicationTable).where(eq(applicationTable.id, applicationId))
    : [];
  if (!application) throw notFound('Application');
  return application;
}

/** Changes name or description; opens a draft when there is none. */
export async function updateApplication(
  db: Executor,
  applicationId: string,
  input: { name?: string | null; description?: string | null },
) {
  if (input.name != null && !input.name.trim()) throw badInput('input.name', 'An application needs a name');
  const [application] = await db
    .update(applicationTable)
    .set({
      ...(input.name != null && { name: input.name.trim() }),
      ...(input.description != null && { description: input.description }),
      draftVersion: sql`coalesce(${applicationTable.draftVersion}, coalesce(${applicationTable.publishedVersion}, 0) + 1)`,
    })
    .where(eq(applicationTable.id, applicationId))
    .returning();
  if (!application) throw notFound('Application');
  return application;
}

export async function publishApplication(db: Executor, applicationId: string) {
  const [application] = await db
    .update(applicationTable)
    .set({ publishedVersion: sql`${applicationTable.draftVersion}`, draftVersion: null })
    .where(and(eq(applicationTable.id, applicationId), sql`${applicationTable.draftVersion} is not null`))
    .returning();
  if (application) return application;
  await requireApplication(db, applicationId);
  throw new DomainError(ErrorCode.FAILED_PRECONDITION, 'There is no draft to publish', { reason: 'NO_DRAFT' });
}

function checkPermissions(permissions: string[], field: string): string[] {
  const unknown = unknownPermissions(permissions);
  if (unknown.length > 0) throw badInput(field, `Unknown permissions: ${unknown.join(', ')}`);
  return [...new Set(permissions)];
}

/** The role, locked for the rest of the transaction (`update`: it is changed; `share`: it must stay). */
async function lockRole(tx: Executor, applicationId: string, roleId: string, mode: 'update' | 'share') {
  const [role] =
    isUuid(roleId) && isUuid(applicationId)
      ? await tx
          .select()
          .from(roleTable)
          .where(and(eq(roleTable.id, roleId), eq(roleTable.applicationId, applicationId)))
          .for(mode)
      : [];
  if (!role) throw notFound('Role');
  return role;
}

const nameTaken = (name: string) => () => badInput('input.name', `A role named "${name}" exists already`);

async function nameIsFree(db: Executor, applicationId: string, name: string, exceptRoleId?: string) {
  const [clash] = await db
    .select({ id: roleTable.id })
    .from(roleTable)
    .where(and(eq(roleTable.applicationId, applicationId), eq(roleTable.name, name)));
  if (clash && clash.id !== exceptRoleId) throw nameTaken(name)();
}

// Each role write is one transaction; a concurrent duplicate (same name, same participant) or
// something deleted meanwhile answers BAD_USER_INPUT or NOT_FOUND, never an internal error.
// The caller announces the access change after commit.

export async function createRole(
  db: Database,
  actorId: string,
  applicationId: string,
  input: { name: string; description?: string | null; permissions: string[] },
) {
  const name = input.name.trim();
  if (!name) throw badInput('input.name', 'A role needs a name');
  const permissions = checkPermissions(input.permissions, 'input.permissions');
  return withConstraintErrors(
    () =>
      db.transaction(async (tx) => {
        await requireApplication(tx, applicationId);
        await nameIsFree(tx, applicationId, name);
        const [role] = await tx
          .insert(roleTable)
          .values({ applicationId, name, description: input.description ?? '', permissions, createdBy: actorId, modifiedBy: actorId })
          .returning();
        return role!;
      }),
    { unique: nameTaken(name), foreignKey: () => notFound('Application') },
  );
}

export async function updateRole(
  db: Database,
  actorId: string,
  applicationId: string,
  roleId: string,
  input: { name?: string | null; description?: string | null; permissions?: string[] | null },
) {
  const name = input.name?.trim();
  if (input.name != null && !name) throw badInput('input.name', 'A role needs a name');
  const permissions = input.permissions == null ? undefined : checkPermissions(input.permissions, 'input.permissions');
  return withConstraintErrors(
    () =>
      db.transaction(async (tx) => {
        await lockRole(tx, applicationId, roleId, 'update');
        if (name) await nameIsFree(tx, applicationId, name, roleId);
        const [role] = await tx
          .update(roleTable)
          .set({
            ...(name && { name }),
            ...(input.description != null && { description: input.description }),
            ...(permissions && { permissions }),
            modifiedBy: actorId,
            modifiedAt: new Date(),
          })
          .where(eq(roleTable.id, roleId))
          .returning();
        return role!;
      }),
    { unique: nameTaken(name ?? '') },
  );
}

export async function deleteRole(db: Database, applicationId: string, roleId: string): Promise<string> {
  return db.transaction(async (tx) => {
    const role = await lockRole(tx, applicationId, roleId, 'update');
    if (role.isDefault) throw forbidden('Default roles may be edited, not deleted');
    const deleted = await tx.delete(roleTable).where(eq(roleTable.id, roleId)).returning({ id: roleTable.id });
    if (deleted.length === 0) throw notFound('Role');
    return roleId;
  });
}

/** The user or group must exist; it is locked so that it cannot be deleted before commit. */
export async function requireParticipant(db: Executor, participant: ParticipantRef) {
  const table = participant.type === 'GROUP' ? groupTable : userTable;
  const [found] = isUuid(participant.id)
    ? await db.select({ id: table.id }).from(table).where(eq(table.id, participant.id)).for('share')
    : [];
  if (!found) throw notFound(participant.type === 'GROUP' ? 'Group' : 'User');
}

async function touchRole(tx: Executor, actorId: string, roleId: string) {
  const [role] = await tx
    .update(roleTable)
    .set({ modifiedBy: actorId, modifiedAt: new Date() })
    .where(eq(roleTable.id, roleId))
    .returning();
  return role!;
}

export async function addRoleParticipant(
  db: Database,
  actorId: string,
  applicationId: string,
  roleId: string,
  participant: ParticipantRef,
) {
  return withConstraintErrors(
    () =>
      db.transaction(async (tx) => {
        await lockRole(tx, applicationId, roleId, 'update');
        await requireParticipant(tx, participant);
        await tx
          .insert(roleParticipantTable)
          .values({ roleId, participantType: participant.type, participantId: participant.id })
          .onConflictDoNothing();
        return touchRole(tx, actorId, roleId);
      }),
    { foreignKey: () => notFound('Role') },
  );
}

export async function removeRoleParticipant(
  db: Database,
  actorId: string,
  applicationId: string,
  roleId: string,
  participant: ParticipantRef,
) {
  if (!isUuid(participant.id)) throw notFound(participant.type === 'GROUP' ? 'Group' : 'User');
  return db.transaction(async (tx) => {
    await lockRole(tx, applicationId, roleId, 'update');
    await tx
      .delete(roleParticipantTable)
      .where(
        and(
          eq(roleParticipantTable.roleId, roleId),
          eq(roleParticipantTable.participantType, participant.type),
          eq(roleParticipantTable.participantId, participant.id),
        ),
      );
    return touchRole(tx, actorId, roleId);
  });
}
