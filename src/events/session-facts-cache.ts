// What the in-memory access rules need to know of a session (src/access/facts.ts), kept for the
// live path: loaded for a batch of events in one statement, trusted for the access re-check
// interval, dropped at once when an event changes who may see the session.
import { loadSessionFacts } from '../access/facts.ts';
import type { SessionFacts } from '../access/rules.ts';
import type { Database } from '../db/client.ts';

const MAX_CACHED_SESSIONS = 50_000;

interface CachedFacts {
  facts: SessionFacts | null;
  loadedAt: number;
}

export class SessionFactsCache {
  private readonly sessions = new Map<string, CachedFacts>();
  /** Statements sent (tests check that fan-out does not query per subscriber). */
  queries = 0;

  constructor(
    private readonly db: Database,
    private readonly ttlMs: number,
  ) {}

  /** The session's facts as last loaded; null for an event of no session or one not loaded. */
  get(sessionId: string | null): SessionFacts | null {
    return sessionId ? (this.sessions.get(sessionId)?.facts ?? null) : null;
  }

  /** Forgets a session whose visibility just changed. */
  forget(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  /** Facts of these sessions that are unknown or stale, in one statement. */
  async load(sessionIds: Iterable<string>): Promise<void> {
    const now = Date.now();
    const wanted = [...new Set(sessionIds)].filter((id) => {
      const cached = this.sessions.get(id);
      return !cached || now - cached.loadedAt >= this.ttlMs;
    });
    if (wanted.length === 0) return;
    if (this.sessions.size > MAX_CACHED_SESSIONS) {
      for (const [id, cached] of this.sessions) if (now - cached.loadedAt >= this.ttlMs) this.sessions.delete(id);
    }
    this.queries++;
    const found = await loadSessionFacts(this.db, wanted);
    for (const id of wanted) this.sessions.set(id, { facts: found.get(id) ?? null, loadedAt: now });
  }
}
