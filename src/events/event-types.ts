// Every event type, one row each: the GraphQL type that shows it, its description, whether it
// is about session media (the media read rules apply to it) and whether it changes who may see
// its session (cached session facts are reloaded before it is delivered). The EventType enum,
// the GraphQL types, the visibility rules and the cache invalidation all read this table, and
// appendEvents refuses a type that is not in it.
export type EventGraphQLType = 'SessionLifecycleEvent' | 'SessionDataEvent' | 'MediaEvent';

interface EventTypeRow {
  graphqlType: EventGraphQLType;
  description: string;
  sessionMedia: boolean;
  changesSessionAccess: boolean;
}

const lifecycle = (description: string, changesSessionAccess = false): EventTypeRow => ({
  graphqlType: 'SessionLifecycleEvent',
  description,
  sessionMedia: false,
  changesSessionAccess,
});
const data = (description: string): EventTypeRow => ({ graphqlType: 'SessionDataEvent', description, sessionMedia: false, changesSessionAccess: false });
const media = (description: string, sessionMedia: boolean): EventTypeRow => ({ graphqlType: 'MediaEvent', description, sessionMedia, changesSessionAccess: false });

export const EVENT_TYPE_TABLE = {
  SESSION_CREATED: lifecycle('A session was created.'),
  SESSION_UPDATED: lifecycle('The name or description of a session changed.'),
  SESSION_PROPERTIES_UPDATED: lifecycle('The properties of a session were replaced.'),
  SESSION_DATA_UPDATED: data('A merge patch was applied to the session data.'),
  SESSION_EVENT_CREATED: data('A custom event was recorded on a session.'),
  SESSION_PARTICIPANT_ADDED: lifecycle('A user or group joined a session.', true),
  SESSION_CLOSED: lifecycle('A session was closed: its media are now reachable only by integration users and admins.', true),
  APPLICATION_MEDIA_CREATED: media('Application media was uploaded.', false),
  APPLICATION_MEDIA_UPDATED: media('The title or content of application media changed.', false),
  APPLICATION_MEDIA_DELETED: media('Application media was deleted for good.', false),
  SESSION_MEDIA_CREATED: media('Session media was created (status UPLOADING).', true),
  SESSION_MEDIA_UPDATED: media('Session media changed: its bytes are stored (READY), or its title, labels or properties.', true),
  SESSION_MEDIA_ANNOTATION_CREATED: media('An annotation was added to a photo.', true),
  SESSION_MEDIA_ANNOTATION_DELETED: media('An annotation was removed from a photo.', true),
  SESSION_MEDIA_ARCHIVED: media('Session media was archived: hidden from every read, still stored.', true),
  SESSION_MEDIA_UNARCHIVED: media('Archived session media was restored.', true),
  SESSION_MEDIA_DELETED: media('Session media was deleted for good.', true),
} as const satisfies Record<string, EventTypeRow>;

export type EventType = keyof typeof EVENT_TYPE_TABLE;
export const EVENT_TYPES = Object.keys(EVENT_TYPE_TABLE) as EventType[];
export const EventType = Object.fromEntries(EVENT_TYPES.map((type) => [type, type])) as { readonly [T in EventType]: T };

function typesWhere(test: (row: EventTypeRow) => boolean): ReadonlySet<string> {
  return new Set(EVENT_TYPES.filter((type) => test(EVENT_TYPE_TABLE[type])));
}

/** Events about session media: the session media read rules apply to them. */
export const SESSION_MEDIA_EVENT_TYPES = typesWhere((row) => row.sessionMedia);
/** Events after which a cached view of their session's visibility is stale. */
export const SESSION_ACCESS_EVENT_TYPES = typesWhere((row) => row.changesSessionAccess);

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_TYPE_TABLE, value);
}

/** The GraphQL type of an event row. */
export function eventGraphQLType(type: string): EventGraphQLType {
  if (!isEventType(type)) throw new Error(`Unknown event type ${type}`);
  return EVENT_TYPE_TABLE[type].graphqlType;
}
