import { defineRelations } from 'drizzle-orm';
import * as schema from './schema.ts';

export const relations = defineRelations(schema, (r) => ({
  userTable: {
    memberships: r.many.groupMemberTable({ from: r.userTable.id, to: r.groupMemberTable.userId }),
    groups: r.many.groupTable({
      from: r.userTable.id.through(r.groupMemberTable.userId),
      to: r.groupTable.id.through(r.groupMemberTable.groupId),
    }),
  },
  groupTable: {
    members: r.many.userTable({
      from: r.groupTable.id.through(r.groupMemberTable.groupId),
      to: r.userTable.id.through(r.groupMemberTable.userId),
    }),
  },
  groupMemberTable: {
    user: r.one.userTable({ from: r.groupMemberTable.userId, to: r.userTable.id, optional: false }),
    group: r.one.groupTable({ from: r.groupMemberTable.groupId, to: r.groupTable.id, optional: false }),
  },
  applicationTable: {
    roles: r.many.roleTable({ from: r.applicationTable.id, to: r.roleTable.applicationId }),
    sessions: r.many.sessionTable({ from: r.applicationTable.id, to: r.sessionTable.applicationId }),
    media: r.many.mediaTable({ from: r.applicationTable.id, to: r.mediaTable.applicationId }),
    webhooks: r.many.webhookTable({ from: r.applicationTable.id, to: r.webhookTable.applicationId }),
  },
  roleTable: {
    application: r.one.applicationTable({
      from: r.roleTable.applicationId,
      to: r.applicationTable.id,
      optional: false,
    }),
    participants: r.many.roleParticipantTable({ from: r.roleTable.id, to: r.roleParticipantTable.roleId }),
  },
  sessionTable: {
    application: r.one.applicationTable({
      from: r.sessionTable.applicationId,
      to: r.applicationTable.id,
      optional: false,
    }),
    participants: r.many.sessionParticipantTable({
      from: r.sessionTable.id,
      to: r.sessionParticipantTable.sessionId,
    }),
    media: r.many.mediaTable({ from: r.sessionTable.id, to: r.mediaTable.sessionId }),
    events: r.many.eventTable({ from: r.sessionTable.id, to: r.eventTable.sessionId }),
  },
  mediaTable: {
    application: r.one.applicationTable({ from: r.mediaTable.applicationId, to: r.applicationTable.id }),
    session: r.one.sessionTable({ from: r.mediaTable.sessionId, to: r.sessionTable.id }),
    annotations: r.many.annotationTable({ from: r.mediaTable.id, to: r.annotationTable.mediaId }),
  },
  annotationTable: {
    media: r.one.mediaTable({ from: r.annotationTable.mediaId, to: r.mediaTable.id, optional: false }),
  },
  webhookTable: {
    application: r.one.applicationTable({ from: r.webhookTable.applicationId, to: r.applicationTable.id, optional: false }),
    deliveries: r.many.webhookDeliveryTable({ from: r.webhookTable.id, to: r.webhookDeliveryTable.webhookId }),
  },
  webhookDeliveryTable: {
    webhook: r.one.webhookTable({ from: r.webhookDeliveryTable.webhookId, to: r.webhookTable.id, optional: false }),
  },
}));

export type Relations = typeof relations;
