// Live event streams over graphql-ws and SSE. Scopes are checked on subscribe (scope-auth's
// authorizeOnSubscribe); after that the hub filters every event by what the viewer may read at
// delivery time (`rules.eventReadable`), every event's selection runs with the viewer's
// permissions of that moment (shared-execution.ts), and the credential is re-checked while the
// stream is open: over graphql-ws by the socket, over SSE by the stream itself.
import type { EventType } from '../../events/log.ts';
import { isStreamFailure, type StreamItem } from '../../events/subscription.ts';
import { DomainError } from '../../domain/errors.ts';
import { builder } from '../builder.ts';
import { toGraphQLError } from '../errors.ts';
import { Event, EventTypeEnum } from './types.ts';

builder.subscriptionType({
  description:
    'Live streams of events (graphql-ws on /graphql, or SSE with `Accept: text/event-stream`). ' +
    'With `after`, every stored event after that cursor is replayed first, then the stream goes live: no gap, no duplicate, cursor order.',
  authScopes: { authenticated: true },
});

/** The event, or the error that ends a stream whose subscriber fell too far behind (RATE_LIMITED). */
function deliver(item: StreamItem) {
  if (isStreamFailure(item)) throw item.failure instanceof DomainError ? toGraphQLError(item.failure) : item.failure;
  return item;
}

const TYPES_DESCRIPTION = 'Only events of these types.';
const AFTER_DESCRIPTION =
  'Replay every stored event after this cursor (an `Event.cursor`) before going live; resume here after a disconnect. ' +
  'A malformed or unknown cursor is BAD_USER_INPUT.';

builder.subscriptionField('applicationEvents', (t) =>
  t.field({
    type: Event,
    description:
      'Every event of the application that the viewer may see: session events of visible sessions, media events with media read permission.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application.' }),
      types: t.arg({ type: [EventTypeEnum], description: TYPES_DESCRIPTION }),
      after: t.arg.string({ description: AFTER_DESCRIPTION }),
    },
    authScopes: (_root, args) => ({
      appPermission: { applicationId: String(args.applicationId), permission: 'application:read' },
    }),
    subscribe: (_root, args, ctx) =>
      ctx.services.events.subscribe({
        viewer: ctx.viewer!,
        guard: ctx.transport === 'http' ? ctx.credential : null,
        applicationId: String(args.applicationId),
        types: args.types as EventType[] | null | undefined,
        after: args.after,
      }),
    resolve: deliver,
  }),
);

builder.subscriptionField('sessionEvents', (t) =>
  t.field({
    type: Event,
    description: 'Every event of one session that the viewer may see.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application of the session.' }),
      sessionId: t.arg.id({ required: true, description: 'The session; it must be visible to the viewer.' }),
      types: t.arg({ type: [EventTypeEnum], description: TYPES_DESCRIPTION }),
      after: t.arg.string({ description: AFTER_DESCRIPTION }),
    },
    authScopes: (_root, args) => ({
      session: { applicationId: String(args.applicationId), sessionId: String(args.sessionId), need: 'read' },
    }),
    subscribe: (_root, args, ctx) =>
      ctx.services.events.subscribe({
        viewer: ctx.viewer!,
        guard: ctx.transport === 'http' ? ctx.credential : null,
        applicationId: String(args.applicationId),
        sessionId: String(args.sessionId),
        types: args.types as EventType[] | null | undefined,
        after: args.after,
      }),
    resolve: deliver,
  }),
);
