// Webhook endpoints and their delivery log: Webhook, WebhookDelivery, Application.webhooks and
// Query.webhook. Everything here needs application:webhooks:manage, which application:read
// does not grant: URLs and delivery logs are for integrators. Secrets are never readable.
import { encodeEventCursor, type EventType } from '../../events/log.ts';
import { isUuid } from '../../domain/ids.ts';
import { notFound } from '../../domain/errors.ts';
import { LAG_COUNT_LIMIT, webhookLag } from '../../domain/webhooks.ts';
import { Application } from '../applications/types.ts';
import { keyedLoader } from '../loaders.ts';
import { builder } from '../builder.ts';
import { EventTypeEnum } from '../events/types.ts';

export const MANAGE = 'application:webhooks:manage' as const;

export const manageScope = (applicationId: string) => ({ appPermission: { applicationId, permission: MANAGE } });

export const WebhookStatus = builder.enumType('WebhookStatus', {
  description: 'Whether a webhook is being delivered to.',
  values: {
    ACTIVE: { description: 'Events are delivered as they come, in cursor order.' },
    PAUSED: { description: 'Nothing is delivered; events wait behind the cursor until resumeWebhook.' },
  } as const,
});

export const WebhookPauseReason = builder.enumType('WebhookPauseReason', {
  description: 'Why a webhook is paused.',
  values: {
    PAUSED_BY_USER: { description: 'pauseWebhook was called.' },
    DELIVERY_FAILED: { description: 'An event failed WEBHOOK_MAX_ATTEMPTS times; resuming retries it first.' },
    OWNER_LOST_ACCESS: {
      description: 'Its owner may no longer read the application or manage its webhooks; setting the url (updateWebhook) takes it over.',
    },
    SECRET_UNREADABLE: { description: 'The stored secret cannot be opened (WEBHOOK_SECRET_KEY changed); rotate the secret, then resume.' },
  } as const,
});

export const WebhookDeliveryStatus = builder.enumType('WebhookDeliveryStatus', {
  description: 'The outcome of one delivery attempt.',
  values: {
    SUCCEEDED: { description: 'The receiver answered 2xx.' },
    FAILED: { description: 'Anything else: another status (redirects included), a timeout, no connection, a refused address.' },
  } as const,
});

export const WebhookDelivery = builder.drizzleObject('webhookDeliveryTable', {
  name: 'WebhookDelivery',
  description: 'One attempt to deliver one event to a webhook.',
  select: { columns: { id: true } },
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The attempt id.' }),
    webhookId: t.exposeID('webhookId', { description: 'The webhook.' }),
    eventId: t.exposeID('eventId', { description: 'The event (also the `webhook-id` header: the idempotency key).' }),
    eventType: t.field({
      type: EventTypeEnum,
      description: 'The type of the event.',
      select: { columns: { eventType: true } },
      resolve: (row) => row.eventType as EventType,
    }),
    eventCursor: t.string({
      description: 'The cursor of the event, as `Event.cursor`.',
      select: { columns: { eventPosition: true } },
      resolve: (row) => encodeEventCursor(Number(row.eventPosition)),
    }),
    attempt: t.exposeInt('attempt', { description: 'Which attempt at this event it was: 1 for the first.' }),
    redelivery: t.exposeBoolean('redelivery', { description: 'Made by redeliverWebhookEvent, outside the ordered stream.' }),
    status: t.field({
      type: WebhookDeliveryStatus,
      description: 'Whether the receiver took it.',
      select: { columns: { status: true } },
      resolve: (row) => row.status,
    }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'The HTTP status of the answer; null when there was none.' }),
    durationMs: t.exposeInt('durationMs', { description: 'Milliseconds from sending to the answer (or the failure).' }),
    error: t.exposeString('error', { nullable: true, description: 'What went wrong; null on success.' }),
    response: t.exposeString('response', { nullable: true, description: 'The first kilobyte of the answer body.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the attempt started.' }),
  }),
});

export const WebhookDeliveryConnection = builder.connectionObject(
  { type: WebhookDelivery, name: 'WebhookDeliveryConnection', description: 'A page of delivery attempts, newest first.' },
  { name: 'WebhookDeliveryEdge', description: 'A delivery attempt and its cursor.' },
);

