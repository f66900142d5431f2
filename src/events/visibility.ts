// Who may read an event, in one place. Live streams ask this at delivery time for every
// event and subscriber, so the rule is a pure, synchronous function over facts that
// src/events/access-cache.ts keeps loaded: the reader's permissions in the application and
// the session's status and participants (directly or through a group).
import { SESSION_MEDIA_READ, type Permission } from '../auth/permissions.ts';
import type { Viewer } from '../auth/viewer.ts';
import { sessionAllows } from '../domain/access.ts';
import { readsClosedSessionMedia } from '../domain/media-access.ts';
import type { EventRow, EventType } from './log.ts';

export interface Reader {
  viewer: Viewer;
  /** Expanded permissions in the event's application; null when the application is gone. */
  permissions: ReadonlySet<Permission> | null;
}

export interface SessionFacts {
  status: 'OPEN' | 'CLOSED';
  /** User ids taking part, directly or through a group. */
  participants: ReadonlySet<string>;
}

export type EventFacts = Pick<EventRow, 'type' | 'sessionId'>;

const SESSION_MEDIA_PREFIX = 'SESSION_MEDIA_';

export function isSessionMediaEvent(type: string): boolean {
  return type.startsWith(SESSION_MEDIA_PREFIX);
}


/**
 * Session media events of a visible session need some media read permission (each one gates
 * a field of the media itself); media of a closed session reach only integration users and
 * admins. The same rule as the stored history (src/domain/events.ts).
 */
export function maySeeSessionMedia(reader: Reader, session: SessionFacts): boolean {
  if (session.status === 'CLOSED' && !readsClosedSessionMedia(reader.viewer)) return false;
  return SESSION_MEDIA_READ.some((permission) => reader.permissions!.has(permission));
}

/**
 * Whether the reader may read the event now. `session` is the event's session (null when it
 * has none or it does not exist). Application-level events (application media) need only
 * `application:read`; session events need the session to be visible; session media events
 * also need the media rules above.
 */
export function mayReadEvent(reader: Reader, event: EventFacts, session: SessionFacts | null): boolean {
  const permissions = reader.permissions;
  if (!permissions?.has('application:read')) return false;
  if (!event.sessionId) return !isSessionMediaEvent(event.type);
  if (!session) return false;
  const participant = session.participants.has(reader.viewer.id);
  if (!sessionAllows(permissions as Set<Permission>, participant, 'read')) return false;
  if (isSessionMediaEvent(event.type)) return maySeeSessionMedia(reader, session);
  return true;
}

/** Events after which a cached view of their session is stale. */
export const SESSION_ACCESS_CHANGES: ReadonlySet<EventType | string> = new Set([
  'SESSION_PARTICIPANT_ADDED',
  'SESSION_CLOSED',
]);
