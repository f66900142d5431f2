// The body of a webhook request: the event exactly as a subscriber of `applicationEvents`
// with this selection receives it, produced by executing that selection against the schema
// (as the owner, so gated media fields follow the owner's permissions) instead of a second,
// hand-written serialisation that could drift from the `Event` type.
import { execute, parse, type GraphQLError } from 'graphql';
import type { Principal } from '../../access/principal.ts';
import type { EventRow } from '../../events/log.ts';
import type { EventSerialiser } from '../../webhooks/deliverer.ts';
import type { Context } from '../context.ts';
import { schema } from '../index.ts';
import type { ContextBase } from '../make-context.ts';

/** Every field of every event type; the README documents it as the webhook body. */
export const WEBHOOK_EVENT_FIELDS = `
  __typename id type applicationId sessionId source userId createdAt timestamp version cursor
  ... on SessionLifecycleEvent {
    session {
      id applicationId status isDraft version name description properties data
      participants { id type }
      createdBy createdAt modifiedBy modifiedAt
    }
  }
  ... on SessionDataEvent { data }
  ... on MediaEvent {
    mediaId annotationId
    media {
      id uri scope applicationId sessionId filename contentType kind size sha256 status source
      title labels properties url createdBy createdAt modifiedAt
      annotations { id mediaId svg createdBy createdAt }
    }
  }`;

const document = parse(`subscription WebhookEvent($applicationId: ID!) {
  applicationEvents(applicationId: $applicationId) { ${WEBHOOK_EVENT_FIELDS} }
}`);

/** A field the owner may not read is null in the body, as it is for a subscriber: that error is expected. */
const expected = (error: GraphQLError) => error.extensions?.code === 'FORBIDDEN';

/** Serialises events for one owner; one context (its permission cache) per batch of events. */
export function webhookEventSerialiser(base: ContextBase): EventSerialiser {
  return (owner: Principal) => {
    const contextValue: Context = {
      ...base,
      viewer: owner,
      credential: null,
      authError: null,
      transport: 'http',
      clientTimestamp: null,
      clientAddress: null,
      requestId: 'webhook-delivery',
    };
    return async (event: EventRow) => {
      const result = await execute({
        schema,
        document,
        rootValue: event,
        contextValue,
        variableValues: { applicationId: event.applicationId },
      });
      const unexpected = result.errors?.find((error) => !expected(error));
      const body = (result.data as { applicationEvents?: unknown } | null | undefined)?.applicationEvents;
      if (unexpected || !body) throw unexpected ?? new Error(`event ${event.id} serialised to nothing`);
      return JSON.stringify(body);
    };
  };
}
