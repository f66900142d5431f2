// Managing webhooks (application:webhooks:manage). A secret is answered once, by
// createWebhook and rotateWebhookSecret, and never again. Changes wake this instance's
// deliverer, so a resumed or replaying endpoint starts at once.
import * as webhooks from '../../domain/webhooks.ts';
import type { WebhookRow } from '../../domain/webhooks.ts';
import type { EventType } from '../../events/log.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { EventTypeEnum } from '../events/types.ts';
import { Webhook, WebhookDelivery, manageScope } from './types.ts';

const settings = (ctx: Context): webhooks.WebhookSettings => ({
  allowPrivate: ctx.config.webhooks.allowPrivate,
  box: ctx.services.webhooks.secretBox,
});

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  description: 'A new webhook.',
  fields: (t) => ({
    applicationId: t.id({ required: true, description: 'The application whose events it receives.' }),
    url: t.string({
      required: true,
      description: 'An http(s) URL without credentials; private, loopback and link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE.',
    }),
    types: t.field({ type: [EventTypeEnum], description: 'Only events of these types; omitted, null or empty: every type.' }),
    sessionId: t.id({ description: 'Only the events of this session (which the creator must be able to read).' }),
    after: t.string({
      description: 'Start after this cursor (an `Event.cursor`), replaying what followed it; omitted: only events committed from now on.',
    }),
  }),
});

const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  description: 'Changes to a webhook; omitted fields stay. The cursor stays where it is.',
  fields: (t) => ({
    url: t.string({ description: 'A new URL. Setting it makes you the owner: the events are then those you may read.' }),
    types: t.field({ type: [EventTypeEnum], description: 'A new type filter; null or empty: every type.' }),
    sessionId: t.id({ description: 'A new session filter; null: the whole application.' }),
  }),
});

interface WithSecret {
  webhook: WebhookRow;
  secret: string;
}

const secretFields = (name: string, description: string) =>
  builder.objectRef<WithSecret>(name).implement({
    description,
    fields: (t) => ({
      webhook: t.field({ type: Webhook, description: 'The webhook.', resolve: (payload) => payload.webhook }),
      secret: t.exposeString('secret', {
        description: 'The signing secret (whsec_…), for the receiver to verify `webhook-signature` with. Shown only here, once.',
      }),
    }),
  });

const CreateWebhookPayload = secretFields('CreateWebhookPayload', 'A created webhook and its signing secret.');
const RotateWebhookSecretPayload = secretFields('RotateWebhookSecretPayload', 'A webhook and its new signing secret.');

type PothosArgBuilder = Parameters<Parameters<typeof builder.mutationFields>[0]>[0]['arg'];
const webhookArgs = (t: { arg: PothosArgBuilder }) => ({
  applicationId: t.arg.id({ required: true, description: 'The application.' }),
  webhookId: t.arg.id({ required: true, description: 'The webhook.' }),
});

const byArgs = (_root: unknown, args: { applicationId: string | number }) => manageScope(String(args.applicationId));

