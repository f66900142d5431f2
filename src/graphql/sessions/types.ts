// Session types and reads: Session, SessionConnection, session, sessions, sessionData,
// Application.sessions. Lists show only sessions the viewer may read, newest first.
import { inArray, sql, type SQL } from 'drizzle-orm';
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { participantPairs, participantRefs, type ParticipantPair } from '../../access/facts.ts';
import { rules } from '../../access/rules.ts';
import { sessionTable } from '../../db/schema.ts';
import { notFound } from '../../domain/errors.ts';
import { isUuid } from '../../domain/ids.ts';
import { sessionData, type SessionSnapshot } from '../../domain/sessions.ts';
import { Application } from '../applications/types.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { Participant } from '../identity/types.ts';
import { loadersOf } from '../loaders.ts';
import { reads } from '../planned-columns.ts';

export const SessionStatus = builder.enumType('SessionStatus', {
  description: 'Whether a session still accepts changes.',
  values: {
    OPEN: { description: 'Accepts changes.' },
    CLOSED: { description: 'Closed for good: every change is refused with FAILED_PRECONDITION.' },
  } as const,
});

export const Session = builder.drizzleObject('sessionTable', {
  name: 'Session',
  description: 'One run of a work application: its properties, data, participants, media and events.',
  // The key columns with every planned session; every other column only when a field asked for
  // reads it (`select` on the field, see src/graphql/planned-columns.ts), and `data` (up to
  // MAX_SESSION_DATA_BYTES) through a loader. Fields read the row they are given, so a session
  // snapshot carried by an event (every column) resolves from its own values. The participants
  // (a few rows, through the primary key) come with every planned session, as a snapshot carries
  // them: a list of sessions is one statement and resolves without a promise per session.
  select: { columns: { id: true, applicationId: true }, extras: { participantPairs: (table) => participantPairs(table.id) } },
  fields: (t) => ({
    id: t.id({ resolve: (s) => s.id, description: 'The session id.' }),
    applicationId: t.id({ resolve: (s) => s.applicationId, description: 'The application the session belongs to.' }),
    status: t.field({ type: SessionStatus, select: reads('status'), resolve: (s) => s.status, description: 'OPEN until closed.' }),
    isDraft: t.boolean({
      select: reads('isDraft'),
      resolve: (s) => s.isDraft,
      description: 'True when the application had no published version, or `version` is newer than it.',
    }),
    version: t.int({ select: reads('version'), resolve: (s) => s.version, description: 'The application version the session runs.' }),
    name: t.string({ select: reads('name'), resolve: (s) => s.name, description: 'The name of the session.' }),
    description: t.string({ select: reads('description'), resolve: (s) => s.description, description: 'What the session is about; "" by default.' }),
    participants: t.field({
      type: [Participant],
      description: 'Users and groups taking part, in the order they joined.',
      // Planned reads and snapshots carry them; a row from elsewhere loads them (batched).
      resolve: (session, _args, ctx) => {
        const { participants: carried, participantPairs: pairs } = session as Partial<SessionSnapshot & PlannedParticipants>;
        if (Array.isArray(pairs)) return participantRefs(pairs);
        return Array.isArray(carried) ? participantsOf(carried) : loadersOf(ctx).participants.load(session.id).then(participantsOf);
      },
    }),
    properties: t.field({ type: 'StringMap', select: reads('properties'), resolve: (s) => s.properties, description: 'String key/value pairs, filterable.' }),
    data: t.field({
      type: 'JSON',
      description: 'The session data, changed by JSON Merge Patches.',
      resolve: (s, _args, ctx) => ('data' in s ? s.data : loadersOf(ctx).sessionData.load(s.id)),
    }),
    createdBy: t.id({ nullable: true, select: reads('createdBy'), resolve: (s) => s.createdBy, description: 'Who created the session.' }),
    createdAt: t.field({ type: 'DateTime', select: reads('createdAt'), resolve: (s) => s.createdAt, description: 'When the session was created.' }),
    modifiedBy: t.id({ nullable: true, select: reads('modifiedBy'), resolve: (s) => s.modifiedBy, description: 'Who changed the session last.' }),
    modifiedAt: t.field({ type: 'DateTime', select: reads('modifiedAt'), resolve: (s) => s.modifiedAt, description: 'When the session last changed.' }),
    application: t.relation('application', { description: 'The application the session belongs to.' }),
  }),
});

