// Event types over the rows of the event log, and the reads of its history: `events` and
// `Session.events` (Relay pages: `first`/`after` from the start, `last`/`before` from the end),
// and `Application.eventCursor`, the end of the log to subscribe from. Payloads are snapshots
// taken in the transaction of the change.
import { EVENT_TYPE_TABLE, EVENT_TYPES, eventGraphQLType, type EventGraphQLType } from '../../events/event-types.ts';
import { encodeEventCursor, type EventRow, type EventType as EventTypeName } from '../../events/log.ts';
import { eventReadable, lastPosition, pageBounds, readEvents, readSessionsEvents } from '../../domain/events.ts';
import { badInput, notFound } from '../../domain/errors.ts';
import type { SessionSnapshot } from '../../domain/sessions.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { keyedLoader } from '../loaders.ts';
import { Application } from '../applications/types.ts';
import { Session } from '../sessions/types.ts';

export const EventTypeEnum = builder.enumType('EventType', {
  description: 'What an event records.',
  values: Object.fromEntries(EVENT_TYPES.map((type) => [type, { description: EVENT_TYPE_TABLE[type].description }])),
});

/** The GraphQL type name of an event row. */
export function eventTypeName(row: Pick<EventRow, 'type'>): EventGraphQLType {
  return eventGraphQLType(row.type);
}

export const Event = builder.interfaceRef<EventRow>('Event').implement({
  description: 'One change, as recorded in the event log in the transaction that made it.',
  resolveType: (row) => eventTypeName(row),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The event id.' }),
    type: t.field({ type: EventTypeEnum, description: 'What happened.', resolve: (row) => row.type as EventTypeName }),
    applicationId: t.exposeID('applicationId', { description: 'The application of the change.' }),
    sessionId: t.exposeID('sessionId', { nullable: true, description: 'The session of the change, if any.' }),
    source: t.exposeString('source', { description: 'Where the event comes from; "skylight" by default.' }),
    userId: t.exposeID('userId', { nullable: true, description: 'Who acted.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'Server time of the event.' }),
    timestamp: t.expose('timestamp', {
      type: 'DateTime',
      description: 'Client time of the event (x-client-timestamp or the argument); the server time when the client gave none.',
    }),
    version: t.exposeInt('version', { nullable: true, description: "The session's application version." }),
    cursor: t.string({
      description: 'Opaque, ordered position of the event: pass it as `after` to resume.',
      resolve: (row) => encodeEventCursor(Number(row.position)),
    }),
  }),
});

export const SessionLifecycleEvent = builder.objectRef<EventRow>('SessionLifecycleEvent').implement({
  description: 'SESSION_CREATED, SESSION_UPDATED, SESSION_PROPERTIES_UPDATED, SESSION_PARTICIPANT_ADDED, SESSION_CLOSED.',
  interfaces: [Event],
  isTypeOf: (row) => eventTypeName(row as EventRow) === 'SessionLifecycleEvent',
  fields: (t) => ({
    session: t.field({
      type: Session,
      description: 'The session as it was right after the event.',
      resolve: (row) => (row.payload as { session: SessionSnapshot }).session as never,
    }),
  }),
});

export const SessionDataEvent = builder.objectRef<EventRow>('SessionDataEvent').implement({
  description: 'SESSION_DATA_UPDATED (data = the patch applied) and SESSION_EVENT_CREATED (data = the custom payload).',
  interfaces: [Event],
  isTypeOf: (row) => eventTypeName(row as EventRow) === 'SessionDataEvent',
  fields: (t) => ({
    data: t.field({
      type: 'JSON',
      description: 'The merge patch as given, or the custom payload.',
      resolve: (row) => (row.payload as { data: unknown }).data,
    }),
  }),
});

export const MediaEvent = builder.objectRef<EventRow>('MediaEvent').implement({
  description: 'Every *_MEDIA_* event type.',
  interfaces: [Event],
  isTypeOf: (row) => eventTypeName(row as EventRow) === 'MediaEvent',
  fields: (t) => ({
    mediaId: t.id({ description: 'The media the event is about.', resolve: (row) => row.mediaId! }),
    annotationId: t.exposeID('annotationId', { nullable: true, description: 'For the two annotation events.' }),
  }),
});

export const EventConnection = builder.connectionObject(
  { type: Event, name: 'EventConnection', description: 'A page of events in cursor order, oldest first.' },
  { name: 'EventEdge', description: 'An event and its cursor (the same as `Event.cursor`).' },
);

const MAX_PAGE = 100;
const DEFAULT_PAGE = 20;

