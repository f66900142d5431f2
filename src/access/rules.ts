// Every access rule of SPEC 2, 3 and 4, each written once with its two forms side by side:
// `sql` is a predicate for a planned query's `where` (the principal's facts become parameters,
// so a list costs no per-row role lookups), `check` decides the same question in memory for
// rows already loaded and for the live stream. test/access-rules.test.ts runs both forms of
// every rule in `rules` for every kind of viewer on the same rows and requires one answer.
//
// Archive state is not an access rule: queries add `archived_at is null` themselves, and an
// archive event is still delivered to those who may read the media.
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { SESSION_MEDIA_READ, type Permission } from '../auth/permissions.ts';
import { SESSION_MEDIA_EVENT_TYPES } from '../events/event-types.ts';
import { applicationsWith, grantsIn, type Principal } from './principal.ts';

export type ParticipantKind = 'USER' | 'GROUP';
export interface ParticipantRef {
  id: string;
  type: ParticipantKind;
}

/** What the rules need to know of a session. */
export interface SessionFacts {
  id: string;
  applicationId: string;
  status: 'OPEN' | 'CLOSED';
  participants: readonly ParticipantRef[];
}

export interface SessionColumns {
  id: SQLWrapper;
  applicationId: SQLWrapper;
}

/** Gated fields of session media and the permission each needs (SPEC 2). */
export const MEDIA_FIELD_PERMISSIONS = {
  title: 'session:media:read:title',
  labels: 'session:media:read:labels',
  properties: 'session:media:read:properties',
  annotations: 'session:media:read:annotations',
  url: 'session:media:read:content',
} as const satisfies Record<string, Permission>;
export type MediaField = keyof typeof MEDIA_FIELD_PERMISSIONS;

const uuids = (ids: readonly string[]): SQL => sql`${`{${ids.join(',')}}`}::uuid[]`;
const TRUE = sql`true`;
const FALSE = sql`false`;

/** Applications where the principal holds every one of `needed` and at least one of `anyOf`. */
function applicationsHolding(principal: Principal, needed: Permission[], anyOf: readonly Permission[] = []): string[] {
  return applicationsWith(principal, needed[0]!).filter((applicationId) => {
    const held = grantsIn(principal, applicationId);
    return needed.every((p) => held.has(p)) && (anyOf.length === 0 || anyOf.some((p) => held.has(p)));
  });
}

function holds(principal: Principal, applicationId: string, permission: Permission): boolean {
  return grantsIn(principal, applicationId).has(permission);
}

/** The seed: only the Integration API (and admins) reach the media of a closed session. */
export function readsClosedSessionMedia(principal: Principal): boolean {
  return principal.isAdmin || principal.isIntegration;
}

function takesPart(principal: Principal, participants: readonly ParticipantRef[]): boolean {
  return participants.some((p) => (p.type === 'USER' ? p.id === principal.id : principal.groups.has(p.id)));
}

function takesPartSql(principal: Principal, sessionId: SQLWrapper): SQL {
  return sql`exists (select 1 from session_participant sp where sp.session_id = ${sessionId}
    and ((sp.participant_type = 'USER' and sp.participant_id = ${principal.id})
      or (sp.participant_type = 'GROUP' and sp.participant_id = any(${uuids([...principal.groups])}))))`;
}

function sessionVisibleCheck(principal: Principal, session: SessionFacts): boolean {
  const held = grantsIn(principal, session.applicationId);
  if (!held.has('application:read')) return false;
  return held.has('session:read:any') || (held.has('session:read:participant') && takesPart(principal, session.participants));
}

function sessionVisibleSql(principal: Principal, session: SessionColumns): SQL {
  if (principal.isAdmin) return TRUE;
  const any = applicationsHolding(principal, ['application:read', 'session:read:any']);
  const participant = applicationsHolding(principal, ['application:read', 'session:read:participant']).filter(
    (id) => !any.includes(id),
  );
  const parts: SQL[] = [];
  if (any.length) parts.push(sql`${session.applicationId} = any(${uuids(any)})`);
  if (participant.length) parts.push(sql`(${session.applicationId} = any(${uuids(participant)}) and ${takesPartSql(principal, session.id)})`);
  return parts.length ? sql`(${sql.join(parts, sql` or `)})` : FALSE;
}

