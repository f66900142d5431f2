// What a viewer may do in an application: the union of the permissions of the roles it
// holds directly or through a group, super permissions expanded. Admins hold everything.
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { PERMISSIONS, expandPermissions, type Permission } from '../auth/permissions.ts';
import type { Viewer } from '../auth/viewer.ts';
import type { Executor } from '../db/client.ts';
import { rowsOf } from './rows.ts';

/** SQL: the role ids a user holds, directly or through a group. */
export function heldRoleIds(userId: string): SQL {
  return sql`(select rp.role_id from role_participant rp
    where (rp.participant_type = 'USER' and rp.participant_id = ${userId})
       or (rp.participant_type = 'GROUP' and rp.participant_id in
           (select gm.group_id from group_member gm where gm.user_id = ${userId})))`;
}

/** SQL condition on a table with `session_id`: the user takes part, directly or through a group. */
export function participatesIn(sessionIdColumn: SQL, userId: string): SQL {
  return sql`exists (select 1 from session_participant sp where sp.session_id = ${sessionIdColumn}
    and ((sp.participant_type = 'USER' and sp.participant_id = ${userId})
      or (sp.participant_type = 'GROUP' and sp.participant_id in
          (select gm.group_id from group_member gm where gm.user_id = ${userId}))))`;
}

/**
 * The expanded permissions of the viewer in an application, or null when the application
 * does not exist. One statement.
 */
export async function loadPermissions(
  db: Executor,
  viewer: Viewer,
  applicationId: string,
): Promise<Set<Permission> | null> {
  if (!isUuid(applicationId)) return null;
  const rows = rowsOf<{ permissions: string[] | null }>(
    await db.execute(sql`select (select array_agg(distinct p) from role r, unnest(r.permissions) p
        where r.application_id = a.id and r.id in ${heldRoleIds(viewer.id)}) as permissions
      from application a where a.id = ${applicationId}`),
  );
  if (rows.length === 0) return null;
  if (viewer.isAdmin) return new Set(PERMISSIONS);
  return new Set(expandPermissions(parsePgArray(rows[0]!.permissions)));
}

/** postgres-js parses text[] into arrays; PGlite too, but be liberal about a raw literal. */
function parsePgArray(value: string[] | string | null): string[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value;
  return value.replace(/^\{|\}$/g, '').split(',').filter(Boolean).map((s) => s.replace(/^"|"$/g, ''));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids are UUIDs; anything else can name nothing, so it is simply not found. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Per-request memo of permissions, so many fields of one request cost one statement per application. */
export class AccessCache {
  private readonly permissions = new Map<string, Promise<Set<Permission> | null>>();
  constructor(
    private readonly db: Executor,
    readonly viewer: Viewer,
  ) {}

  permissionsIn(applicationId: string): Promise<Set<Permission> | null> {
    let found = this.permissions.get(applicationId);
    if (!found) {
      found = loadPermissions(this.db, this.viewer, applicationId);
      this.permissions.set(applicationId, found);
    }
    return found;
  }

  /** Forget cached permissions (after a change to roles within the same request). */
  clear(): void {
    this.permissions.clear();
  }
}

export interface SessionAccessRow {
  id: string;
  applicationId: string;
  status: 'OPEN' | 'CLOSED';
  isParticipant: boolean;
}

/** The session's status and whether the viewer takes part in it; null when it does not exist in that application. */
export async function loadSessionAccess(
  db: Executor,
  viewer: Viewer,
  applicationId: string,
  sessionId: string,
): Promise<SessionAccessRow | null> {
  if (!isUuid(applicationId) || !isUuid(sessionId)) return null;
  const rows = rowsOf<{ id: string; application_id: string; status: 'OPEN' | 'CLOSED'; is_participant: boolean }>(
    await db.execute(sql`select s.id, s.application_id, s.status,
        ${participatesIn(sql`s.id`, viewer.id)} as is_participant
      from session s where s.id = ${sessionId} and s.application_id = ${applicationId}`),
  );
  const row = rows[0];
  return row
    ? { id: row.id, applicationId: row.application_id, status: row.status, isParticipant: row.is_participant }
    : null;
}

export type SessionAction = 'read' | 'update';

/** Whether the permissions let the viewer see, or change, a session with that participation. */
export function sessionAllows(permissions: Set<Permission>, isParticipant: boolean, action: SessionAction): boolean {
  return (
    permissions.has(`session:${action}:any`) || (isParticipant && permissions.has(`session:${action}:participant`))
  );
}

/** The held permissions that grant `permission` (itself, its super permissions, extra grants). */
export function grantorsOf(permission: Permission): Permission[] {
  return PERMISSIONS.filter((held) => expandPermissions([held]).includes(permission));
}

/** SQL condition: the user holds `permission` (directly or through a super permission) in the application. */
export function holdsPermission(applicationId: SQLWrapper, userId: string, permission: Permission): SQL {
  const grantors = sql.join(
    grantorsOf(permission).map((p) => sql`${p}`),
    sql`, `,
  );
  return sql`exists (select 1 from role r where r.application_id = ${applicationId}
    and r.permissions && array[${grantors}]::text[] and r.id in ${heldRoleIds(userId)})`;
}

/**
 * SQL condition on a session (its id and application id columns): the viewer may read it,
 * with session:read:any, or session:read:participant and taking part. Admins read everything.
 */
export function sessionReadable(session: { id: SQLWrapper; applicationId: SQLWrapper }, viewer: Viewer): SQL {
  if (viewer.isAdmin) return sql`true`;
  return sql`(${holdsPermission(session.applicationId, viewer.id, 'session:read:any')}
    or (${holdsPermission(session.applicationId, viewer.id, 'session:read:participant')}
        and ${participatesIn(sql`${session.id}`, viewer.id)}))`;
}