export const Webhook = builder.drizzleObject('webhookTable', {
  name: 'Webhook',
  description:
    'An HTTP endpoint that receives the events of one application, signed (Standard Webhooks), at least once and in cursor order.',
  select: { columns: { id: true, applicationId: true } },
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The webhook id.' }),
    applicationId: t.exposeID('applicationId', { description: 'The application whose events it receives.' }),
    url: t.exposeString('url', { description: 'Where events are POSTed (http or https).' }),
    types: t.field({
      type: [EventTypeEnum],
      nullable: true,
      description: 'Only events of these types; null for every type.',
      select: { columns: { types: true } },
      resolve: (row) => row.types as EventType[] | null,
    }),
    sessionId: t.exposeID('sessionId', { nullable: true, description: 'Only the events of this session; null for the whole application.' }),
    status: t.field({
      type: WebhookStatus,
      description: 'ACTIVE or PAUSED.',
      select: { columns: { status: true } },
      resolve: (row) => row.status,
    }),
    pauseReason: t.field({
      type: WebhookPauseReason,
      nullable: true,
      description: 'Why it is paused; null while active.',
      select: { columns: { pauseReason: true } },
      resolve: (row) => row.pauseReason,
    }),
    pauseMessage: t.exposeString('pauseMessage', { nullable: true, description: 'The details of the pause, e.g. the last error.' }),
    pausedAt: t.expose('pausedAt', { type: 'DateTime', nullable: true, description: 'When it was paused.' }),
    cursor: t.string({
      description: 'Delivery continues after this position of the event log (the cursors of `Event.cursor` and subscriptions).',
      select: { columns: { position: true } },
      resolve: (row) => encodeEventCursor(Number(row.position)),
    }),
    failedAttempts: t.exposeInt('attempts', {
      description: 'Failed attempts at the event after the cursor; 0 when the last attempt succeeded.',
    }),
    nextAttemptAt: t.expose('nextAttemptAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the failed event is tried again (exponential back-off with jitter); null when not waiting.',
    }),
    lag: t.int({
      description: `Events after the cursor that the filter takes (counted up to ${LAG_COUNT_LIMIT.toLocaleString('en')}), including any the owner may not read, which are skipped.`,
      resolve: (row, _args, ctx) =>
        keyedLoader(ctx, 'webhookLag', async (ids) => {
          const lag = await webhookLag(ctx.db, [...ids]);
          return ids.map((id) => lag.get(id) ?? 0);
        }).load(row.id),
    }),
    ownerId: t.exposeID('ownerId', {
      nullable: true,
      description: 'Whose read access filters the events: the creator, then whoever last set the url.',
    }),
    previousSecretExpiresAt: t.expose('previousSecretExpiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'After rotateWebhookSecret, requests carry a signature with the previous secret too until then.',
    }),
    createdBy: t.exposeID('createdBy', { nullable: true, description: 'Who created it.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    modifiedBy: t.exposeID('modifiedBy', { nullable: true, description: 'Who changed it last.' }),
    modifiedAt: t.expose('modifiedAt', { type: 'DateTime', description: 'When it last changed.' }),
    deliveries: t.relatedConnection(
      'deliveries',
      {
        description: 'The delivery log: every attempt, newest first.',
        args: { status: t.arg({ type: WebhookDeliveryStatus, description: 'Only attempts with this outcome.' }) },
        query: (args) => ({ where: args.status ? { status: args.status } : {}, orderBy: { seq: 'desc' } }),
      },
      WebhookDeliveryConnection,
    ),
  }),
});

builder.drizzleObjectField(Application, 'webhooks', (t) =>
  t.relation('webhooks', {
    nullable: true,
    description: 'The webhooks of the application, oldest first. Needs application:webhooks:manage (else null with FORBIDDEN).',
    authScopes: (application) => manageScope(application.id),
    query: { orderBy: { seq: 'asc' } },
  }),
);

builder.queryField('webhook', (t) =>
  t.drizzleField({
    type: Webhook,
    nullable: true,
    description: 'One webhook of an application; needs application:webhooks:manage.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application.' }),
      webhookId: t.arg.id({ required: true, description: 'The webhook.' }),
    },
    authScopes: (_root, args) => manageScope(String(args.applicationId)),
    resolve: async (query, _root, args, ctx) => {
      if (!isUuid(String(args.webhookId))) throw notFound('Webhook');
      const found = await ctx.db.query.webhookTable.findFirst(
        query({ where: { id: String(args.webhookId), applicationId: String(args.applicationId) } }),
      );
      if (!found) throw notFound('Webhook');
      return found;
    },
  }),
);