/** Applications where the principal holds some session media read permission (and application:read). */
const mediaReaderApplications = (principal: Principal) => applicationsHolding(principal, ['application:read'], SESSION_MEDIA_READ);

/** The media permission and the session's status, for a session known to be visible. */
function mediaOfVisibleSessionCheck(principal: Principal, session: SessionFacts): boolean {
  if (!SESSION_MEDIA_READ.some((p) => holds(principal, session.applicationId, p))) return false;
  return session.status === 'OPEN' || readsClosedSessionMedia(principal);
}

function sessionMediaCheck(principal: Principal, session: SessionFacts): boolean {
  return sessionVisibleCheck(principal, session) && mediaOfVisibleSessionCheck(principal, session);
}

/**
 * Session media of the session whose id is `sessionId`, in SQL: the media permission and the
 * session's status, and with `visibility` also the session's visibility (else it is known).
 */
function sessionMediaSql(principal: Principal, sessionId: SQLWrapper, visibility = true): SQL {
  if (principal.isAdmin) return TRUE;
  const apps = mediaReaderApplications(principal);
  if (apps.length === 0) return FALSE;
  const open = readsClosedSessionMedia(principal) ? sql`` : sql` and s.status = 'OPEN'`;
  const visible = visibility ? sql`
    and ${sessionVisibleSql(principal, { id: sql`s.id`, applicationId: sql`s.application_id` })}` : sql``;
  return sql`exists (select 1 from session s where s.id = ${sessionId} and s.application_id = any(${uuids(apps)})${open}${visible})`;
}

const SESSION_MEDIA_TYPES = sql.join(
  [...SESSION_MEDIA_EVENT_TYPES].map((type) => sql`${type}`),
  sql`, `,
);

