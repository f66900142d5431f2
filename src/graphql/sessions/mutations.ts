// Session mutations: each calls one domain function (one transaction with its events), then
// reads the session back through plugin-drizzle so nested selections cost a fixed number of
// statements.
import * as sessions from '../../domain/sessions.ts';
import { builder } from '../builder.ts';
import { actorOf, type Context } from '../context.ts';
import { SessionDataEvent } from '../events/types.ts';
import { ParticipantInput } from '../identity/types.ts';
import { loadersOf } from '../loaders.ts';
import { Session, SessionStatus } from './types.ts';

const CreateSessionInput = builder.inputType('CreateSessionInput', {
  description: 'A new session.',
  fields: (t) => ({
    applicationId: t.id({ required: true, description: 'The application.' }),
    name: t.string({ required: true, description: 'The name of the session.' }),
    description: t.string({ defaultValue: '', description: 'What it is about.' }),
    properties: t.field({ type: 'StringMap', description: 'String key/value pairs; {} when omitted.' }),
    version: t.int({
      description: "The application version to run; the published version when omitted, else the draft.",
    }),
  }),
});

const SessionPatch = builder.inputType('SessionPatch', {
  description: 'Changes to a session; omitted fields stay.',
  fields: (t) => ({
    name: t.string({ description: 'A new name.' }),
    description: t.string({ description: 'A new description.' }),
    properties: t.field({ type: 'StringMap', description: 'Replaces the whole property dictionary.' }),
    status: t.field({ type: SessionStatus, description: 'CLOSED closes the session; a closed one stays closed.' }),
  }),
});

type SessionArgs = { applicationId: string | number; sessionId: string | number };
const keyOf = (args: SessionArgs): sessions.SessionKey => ({
  applicationId: String(args.applicationId),
  sessionId: String(args.sessionId),
});
/** Changing a session needs session:update:any, or :participant and taking part. */
const mayUpdate = (_root: unknown, args: SessionArgs) => ({ session: { ...keyOf(args), need: 'update' as const } });

builder.mutationFields((t) => {
  const sessionArgs = {
    applicationId: t.arg.id({ required: true, description: 'The application.' }),
    sessionId: t.arg.id({ required: true, description: 'The session.' }),
  };

  /** A mutation that changes a session through `change` and returns it as it is now. */
  const sessionMutation = <Args extends Record<string, unknown>>(
    description: string,
    args: Args,
    change: (ctx: Context, key: sessions.SessionKey, args: Record<string, unknown>) => Promise<unknown>,
  ) =>
    t.drizzleField({
      type: Session,
      description,
      args: { ...sessionArgs, ...args } as typeof sessionArgs,
      authScopes: mayUpdate,
      resolve: async (query, _root, args, ctx) => {
        const key = keyOf(args);
        await change(ctx, key, args as Record<string, unknown>);
        // Participants or status may have changed: later fields of this request read them again.
        loadersOf(ctx).sessionFacts.clear(key.sessionId);
        return (await ctx.db.query.sessionTable.findFirst(query({ where: { id: key.sessionId } })))!;
      },
    });

  return {
    createSession: t.drizzleField({
      type: Session,
      description: 'Creates a session (session:create); the creator takes part in it. Emits SESSION_CREATED.',
      args: { input: t.arg({ type: CreateSessionInput, required: true, description: 'The session.' }) },
      authScopes: (_root, args) => ({
        appPermission: { applicationId: String(args.input.applicationId), permission: 'session:create' },
      }),
      resolve: async (query, _root, args, ctx) => {
        const created = await sessions.createSession(ctx.db, actorOf(ctx), {
          ...args.input,
          applicationId: String(args.input.applicationId),
        });
        return (await ctx.db.query.sessionTable.findFirst(query({ where: { id: created.id } })))!;
      },
    }),
    patchSession: sessionMutation(
      'Changes only the given fields. Emits SESSION_UPDATED, SESSION_PROPERTIES_UPDATED and/or SESSION_CLOSED.',
      { patch: t.arg({ type: SessionPatch, required: true, description: 'The changes.' }) },
      (ctx, key, args) => sessions.patchSession(ctx.db, actorOf(ctx), key, args.patch as sessions.SessionPatch),
    ),
    updateSessionProperties: sessionMutation(
      'Replaces the whole property dictionary (string values only). Emits SESSION_PROPERTIES_UPDATED.',
      { properties: t.arg({ type: 'StringMap', required: true, description: 'The new properties.' }) },
      (ctx, key, args) =>
        sessions.patchSession(ctx.db, actorOf(ctx), key, { properties: args.properties as Record<string, string> }),
    ),
    updateSessionName: sessionMutation(
      'Renames the session. Emits SESSION_UPDATED.',
      { name: t.arg.string({ required: true, description: 'The new name.' }) },
      (ctx, key, args) => sessions.patchSession(ctx.db, actorOf(ctx), key, { name: args.name as string }),
    ),
    updateSessionDescription: sessionMutation(
      'Sets the description; omitted means "". Emits SESSION_UPDATED.',
      { description: t.arg.string({ description: 'The new description; "" when omitted.' }) },
      (ctx, key, args) =>
        sessions.patchSession(ctx.db, actorOf(ctx), key, { description: (args.description as string | null) ?? '' }),
    ),
    addSessionParticipant: sessionMutation(
      'Adds a user or group (it must exist); adding one twice is a no-op. Emits SESSION_PARTICIPANT_ADDED.',
      { participant: t.arg({ type: ParticipantInput, required: true, description: 'Who joins.' }) },
      (ctx, key, args) => {
        const participant = args.participant as { id: string | number; type?: 'USER' | 'GROUP' | null };
        return sessions.addSessionParticipant(ctx.db, actorOf(ctx), key, {
          id: String(participant.id),
          type: participant.type ?? 'USER',
        });
      },
    ),
    closeSession: sessionMutation(
      'Closes the session for good; closing a closed session returns it and emits nothing. Emits SESSION_CLOSED.',
      {},
      (ctx, key) => sessions.closeSession(ctx.db, actorOf(ctx), key),
    ),
    patchSessionData: t.field({
      type: 'JSON',
      description:
        'Applies a JSON Merge Patch (RFC 7386) to the session data atomically and returns the merged data. Emits SESSION_DATA_UPDATED.',
      args: { ...sessionArgs, data: t.arg({ type: 'JSON', required: true, description: 'The merge patch.' }) },
      authScopes: mayUpdate,
      resolve: (_root, args, ctx) =>
        sessions.patchSessionData(ctx.db, actorOf(ctx), keyOf(args), args.data, ctx.config.maxSessionDataBytes, ctx.config.maxPatchKeys),
    }),
    createSessionEvent: t.field({
      type: SessionDataEvent,
      description: 'Records a custom event with the given data on an open session. Emits SESSION_EVENT_CREATED.',
      args: {
        ...sessionArgs,
        data: t.arg({ type: 'JSON', required: true, description: 'The custom payload.' }),
        timestamp: t.arg({ type: 'DateTime', description: 'Client time of the event; wins over x-client-timestamp.' }),
      },
      authScopes: mayUpdate,
      resolve: (_root, args, ctx) =>
        sessions.createSessionEvent(ctx.db, actorOf(ctx), keyOf(args), args.data, args.timestamp),
    }),
  };
});