interface PageArgs {
  applicationId: string;
  sessionId?: string | null;
  types?: readonly string[] | null;
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** `first` or `last`: between 0 and MAX_PAGE, and not both (Relay's advice); neither: the first DEFAULT_PAGE. */
function pageShape(args: Pick<PageArgs, 'first' | 'last'>): { size: number; fromEnd: boolean } {
  for (const field of ['first', 'last'] as const) {
    const value = args[field];
    if (value != null && (value < 0 || value > MAX_PAGE)) throw badInput(field, `${field} must be between 0 and ${MAX_PAGE}`);
  }
  if (args.first != null && args.last != null) throw badInput('last', 'Give first or last, not both');
  return args.last != null ? { size: args.last, fromEnd: true } : { size: args.first ?? DEFAULT_PAGE, fromEnd: false };
}

/** The page's shape, bounds and the reader's filter, shared by `events` and `Session.events`. */
async function pageQuery(ctx: Context, args: PageArgs) {
  const shape = pageShape(args);
  return {
    ...shape,
    ...(await pageBounds(ctx.db, args.after, args.before)),
    types: args.types as EventTypeName[] | null,
    readable: eventReadable(ctx.viewer!),
    limit: shape.size + 1,
  };
}

/**
 * A connection, oldest first, from rows read one beyond the page size: from the start of the
 * range (`first`), or newest first from its end (`last`, turned around here).
 */
function connectionOf(rows: EventRow[], shape: { size: number; fromEnd: boolean }, args: Pick<PageArgs, 'after' | 'before'>) {
  const more = rows.length > shape.size;
  const page = rows.slice(0, shape.size);
  if (shape.fromEnd) page.reverse();
  const edges = page.map((node) => ({ cursor: encodeEventCursor(Number(node.position)), node }));
  return {
    edges,
    pageInfo: shape.fromEnd
      ? {
          hasPreviousPage: more,
          hasNextPage: !!args.before,
          startCursor: edges[0]?.cursor ?? args.before ?? null,
          endCursor: edges.at(-1)?.cursor ?? args.after ?? null,
        }
      : {
          hasNextPage: more,
          hasPreviousPage: !!args.after,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? args.after ?? null,
        },
  };
}

/** One page of readable events; at most one statement beyond the viewer's permissions (memoised) and the cursor check. */
async function eventPage(ctx: Context, args: PageArgs) {
  const page = await pageQuery(ctx, args);
  const rows = await readEvents(ctx.db, { ...page, applicationId: args.applicationId, sessionId: args.sessionId });
  return connectionOf(rows, page, args);
}

/** `Session.events` of every session of a request with the same arguments, in one statement. */
async function sessionEventPage(ctx: Context, args: PageArgs & { sessionId: string }) {
  const shape = pageShape(args);
  const key = JSON.stringify([args.applicationId, args.types ?? null, args.first ?? null, args.after ?? null, args.last ?? null, args.before ?? null]);
  const load = keyedLoader(ctx, `sessionEvents:${key}`, async (sessionIds) => {
    const page = await pageQuery(ctx, args);
    const found = await readSessionsEvents(ctx.db, { ...page, sessionIds: [...sessionIds] });
    return sessionIds.map((id) => found.get(id) ?? []);
  });
  const rows = await load.load(args.sessionId);
  return connectionOf(rows, shape, args);
}

const LAST_DESCRIPTION = `How many events from the end (at most ${MAX_PAGE}): the newest ones (before \`before\` when given), still oldest first. Not with \`first\`.`;
const BEFORE_DESCRIPTION = 'Events before this cursor (an `Event.cursor`); with `last`, pass `pageInfo.startCursor` to page back.';

builder.queryField('events', (t) =>
  t.field({
    type: EventConnection,
    description: 'The stored history of one application (or one of its sessions), oldest first, only what the viewer may read.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application.' }),
      sessionId: t.arg.id({ description: 'Only the events of this session.' }),
      types: t.arg({ type: [EventTypeEnum], description: 'Only events of these types.' }),
      first: t.arg.int({ description: `How many events (default ${DEFAULT_PAGE}, at most ${MAX_PAGE}).` }),
      after: t.arg.string({ description: 'Events after this cursor (an `Event.cursor`).' }),
      last: t.arg.int({ description: LAST_DESCRIPTION }),
      before: t.arg.string({ description: BEFORE_DESCRIPTION }),
    },
    authScopes: (_root, args) =>
      args.sessionId
        ? { session: { applicationId: String(args.applicationId), sessionId: String(args.sessionId), need: 'read' } }
        : { appPermission: { applicationId: String(args.applicationId), permission: 'application:read' } },
    resolve: (_root, args, ctx) =>
      eventPage(ctx, {
        ...args,
        applicationId: String(args.applicationId),
        sessionId: args.sessionId == null ? null : String(args.sessionId),
      }),
  }),
);

builder.drizzleObjectField(Session, 'events', (t) =>
  t.field({
    type: EventConnection,
    description: 'The history of the session, oldest first.',
    args: {
      types: t.arg({ type: [EventTypeEnum], description: 'Only events of these types.' }),
      first: t.arg.int({ description: `How many events (default ${DEFAULT_PAGE}, at most ${MAX_PAGE}).` }),
      after: t.arg.string({ description: 'Events after this cursor (an `Event.cursor`).' }),
      last: t.arg.int({ description: LAST_DESCRIPTION }),
      before: t.arg.string({ description: BEFORE_DESCRIPTION }),
    },
    resolve: (session, args, ctx) => {
      if (!ctx.viewer) throw notFound('Session');
      return sessionEventPage(ctx, { ...args, applicationId: session.applicationId, sessionId: session.id });
    },
  }),
);

builder.drizzleObjectField(Application, 'eventCursor', (t) =>
  t.string({
    description:
      'A cursor meaning "now": the end of the event log at the moment of asking. Pass it as `after` to `applicationEvents`, `sessionEvents` or `events` to get exactly what happens from then on, nothing earlier and nothing missed, also across a reconnect before the first event arrives.',
    // The same for every application of a request: one statement, however many applications ask.
    resolve: (_application, _args, ctx) =>
      keyedLoader(ctx, 'eventCursor', async (keys) => {
        const position = encodeEventCursor(await lastPosition(ctx.db));
        return keys.map(() => position);
      }).load(''),
  }),
);