/** Scope of an input that may name a session: it must be readable too. */
function withSession(applicationId: string, sessionId: string | number | null | undefined) {
  if (sessionId == null) return manageScope(applicationId);
  return { $all: { ...manageScope(applicationId), session: { applicationId, sessionId: String(sessionId), need: 'read' as const } } };
}

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: CreateWebhookPayload,
    description: 'Creates a webhook and answers its signing secret, once. Delivery starts with the next event (or after `input.after`).',
    args: { input: t.arg({ type: CreateWebhookInput, required: true, description: 'The webhook.' }) },
    authScopes: (_root, args) => withSession(String(args.input.applicationId), args.input.sessionId),
    resolve: async (_root, args, ctx) => {
      const created = await webhooks.createWebhook(
        ctx.db,
        ctx.viewer!.id,
        {
          applicationId: String(args.input.applicationId),
          url: args.input.url,
          types: args.input.types as EventType[] | null | undefined,
          sessionId: args.input.sessionId == null ? null : String(args.input.sessionId),
          after: args.input.after,
        },
        settings(ctx),
      );
      ctx.services.webhooks.wake();
      return created;
    },
  }),
  updateWebhook: t.drizzleField({
    type: Webhook,
    description: 'Changes the URL or the filter. Setting the URL makes you its owner (the events are those you may read).',
    args: { ...webhookArgs(t), input: t.arg({ type: UpdateWebhookInput, required: true, description: 'The changes.' }) },
    authScopes: (_root, args) => withSession(String(args.applicationId), args.input.sessionId),
    resolve: async (query, _root, args, ctx) => {
      const input: webhooks.UpdateWebhookInput = {};
      if (args.input.url !== undefined) input.url = args.input.url;
      if (args.input.types !== undefined) input.types = args.input.types as EventType[] | null;
      if (args.input.sessionId !== undefined) input.sessionId = args.input.sessionId == null ? null : String(args.input.sessionId);
      const updated = await webhooks.updateWebhook(ctx.db, ctx.viewer!.id, String(args.applicationId), String(args.webhookId), input, settings(ctx));
      ctx.services.webhooks.wake();
      return (await ctx.db.query.webhookTable.findFirst(query({ where: { id: updated.id } })))!;
    },
  }),
  pauseWebhook: t.drizzleField({
    type: Webhook,
    description: 'Stops delivery (an attempt in flight finishes); events wait behind the cursor. A paused webhook keeps its reason.',
    args: webhookArgs(t),
    authScopes: byArgs,
    resolve: async (query, _root, args, ctx) => {
      const paused = await webhooks.pauseWebhook(ctx.db, ctx.viewer!.id, String(args.applicationId), String(args.webhookId));
      return (await ctx.db.query.webhookTable.findFirst(query({ where: { id: paused.id } })))!;
    },
  }),
  resumeWebhook: t.drizzleField({
    type: Webhook,
    description: 'Delivery continues from the cursor, with the event that failed last (if any) first and a fresh set of attempts.',
    args: webhookArgs(t),
    authScopes: byArgs,
    resolve: async (query, _root, args, ctx) => {
      const resumed = await webhooks.resumeWebhook(ctx.db, ctx.viewer!.id, String(args.applicationId), String(args.webhookId));
      ctx.services.webhooks.wake();
      return (await ctx.db.query.webhookTable.findFirst(query({ where: { id: resumed.id } })))!;
    },
  }),
  deleteWebhook: t.id({
    description: 'Deletes a webhook and its delivery log. Answers its id.',
    args: webhookArgs(t),
    authScopes: byArgs,
    resolve: (_root, args, ctx) => webhooks.deleteWebhook(ctx.db, String(args.applicationId), String(args.webhookId)),
  }),
  rotateWebhookSecret: t.field({
    type: RotateWebhookSecretPayload,
    description:
      'Replaces the signing secret and answers the new one, once. For `graceSeconds` the old secret keeps signing too (each request carries both signatures).',
    args: {
      ...webhookArgs(t),
      graceSeconds: t.arg.int({
        defaultValue: 86_400,
        description: `How long the old secret stays valid, 0 to ${webhooks.MAX_SECRET_GRACE_SECONDS} seconds (default a day).`,
      }),
    },
    authScopes: byArgs,
    resolve: (_root, args, ctx) =>
      webhooks.rotateWebhookSecret(
        ctx.db,
        ctx.viewer!.id,
        String(args.applicationId),
        String(args.webhookId),
        args.graceSeconds ?? 86_400,
        settings(ctx),
      ),
  }),
  redeliverWebhookEvent: t.drizzleField({
    type: WebhookDelivery,
    description:
      'Sends one event to the webhook again, now, outside the ordered stream (the cursor does not move), and answers the attempt. The event must be one the webhook takes and its owner may read (else NOT_FOUND).',
    args: { ...webhookArgs(t), eventId: t.arg.id({ required: true, description: 'The event (`Event.id`).' }) },
    authScopes: byArgs,
    resolve: async (query, _root, args, ctx) => {
      const delivery = await ctx.services.webhooks.redeliver(String(args.applicationId), String(args.webhookId), String(args.eventId));
      return (await ctx.db.query.webhookDeliveryTable.findFirst(query({ where: { id: delivery.id } })))!;
    },
  }),
}));