export const rules = {
  /** `application:read`: see the application, its roles, members and application media. */
  applicationVisible: {
    check: (principal: Principal, application: { id: string }) => holds(principal, application.id, 'application:read'),
    sql: (principal: Principal, application: { id: SQLWrapper }) =>
      principal.isAdmin ? TRUE : sql`${application.id} = any(${uuids(applicationsWith(principal, 'application:read'))})`,
  },

  /** A permission held in the application, e.g. a field of session media or a mutation's need. */
  permissionHeld: {
    check: (principal: Principal, subject: { applicationId: string; permission: Permission }) =>
      holds(principal, subject.applicationId, subject.permission),
    sql: (principal: Principal, subject: { applicationId: SQLWrapper; permission: Permission }) =>
      principal.isAdmin ? TRUE : sql`${subject.applicationId} = any(${uuids(applicationsWith(principal, subject.permission))})`,
  },

  /** session:read:any, or session:read:participant and taking part directly or through a group. */
  sessionVisible: { check: sessionVisibleCheck, sql: sessionVisibleSql },

  /** Visible, and session:update:any, or session:update:participant and taking part. */
  sessionChangeable: {
    check: (principal: Principal, session: SessionFacts) =>
      sessionVisibleCheck(principal, session) &&
      (holds(principal, session.applicationId, 'session:update:any') ||
        (holds(principal, session.applicationId, 'session:update:participant') && takesPart(principal, session.participants))),
    sql: (principal: Principal, session: SessionColumns) => {
      if (principal.isAdmin) return TRUE;
      const any = applicationsHolding(principal, ['session:update:any']);
      const participant = applicationsHolding(principal, ['session:update:participant']).filter((id) => !any.includes(id));
      const parts: SQL[] = [];
      if (any.length) parts.push(sql`${session.applicationId} = any(${uuids(any)})`);
      if (participant.length) {
        parts.push(sql`(${session.applicationId} = any(${uuids(participant)}) and ${takesPartSql(principal, session.id)})`);
      }
      return sql`(${sessionVisibleSql(principal, session)} and ${parts.length ? sql`(${sql.join(parts, sql` or `)})` : FALSE})`;
    },
  },

  /**
   * Session media are there at all: the session is visible, the viewer holds some
   * session:media:read* permission, and the session is open unless the viewer is an
   * integration user or an admin.
   */
  sessionMediaVisible: {
    check: (principal: Principal, media: { session: SessionFacts }) => sessionMediaCheck(principal, media.session),
    sql: (principal: Principal, media: { sessionId: SQLWrapper }) => sessionMediaSql(principal, media.sessionId),
  },

  /**
   * Session.media: the media of a session the viewer already sees. Every Session the API hands
   * out passed sessionVisible (the reads in their SQL, the mutations in their `session` scope,
   * event snapshots in eventReadable), so per media row only the media permission and the
   * session's status are asked, not the visibility again (for a participant, a second
   * participation subquery per media row).
   */
  mediaOfVisibleSession: {
    check: (principal: Principal, media: { session: SessionFacts }) => mediaOfVisibleSessionCheck(principal, media.session),
    sql: (principal: Principal, media: { sessionId: SQLWrapper }) => sessionMediaSql(principal, media.sessionId, false),
  },

  /** Media of either scope: application media with application:read, session media as above. */
  mediaVisible: {
    check: (principal: Principal, media: { scope: 'APPLICATION' | 'SESSION'; applicationId: string; session: SessionFacts | null }) =>
      media.scope === 'APPLICATION'
        ? holds(principal, media.applicationId, 'application:read')
        : !!media.session && sessionMediaCheck(principal, media.session),
    sql: (principal: Principal, media: { scope: SQLWrapper; applicationId: SQLWrapper; sessionId: SQLWrapper }) =>
      principal.isAdmin
        ? TRUE
        : sql`((${media.scope} = 'APPLICATION' and ${rules.applicationVisible.sql(principal, { id: media.applicationId })})
          or (${media.scope} = 'SESSION' and ${sessionMediaSql(principal, media.sessionId)}))`,
  },

  /**
   * An event of the log: application:read; a session's event needs the session visible; a
   * session media event also the session media rule.
   */
  eventReadable: {
    check: (principal: Principal, event: { type: string; applicationId: string; session: SessionFacts | null; sessionId: string | null }) => {
      if (!holds(principal, event.applicationId, 'application:read')) return false;
      const media = SESSION_MEDIA_EVENT_TYPES.has(event.type);
      if (!event.sessionId) return !media;
      if (!event.session) return false;
      return media ? sessionMediaCheck(principal, event.session) : sessionVisibleCheck(principal, event.session);
    },
    sql: (principal: Principal, event: { type: SQLWrapper; applicationId: SQLWrapper; sessionId: SQLWrapper }) => {
      if (principal.isAdmin) return TRUE;
      const media = sql`${event.type} in (${SESSION_MEDIA_TYPES})`;
      const visible = sessionVisibleSql(principal, { id: sql`s.id`, applicationId: sql`s.application_id` });
      return sql`(${rules.applicationVisible.sql(principal, { id: event.applicationId })} and (
        (${event.sessionId} is null and not ${media})
        or (not ${media} and exists (select 1 from session s where s.id = ${event.sessionId} and ${visible}))
        or (${media} and ${sessionMediaSql(principal, event.sessionId)})))`;
    },
  },

  /** A group, and who is in it: admins see every group, others the groups they belong to. */
  groupVisible: {
    check: (principal: Principal, group: { id: string }) => principal.isAdmin || principal.groups.has(group.id),
    sql: (principal: Principal, group: { id: SQLWrapper }) =>
      principal.isAdmin ? TRUE : sql`${group.id} = any(${uuids([...principal.groups])})`,
  },

  /** isAdmin and isIntegration of a user: admins, and the user itself. */
  userPrivateFields: {
    check: (principal: Principal, user: { id: string }) => principal.isAdmin || principal.id === user.id,
    sql: (principal: Principal, user: { id: SQLWrapper }) => (principal.isAdmin ? TRUE : sql`${user.id} = ${principal.id}`),
  },
} as const;

export type RuleName = keyof typeof rules;

/** Whether the principal may read a gated field of its application's session media. */
export function mayReadMediaField(principal: Principal, subject: { applicationId: string; field: MediaField }): boolean {
  return rules.permissionHeld.check(principal, { applicationId: subject.applicationId, permission: MEDIA_FIELD_PERMISSIONS[subject.field] });
}

/** The permission a session media field needs, for FORBIDDEN errors that name it. */
export function mediaFieldPermission(field: MediaField): Permission {
  return MEDIA_FIELD_PERMISSIONS[field];
}
