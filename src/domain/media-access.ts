// Who may read a media item at all (SPEC 2, 3, 4): application media needs application:read;
// session media needs the session to be visible, and once the session is closed only
// integration users and admins reach it. Field-level gates (title, labels, ...) are separate.
// The live event fan-out calls mayReadMedia for each media event before delivering it.
import type { Permission } from '../auth/permissions.ts';
import type { Viewer } from '../auth/viewer.ts';
import type { Executor } from '../db/client.ts';
import { loadPermissions, loadSessionAccess, sessionAllows, type AccessCache } from './access.ts';

export interface MediaPlace {
  applicationId: string;
  /** Null for application media. */
  sessionId: string | null;
}

/** Whether a viewer may see media of a closed session: the seed keeps it for the Integration API. */
export function readsClosedSessionMedia(viewer: Viewer): boolean {
  return viewer.isIntegration || viewer.isAdmin;
}

/**
 * Whether `viewer` may read media at `place` (ignores archive state and field permissions:
 * an archive event is still delivered to those who could read the media).
 */
export async function mayReadMedia(
  db: Executor,
  viewer: Viewer,
  place: MediaPlace,
  access?: AccessCache | null,
): Promise<boolean> {
  const permissions = access ? await access.permissionsIn(place.applicationId) : await loadPermissions(db, viewer, place.applicationId);
  if (!permissions?.has('application:read')) return false;
  if (!place.sessionId) return true;
  const session = await loadSessionAccess(db, viewer, place.applicationId, place.sessionId);
  if (!session || !sessionAllows(permissions, session.isParticipant, 'read')) return false;
  return session.status === 'OPEN' || readsClosedSessionMedia(viewer);
}

/** Gated fields of session media and the permission each needs (SPEC 2). */
export const MEDIA_FIELD_PERMISSIONS = {
  title: 'session:media:read:title',
  labels: 'session:media:read:labels',
  properties: 'session:media:read:properties',
  annotations: 'session:media:read:annotations',
  url: 'session:media:read:content',
} as const satisfies Record<string, Permission>;
