// Who is asking, with everything the access rules need to know about them, loaded in one
// statement: the user's flags, the groups it belongs to and its expanded permissions in every
// application where it holds a role (admins: every application, every permission), and the
// logins of the user that were revoked (refresh-token reuse), which end its access JWTs. Every rule
// in rules.ts is decided from a Principal: in memory, or as SQL with these facts as parameters,
// so no planned query carries per-row role lookups.
import { sql, type SQL } from 'drizzle-orm';
import { PERMISSIONS, expandPermissions, type Permission } from '../auth/permissions.ts';
import type { Executor } from '../db/client.ts';
import { rowsOf } from '../domain/rows.ts';

export interface Viewer {
  id: string;
  username: string;
  isAdmin: boolean;
  isIntegration: boolean;
}

export interface Principal extends Viewer {
  displayName: string;
  /** Ids of the groups the user belongs to. */
  groups: ReadonlySet<string>;
  /** Expanded permissions per application id; an application not in the map grants nothing. */
  grants: ReadonlyMap<string, ReadonlySet<Permission>>;
  /**
   * Logins (refresh-token families, the `sid` of access JWTs) revoked because a refresh token
   * was used twice, among those whose refresh tokens have not expired yet: an access JWT of
   * such a login is refused. Loaded in the same statement as the rest, cached with it.
   */
  revokedLogins: ReadonlySet<string>;
}

const NOTHING: ReadonlySet<Permission> = new Set();
const EVERYTHING: ReadonlySet<Permission> = new Set(PERMISSIONS);

/** The expanded permissions of the principal in one application. */
export function grantsIn(principal: Principal, applicationId: string): ReadonlySet<Permission> {
  return principal.grants.get(applicationId) ?? NOTHING;
}

/** Application ids where the principal holds `permission`. */
export function applicationsWith(principal: Principal, permission: Permission): string[] {
  const ids: string[] = [];
  for (const [applicationId, held] of principal.grants) if (held.has(permission)) ids.push(applicationId);
  return ids;
}

interface PrincipalRow {
  id: string;
  username: string;
  display_name: string;
  is_admin: boolean;
  is_integration: boolean;
  groups: string[] | string | null;
  grants: Record<string, string[]> | string | null;
  revoked_logins: string[] | string | null;
}

/** postgres-js and PGlite parse arrays and json; be liberal about raw literals anyway. */
function textArray(value: string[] | string | null): string[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value;
  return value.replace(/^\{|\}$/g, '').split(',').filter(Boolean).map((s) => s.replace(/^"|"$/g, ''));
}

function toPrincipal(row: PrincipalRow): Principal {
  const raw = (typeof row.grants === 'string' ? JSON.parse(row.grants) : row.grants) ?? {};
  const grants = new Map<string, ReadonlySet<Permission>>();
  for (const [applicationId, held] of Object.entries(raw as Record<string, string[]>)) {
    grants.set(applicationId, row.is_admin ? EVERYTHING : new Set(expandPermissions(held)));
  }
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    isAdmin: row.is_admin,
    isIntegration: row.is_integration,
    groups: new Set(textArray(row.groups)),
    grants,
    revokedLogins: new Set(textArray(row.revoked_logins)),
  };
}

/** The columns of a principal, for a query over `"user" u`. */
const principalColumns = sql`u.id, u.username, u.display_name, u.is_admin, u.is_integration,
  (select coalesce(array_agg(gm.group_id::text), '{}') from group_member gm where gm.user_id = u.id) as groups,
  case when u.is_admin then (select coalesce(json_object_agg(a.id, '{}'::text[]), '{}') from application a)
  else (select coalesce(json_object_agg(g.application_id, g.permissions), '{}') from (
    select r.application_id, array_agg(distinct p) as permissions
    from role r cross join unnest(r.permissions) p
    where r.id in (select rp.role_id from role_participant rp
      where (rp.participant_type = 'USER' and rp.participant_id = u.id)
         or (rp.participant_type = 'GROUP' and rp.participant_id in
             (select gm.group_id from group_member gm where gm.user_id = u.id)))
    group by r.application_id) g) end as grants,
  (select coalesce(array_agg(distinct rt.family_id::text), '{}') from refresh_token rt
    where rt.user_id = u.id and rt.revoked_at is not null and rt.expires_at > now()) as revoked_logins`;

/** Principals by user id, in one statement; users that do not exist are absent. */
export async function loadPrincipals(db: Executor, userIds: readonly string[]): Promise<Map<string, Principal>> {
  const found = new Map<string, Principal>();
  if (userIds.length === 0) return found;
  const rows = rowsOf<PrincipalRow>(
    await db.execute(
      sql`select ${principalColumns} from "user" u where u.id in (select value::uuid from jsonb_array_elements_text(${JSON.stringify(userIds)}::text::jsonb))`,
    ),
  );
  for (const row of rows) found.set(row.id, toPrincipal(row));
  return found;
}

/** One principal chosen by `where` over `"user" u` (and whatever `from` joins), with extra columns. */
export async function findPrincipal<Extra extends Record<string, unknown> = Record<string, never>>(
  db: Executor,
  from: SQL,
  where: SQL,
  extra: SQL = sql``,
): Promise<(Principal & { extra: Extra }) | null> {
  const rows = rowsOf<PrincipalRow & Extra>(await db.execute(sql`select ${principalColumns} ${extra} from ${from} where ${where} limit 1`));
  const row = rows[0];
  if (!row) return null;
  return { ...toPrincipal(row), extra: row };
}
