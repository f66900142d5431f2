// Who takes part, with the names people see: participants of roles and sessions are user or
// group ids; these read their display names, and who holds a role in an application.
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { rowsOf } from './rows.ts';

export interface ParticipantRow {
  id: string;
  type: 'USER' | 'GROUP';
  name: string;
}

const uuidList = (ids: readonly string[]) => sql`${JSON.stringify(ids)}::text::jsonb`;

/** Names by `USER:<id>` / `GROUP:<id>`, in one statement; ids that name nothing are absent. */
export async function loadParticipantNames(
  db: Executor,
  refs: readonly { type: string; id: string }[],
): Promise<Map<string, string>> {
  const users = refs.filter((ref) => ref.type === 'USER').map((ref) => ref.id);
  const groups = refs.filter((ref) => ref.type === 'GROUP').map((ref) => ref.id);
  const names = new Map<string, string>();
  if (users.length === 0 && groups.length === 0) return names;
  const rows = rowsOf<ParticipantRow>(
    await db.execute(sql`select 'USER' as type, u.id, u.display_name as name from "user" u
        where u.id in (select value::uuid from jsonb_array_elements_text(${uuidList(users)}))
      union all
      select 'GROUP' as type, g.id, g.name from "group" g
        where g.id in (select value::uuid from jsonb_array_elements_text(${uuidList(groups)}))`),
  );
  for (const row of rows) names.set(`${row.type}:${row.id}`, row.name);
  return names;
}

/** Every user and group holding some role in each application, by name, in one statement. */
export async function loadApplicationMembers(db: Executor, applicationIds: readonly string[]): Promise<Map<string, ParticipantRow[]>> {
  const members = new Map<string, ParticipantRow[]>();
  if (applicationIds.length === 0) return members;
  const rows = rowsOf<ParticipantRow & { application_id: string }>(
    await db.execute(sql`select distinct r.application_id, rp.participant_type as type, rp.participant_id as id,
        coalesce(u.display_name, g.name) as name
      from role r
      join role_participant rp on rp.role_id = r.id
      left join "user" u on rp.participant_type = 'USER' and u.id = rp.participant_id
      left join "group" g on rp.participant_type = 'GROUP' and g.id = rp.participant_id
      where r.application_id in (select value::uuid from jsonb_array_elements_text(${uuidList(applicationIds)}))
        and coalesce(u.id, g.id) is not null
      order by name, id`),
  );
  for (const { application_id: applicationId, ...member } of rows) {
    const list = members.get(applicationId) ?? [];
    list.push(member);
    members.set(applicationId, list);
  }
  return members;
}
