// The facts about sessions that the in-memory forms of the rules need (status, participants as
// given: users and groups), for many sessions in one statement. Group membership is the
// principal's side of the question, so a change of membership never makes these stale.
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { rowsOf } from '../domain/rows.ts';
import type { ParticipantRef, SessionFacts } from './rules.ts';

interface SessionFactsRow {
  id: string;
  application_id: string;
  status: 'OPEN' | 'CLOSED';
  participants: ParticipantRef[] | string | null;
}

/** Facts of the sessions with these ids; sessions that do not exist are absent. */
export async function loadSessionFacts(db: Executor, sessionIds: readonly string[]): Promise<Map<string, SessionFacts>> {
  const found = new Map<string, SessionFacts>();
  if (sessionIds.length === 0) return found;
  const rows = rowsOf<SessionFactsRow>(
    await db.execute(sql`select s.id, s.application_id, s.status,
        (select coalesce(json_agg(json_build_object('id', sp.participant_id, 'type', sp.participant_type)), '[]')
          from session_participant sp where sp.session_id = s.id) as participants
      from session s
      where s.id in (select value::uuid from jsonb_array_elements_text(${JSON.stringify(sessionIds)}::text::jsonb))`),
  );
  for (const row of rows) {
    const participants = typeof row.participants === 'string' ? JSON.parse(row.participants) : (row.participants ?? []);
    found.set(row.id, { id: row.id, applicationId: row.application_id, status: row.status, participants });
  }
  return found;
}