/** A planned session's participants, as the extra `participantPairs` carries them. */
interface PlannedParticipants {
  participantPairs: ParticipantPair[];
}

function participantsOf(rows: SessionSnapshot['participants']) {
  return rows.map((p) => ({ id: p.participantId, type: p.participantType }));
}

/** Per field node of a document: whether a `participants` field is selected anywhere below it. */
const asksParticipants = new WeakMap<FieldNode, boolean>();

function selectsParticipants(info: GraphQLResolveInfo): boolean {
  const node = info.fieldNodes[0]!;
  let asked = asksParticipants.get(node);
  if (asked === undefined) {
    const seen = new Set<string>();
    const walk = (set: SelectionSetNode | undefined): boolean =>
      !!set?.selections.some((selection) => {
        if (selection.kind === Kind.FIELD) return selection.name.value === 'participants' || walk(selection.selectionSet);
        if (selection.kind === Kind.INLINE_FRAGMENT) return walk(selection.selectionSet);
        if (seen.has(selection.name.value)) return false;
        seen.add(selection.name.value);
        return walk(info.fragments[selection.name.value]?.selectionSet);
      });
    asked = info.fieldNodes.some((field) => walk(field.selectionSet));
    asksParticipants.set(node, asked);
  }
  return asked;
}

/**
 * The planned query of Query.session(s) without the participants subquery when the operation does
 * not ask for them (the single read). A row without them that is asked anyway loads them.
 */
function participantsIfAsked<T>(config: T, info: GraphQLResolveInfo): T {
  const planned = config as { extras?: Record<string, unknown> };
  if (!planned.extras?.participantPairs || selectsParticipants(info)) return config;
  const { participantPairs: _unasked, ...rest } = planned.extras;
  return { ...planned, extras: rest } as T;
}

/** Shared by Query.sessions and Application.sessions. */
export const SessionConnection = builder.connectionObject(
  {
    type: Session,
    name: 'SessionConnection',
    description: 'A page of sessions, newest first.',
    fields: (t) => ({
      totalCount: t.int({
        description: 'How many sessions match the filters, across all pages.',
        extensions: { pothosDrizzleTotalCount: true },
        // Query.sessions counts through drizzleConnection's `totalCount`; Application.sessions
        // counts here (plugin-drizzle's planned relatedConnection count is broken with RAW filters).
        resolve: (connection, _args, ctx) => {
          const { totalCount, parent, args } = connection as unknown as {
            totalCount?: () => number | Promise<number>;
            parent?: { id: string };
            args?: SessionFilterArgs;
          };
          return totalCount ? totalCount() : countSessions(ctx, parent!.id, args ?? {});
        },
      }),
    }),
  },
  { name: 'SessionEdge', description: 'A session and its cursor.' },
);

interface SessionFilterArgs {
  status?: readonly ('OPEN' | 'CLOSED')[] | null;
  properties?: Record<string, string> | null;
}

/** The filter of a session list as SQL over the `session` columns: status, properties (GIN @>), visibility. */
function sessionFilter(cols: typeof sessionTable, args: SessionFilterArgs, ctx: Context): SQL {
  const statuses: ('OPEN' | 'CLOSED')[] = args.status?.length ? [...args.status] : ['OPEN'];
  const parts: SQL[] = [
    inArray(cols.status, statuses),
    rules.sessionVisible.sql(ctx.viewer!, cols),
  ];
  if (args.properties && Object.keys(args.properties).length > 0) {
    parts.push(sql`${cols.properties} @> ${JSON.stringify(args.properties)}::text::jsonb`);
  }
  return sql.join(parts, sql` and `);
}

