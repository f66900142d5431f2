// Which live deliveries may share one execution. Two viewers get byte-identical results for an
// event when everything the selected fields are decided from is the same for both: their
// effective permissions in the event's application, the admin and integration flags (admins
// and integration users read the media of closed sessions), and whether they take part in the
// event's session (directly or through a group) when a `*:participant` permission makes that
// matter. That is the event's *permission class* for the viewer: every rule of
// src/access/rules.ts that a field of the event graph below applies is a function of it.
//
// Some fields depend on who asks beyond that class: `Media.url` is signed for the viewer,
// `Session.application` opens the whole application graph (other sessions, whose visibility
// depends on taking part in them; users, whose private fields only they and admins see;
// groups, visible to their members). An operation that selects any field outside
// `CLASS_SAFE` is executed per viewer id instead, as before.
import {
  getNamedType,
  getOperationAST,
  print,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { grantsIn, type Principal } from '../../access/principal.ts';
import type { SessionFacts } from '../../access/rules.ts';

/** Fields whose result depends on the viewer only through the permission class. Type.field. */
const CLASS_SAFE = new Set<string>([
  ...['Event', 'SessionLifecycleEvent', 'SessionDataEvent', 'MediaEvent'].flatMap((type) =>
    ['id', 'type', 'applicationId', 'sessionId', 'source', 'userId', 'createdAt', 'timestamp', 'version', 'cursor'].map(
      (field) => `${type}.${field}`,
    ),
  ),
  'SessionLifecycleEvent.session',
  'SessionDataEvent.data',
  'MediaEvent.mediaId',
  'MediaEvent.annotationId',
  // The media as it is now, under the media rules: those of the event's session (or application).
  'MediaEvent.media',
  // The session of the event (a snapshot): its own columns, participants (ids and names), its
  // gallery (the event's session only: visibility by class) and its history (ditto).
  ...['applicationId', 'createdAt', 'createdBy', 'data', 'description', 'id', 'isDraft', 'modifiedAt', 'modifiedBy', 'name',
    'participants', 'properties', 'status', 'version', 'media', 'events'].map((field) => `Session.${field}`),
  'Participant.id',
  'Participant.name',
  'Participant.type',
  'MediaConnection.edges',
  'MediaConnection.pageInfo',
  'MediaConnection.totalCount',
  'MediaEdge.cursor',
  'MediaEdge.node',
  'EventConnection.edges',
  'EventConnection.pageInfo',
  'EventEdge.cursor',
  'EventEdge.node',
  ...['hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor'].map((field) => `PageInfo.${field}`),
  // Media without `url` (signed for the viewer).
  ...['annotations', 'applicationId', 'contentType', 'createdAt', 'createdBy', 'filename', 'id', 'kind', 'labels', 'modifiedAt',
    'properties', 'scope', 'sessionId', 'sha256', 'size', 'source', 'status', 'title', 'uri'].map((field) => `Media.${field}`),
  ...['id', 'mediaId', 'svg', 'createdAt', 'createdBy', 'modifiedAt', 'modifiedBy'].map((field) => `Annotation.${field}`),
]);

export type Sharing = 'class' | 'viewer';

const sharingOf = new WeakMap<DocumentNode, Map<string, Sharing>>();

/** Whether the operation's results may be shared by permission class, or only by viewer id. */
export function operationSharing(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): Sharing {
  let byName = sharingOf.get(document);
  if (!byName) sharingOf.set(document, (byName = new Map()));
  const name = operationName ?? '';
  let sharing = byName.get(name);
  if (sharing) return sharing;
  sharing = 'class';
  const operation = getOperationAST(document, operationName);
  const typeInfo = new TypeInfo(schema);
  const subscription = schema.getSubscriptionType();
  // Fragments are checked whether used or not: safe, and simpler than following spreads.
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const field = node.name.value;
        if (!parent || field === '__typename') return;
        if (parent === subscription) return;
        if (!CLASS_SAFE.has(`${getNamedType(parent).name}.${field}`)) sharing = 'viewer';
      },
    }),
  );
  if (!operation) sharing = 'viewer';
  byName.set(name, sharing);
  return sharing;
}

const documentText = new WeakMap<DocumentNode, string>();

/** What, besides the viewer, makes two deliveries' results the same: operation and variables. */
export function operationKey(document: DocumentNode, operationName: string | null | undefined, variables: unknown): string {
  let text = documentText.get(document);
  if (text === undefined) documentText.set(document, (text = print(document)));
  return `${operationName ?? ''}\n${JSON.stringify(variables ?? {})}\n${text}`;
}

/** Per principal object (replaced whenever reloaded), its class signature per application. */
const signatures = new WeakMap<Principal, Map<string, { key: string; participantMatters: boolean }>>();

function signature(principal: Principal, applicationId: string) {
  let byApplication = signatures.get(principal);
  if (!byApplication) signatures.set(principal, (byApplication = new Map()));
  let found = byApplication.get(applicationId);
  if (!found) {
    if (principal.isAdmin) found = { key: 'admin', participantMatters: false };
    else {
      const held = [...grantsIn(principal, applicationId)].sort();
      found = {
        key: `${principal.isIntegration ? 'integration' : 'user'}:${held.join(',')}`,
        participantMatters: held.some((permission) => permission.endsWith(':participant')),
      };
    }
    byApplication.set(applicationId, found);
  }
  return found;
}

function takesPart(principal: Principal, session: SessionFacts): boolean {
  return session.participants.some((p) => (p.type === 'USER' ? p.id === principal.id : principal.groups.has(p.id)));
}

/**
 * The viewer's permission class for one event: viewers with the same class get the same result
 * for every CLASS_SAFE selection of that event.
 */
export function permissionClass(principal: Principal, applicationId: string, session: SessionFacts | null): string {
  const { key, participantMatters } = signature(principal, applicationId);
  if (!participantMatters || !session) return key;
  return takesPart(principal, session) ? `${key}|part` : key;
}
