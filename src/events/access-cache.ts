// The facts visibility needs, shared by every subscriber of one gateway instance and loaded
// in batches: whatever the number of subscribers, one batch of events costs at most two
// statements (permissions of the (user, application) pairs not known yet or stale, and the
// sessions of the batch not known yet or stale). Sessions touched by an event that changes
// who may see them (participant added, closed) are reloaded before that event is delivered.
// Roles and group membership change without events: the hub clears the cache when told (see
// hub.ts), and everything is re-read once older than `ttlMs` in case such a signal was lost.
import { sql } from 'drizzle-orm';
import { PERMISSIONS, expandPermissions, type Permission } from '../auth/permissions.ts';
import type { Viewer } from '../auth/viewer.ts';
import type { Executor } from '../db/client.ts';
import { rowsOf } from '../domain/rows.ts';
import type { EventRow } from './log.ts';
import { SESSION_ACCESS_CHANGES, type Reader, type SessionFacts } from './visibility.ts';

interface Cached<T> {
  value: T;
  loadedAt: number;
}

const ALL_PERMISSIONS: ReadonlySet<Permission> = new Set(PERMISSIONS);
const MAX_CACHED_SESSIONS = 50_000;

function textArray(value: string[] | string | null): string[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value;
  return value.replace(/^\{|\}$/g, '').split(',').filter(Boolean).map((s) => s.replace(/^"|"$/g, ''));
}

export class EventAccessCache {
  private readonly permissions = new Map<string, Cached<ReadonlySet<Permission> | null>>();
  private readonly sessions = new Map<string, Cached<SessionFacts | null>>();
  /** Statements sent, so tests can prove that fan-out does not query per subscriber. */
  queries = 0;
  private clearedAt = 0;

  constructor(
    private readonly db: Executor,
    private readonly ttlMs: number,
  ) {}

  /** The reader as known now; call after `loadPermissions` covered it. */
  reader(viewer: Viewer, applicationId: string): Reader {
    if (viewer.isAdmin) return { viewer, permissions: ALL_PERMISSIONS };
    return { viewer, permissions: this.permissions.get(key(viewer.id, applicationId))?.value ?? null };
  }

  session(sessionId: string | null): SessionFacts | null {
    return sessionId ? (this.sessions.get(sessionId)?.value ?? null) : null;
  }

  /**
   * Roles or groups changed: everything is re-read before the next batch is delivered. Values
   * stay until then, so a batch being prepared right now is never left without them.
   */
  clear(): void {
    this.clearedAt = Date.now();
  }

  private fresh(cached: Cached<unknown> | undefined, now: number): boolean {
    return !!cached && cached.loadedAt > this.clearedAt && now - cached.loadedAt < this.ttlMs;
  }

  /** Forget the sessions whose visibility these events change. */
  invalidate(events: readonly EventRow[]): void {
    for (const event of events) {
      if (event.sessionId && SESSION_ACCESS_CHANGES.has(event.type)) this.sessions.delete(event.sessionId);
    }
  }

  /** Loads, in one statement, permissions of the pairs that are unknown or stale. */
  async loadPermissions(pairs: Iterable<{ viewer: Viewer; applicationId: string }>): Promise<void> {
    const now = Date.now();
    const wanted = new Map<string, { user_id: string; application_id: string }>();
    for (const { viewer, applicationId } of pairs) {
      if (viewer.isAdmin) continue;
      const k = key(viewer.id, applicationId);
      if (this.fresh(this.permissions.get(k), now)) continue;
      wanted.set(k, { user_id: viewer.id, application_id: applicationId });
    }
    if (wanted.size === 0) return;
    this.queries++;
    const rows = rowsOf<{ user_id: string; application_id: string; permissions: string[] | string | null; exists: boolean }>(
      await this.db.execute(sql`select k.user_id, k.application_id,
          exists (select 1 from application a where a.id = k.application_id) as exists,
          (select array_agg(distinct p)::text[] from role r, unnest(r.permissions) p
            where r.application_id = k.application_id and r.id in (
              select rp.role_id from role_participant rp
              where (rp.participant_type = 'USER' and rp.participant_id = k.user_id)
                 or (rp.participant_type = 'GROUP' and rp.participant_id in
                     (select gm.group_id from group_member gm where gm.user_id = k.user_id)))) as permissions
        from jsonb_to_recordset(${JSON.stringify([...wanted.values()])}::text::jsonb) as k(user_id uuid, application_id uuid)`),
    );
    for (const row of rows) {
      const value = row.exists ? new Set(expandPermissions(textArray(row.permissions))) : null;
      this.permissions.set(key(row.user_id, row.application_id), { value, loadedAt: now });
    }
  }

  /** Loads, in one statement, the sessions of these events that are unknown or stale. */
  async loadSessions(events: readonly EventRow[]): Promise<void> {
    const now = Date.now();
    const wanted = new Set<string>();
    for (const event of events) {
      if (!event.sessionId || wanted.has(event.sessionId)) continue;
      if (!this.fresh(this.sessions.get(event.sessionId), now)) wanted.add(event.sessionId);
    }
    if (wanted.size === 0) return;
    if (this.sessions.size > MAX_CACHED_SESSIONS) this.sweep(now);
    this.queries++;
    const rows = rowsOf<{ id: string; status: 'OPEN' | 'CLOSED'; participants: string[] | string | null }>(
      await this.db.execute(sql`select s.id, s.status,
          (select array_agg(distinct u.user_id)::text[] from (
              select sp.participant_id as user_id from session_participant sp
                where sp.session_id = s.id and sp.participant_type = 'USER'
              union
              select gm.user_id from session_participant sp join group_member gm on gm.group_id = sp.participant_id
                where sp.session_id = s.id and sp.participant_type = 'GROUP') u) as participants
        from session s
        where s.id in (select value::uuid from jsonb_array_elements_text(${JSON.stringify([...wanted])}::text::jsonb))`),
    );
    for (const id of wanted) this.sessions.set(id, { value: null, loadedAt: now });
    for (const row of rows) {
      this.sessions.set(row.id, {
        value: { status: row.status, participants: new Set(textArray(row.participants)) },
        loadedAt: now,
      });
    }
  }

  private sweep(now: number): void {
    for (const [id, cached] of this.sessions) if (!this.fresh(cached, now)) this.sessions.delete(id);
  }
}

function key(userId: string, applicationId: string): string {
  return `${userId}/${applicationId}`;
}