function countSessions(ctx: Context, applicationId: string, args: SessionFilterArgs): Promise<number> {
  return ctx.db.$count(
    sessionTable,
    sql`${sessionTable.applicationId} = ${applicationId} and ${sessionFilter(sessionTable, args, ctx)}`,
  );
}

const filterArgs = (t: { arg: PothosArgBuilder }) => ({
  status: t.arg({
    type: [SessionStatus],
    description: 'Statuses to list; OPEN when omitted.',
  }),
  properties: t.arg({
    type: 'StringMap',
    description: 'Only sessions whose properties contain every given key/value pair.',
  }),
});
type PothosArgBuilder = Parameters<Parameters<typeof builder.queryFields>[0]>[0]['arg'];

builder.drizzleObjectField(Application, 'sessions', (t) =>
  t.relatedConnection(
    'sessions',
    {
      description: 'Sessions of the application the viewer may read, newest first.',
      args: filterArgs(t as never),
      query: (args, ctx) => ({
        where: { RAW: (table) => sessionFilter(table, args, ctx) },
        orderBy: { seq: 'desc' },
      }),
    },
    SessionConnection,
  ),
);

const sessionArgs = (t: { arg: PothosArgBuilder }) => ({
  applicationId: t.arg.id({ required: true, description: 'The application.' }),
  sessionId: t.arg.id({ required: true, description: 'The session.' }),
});

builder.queryFields((t) => ({
  session: t.drizzleField({
    type: Session,
    nullable: true,
    description: 'One session; NOT_FOUND unless the viewer may read it.',
    args: sessionArgs(t),
    authScopes: (_root, args) => ({
      appPermission: { applicationId: String(args.applicationId), permission: 'application:read' },
    }),
    // The session rule is planned into the query itself: one statement.
    resolve: async (query, _root, args, ctx, info) => {
      const [applicationId, sessionId] = [String(args.applicationId), String(args.sessionId)];
      const found = isUuid(sessionId)
        ? await ctx.db.query.sessionTable.findFirst(
            participantsIfAsked(
              query({ where: { id: sessionId, applicationId, RAW: (table) => rules.sessionVisible.sql(ctx.viewer!, table) } }),
              info,
            ),
          )
        : null;
      if (!found) throw notFound('Session');
      return found;
    },
  }),
  sessions: t.drizzleConnection(
    {
      type: Session,
      description: 'Sessions of one application the viewer may read, newest first; open ones unless `status` says.',
      args: { applicationId: t.arg.id({ required: true, description: 'The application.' }), ...filterArgs(t) },
      authScopes: (_root, args) => ({
        appPermission: { applicationId: String(args.applicationId), permission: 'application:read' },
      }),
      totalCount: (_root, args, ctx) => countSessions(ctx, String(args.applicationId), args),
      resolve: (query, _root, args, ctx, info) =>
        ctx.db.query.sessionTable.findMany(
          participantsIfAsked(
            query({
              where: {
                applicationId: String(args.applicationId),
                RAW: (table) => sessionFilter(table, args, ctx),
              },
              orderBy: { seq: 'desc' },
            }),
            info,
          ),
        ),
    },
    SessionConnection,
  ),
  sessionData: t.field({
    type: 'JSON',
    nullable: true,
    description: 'The current data of one session.',
    args: sessionArgs(t),
    authScopes: (_root, args) => ({
      session: { applicationId: String(args.applicationId), sessionId: String(args.sessionId), need: 'read' },
    }),
    resolve: (_root, args, ctx) =>
      sessionData(ctx.db, { applicationId: String(args.applicationId), sessionId: String(args.sessionId) }),
  }),
}));
