// The whole domain of SPEC.md as tables. Ids are UUIDs (not enumerable); every list that
// pages has a bigint `seq` (unique, not null) so cursors are exact and stable.
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const seq = () => bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull().unique();

export const userTable = pgTable('user', {
  id: uuid('id').primaryKey().defaultRandom(),
  username: text('username').notNull().unique(),
  displayName: text('display_name').notNull(),
  passwordHash: text('password_hash'),
  isIntegration: boolean('is_integration').notNull().default(false),
  isAdmin: boolean('is_admin').notNull().default(false),
  createdAt: createdAt(),
});

export const groupTable = pgTable('group', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  createdAt: createdAt(),
});

export const groupMemberTable = pgTable(
  'group_member',
  {
    groupId: uuid('group_id').notNull().references(() => groupTable.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull().references(() => userTable.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index('group_member_user_idx').on(t.userId)],
);

export const apiTokenTable = pgTable(
  'api_token',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').notNull().references(() => userTable.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** sha256 of the secret: the secret itself is never stored. */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_token_user_idx').on(t.userId)],
);

export const refreshTokenTable = pgTable(
  'refresh_token',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').notNull().references(() => userTable.id, { onDelete: 'cascade' }),
    /** Every token rotated from one login shares a family; reuse revokes the family. */
    familyId: uuid('family_id').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index('refresh_token_family_idx').on(t.familyId),
    // Every principal load lists the user's revoked logins: revocations are rare, the index small.
    index('refresh_token_revoked_user_idx').on(t.userId).where(sql`${t.revokedAt} is not null`),
  ],
);

/**
 * Failed-login counters shared by every instance on one PostgreSQL server when there is no
 * Redis (rate-limiter-flexible's Drizzle store: key, points, expire). Keys hold a hash of the
 * username and the client address.
 */
export const loginThrottleTable = pgTable('login_throttle', {
  key: text('key').primaryKey(),
  points: integer('points').notNull().default(0),
  expire: timestamp('expire', { withTimezone: true }),
});

export const applicationTable = pgTable('application', {
  id: uuid('id').primaryKey().defaultRandom(),
  seq: seq(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  draftVersion: integer('draft_version'),
  publishedVersion: integer('published_version'),
  createdBy: uuid('created_by'),
  createdAt: createdAt(),
});

export const roleTable = pgTable(
  'role',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    applicationId: uuid('application_id')
      .notNull()
      .references(() => applicationTable.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    permissions: text('permissions').array().notNull().default(sql`'{}'::text[]`),
    isDefault: boolean('is_default').notNull().default(false),
    createdBy: uuid('created_by'),
    createdAt: createdAt(),
    modifiedBy: uuid('modified_by'),
    modifiedAt: timestamp('modified_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('role_application_name_idx').on(t.applicationId, t.name)],
);

/** A user or a group holding a role. `participantId` points at user or group by `participantType`. */
export const roleParticipantTable = pgTable(
  'role_participant',
  {
    roleId: uuid('role_id').notNull().references(() => roleTable.id, { onDelete: 'cascade' }),
    participantType: text('participant_type', { enum: ['USER', 'GROUP'] }).notNull(),
    participantId: uuid('participant_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.roleId, t.participantType, t.participantId] }),
    index('role_participant_participant_idx').on(t.participantId),
  ],
);

export const sessionTable = pgTable(
  'session',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    applicationId: uuid('application_id')
      .notNull()
      .references(() => applicationTable.id, { onDelete: 'cascade' }),
    status: text('status', { enum: ['OPEN', 'CLOSED'] }).notNull().default('OPEN'),
    isDraft: boolean('is_draft').notNull(),
    version: integer('version').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    properties: jsonb('properties').$type<Record<string, string>>().notNull().default({}),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdBy: uuid('created_by'),
    createdAt: createdAt(),
    modifiedBy: uuid('modified_by'),
    modifiedAt: timestamp('modified_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('session_application_status_seq_idx').on(t.applicationId, t.status, t.seq.desc()),
    index('session_properties_idx').using('gin', sql`${t.properties} jsonb_path_ops`),
  ],
);

export const sessionParticipantTable = pgTable(
  'session_participant',
  {
    sessionId: uuid('session_id').notNull().references(() => sessionTable.id, { onDelete: 'cascade' }),
    participantType: text('participant_type', { enum: ['USER', 'GROUP'] }).notNull(),
    participantId: uuid('participant_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.participantType, t.participantId] }),
    index('session_participant_participant_idx').on(t.participantId),
  ],
);

export const mediaTable = pgTable(
  'media',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    scope: text('scope', { enum: ['APPLICATION', 'SESSION'] }).notNull(),
    applicationId: uuid('application_id')
      .notNull()
      .references(() => applicationTable.id, { onDelete: 'cascade' }),
    sessionId: uuid('session_id').references(() => sessionTable.id, { onDelete: 'cascade' }),
    filename: text('filename').notNull(),
    contentType: text('content_type').notNull(),
    kind: text('kind', { enum: ['PHOTO', 'VIDEO', 'AUDIO', 'OTHER'] }).notNull(),
    size: bigint('size', { mode: 'number' }).notNull().default(0),
    sha256: text('sha256'),
    status: text('status', { enum: ['UPLOADING', 'READY'] }).notNull().default('UPLOADING'),
    source: text('source', { enum: ['UPLOAD', 'CAPTURE', 'SNAPSHOT', 'SHARED'] }).notNull().default('UPLOAD'),
    title: text('title'),
    labels: text('labels').array().notNull().default(sql`'{}'::text[]`),
    properties: jsonb('properties').$type<Record<string, string>>().notNull().default({}),
    /** Where the bytes live in blob storage; null until stored. */
    storageKey: text('storage_key'),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    createdBy: uuid('created_by'),
    createdAt: createdAt(),
    modifiedAt: timestamp('modified_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('media_session_seq_idx').on(t.sessionId, t.seq),
    index('media_application_seq_idx').on(t.applicationId, t.scope, t.seq),
    index('media_labels_idx').using('gin', t.labels),
  ],
);

export const annotationTable = pgTable(
  'annotation',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    mediaId: uuid('media_id').notNull().references(() => mediaTable.id, { onDelete: 'cascade' }),
    svg: text('svg').notNull(),
    createdBy: uuid('created_by'),
    createdAt: createdAt(),
  },
  (t) => [index('annotation_media_idx').on(t.mediaId)],
);

/**
 * The event log. `position` is the cursor: it is assigned under a per-database advisory lock
 * held until commit (see src/events/log.ts), so positions become visible in increasing order.
 * Events are never updated or deleted, and carry no foreign keys so that they outlive what
 * they describe (a deleted media keeps its SESSION_MEDIA_DELETED event).
 */
export const eventTable = pgTable(
  'event',
  {
    position: bigint('position', { mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    id: uuid('id').notNull().unique().defaultRandom(),
    type: text('type').notNull(),
    applicationId: uuid('application_id').notNull(),
    sessionId: uuid('session_id'),
    mediaId: uuid('media_id'),
    annotationId: uuid('annotation_id'),
    source: text('source').notNull().default('skylight'),
    userId: uuid('user_id'),
    createdAt: createdAt(),
    timestamp: timestamp('timestamp', { withTimezone: true }).notNull(),
    version: integer('version'),
    /** The concrete payload: a session or media snapshot, or the data of a data event. */
    payload: jsonb('payload').$type<unknown>(),
  },
  (t) => [
    index('event_application_position_idx').on(t.applicationId, t.position),
    index('event_session_position_idx').on(t.sessionId, t.position),
  ],
);

// ---------------------------------------------------------------- webhooks (src/webhooks/)

/**
 * An endpoint that receives the events of one application by HTTP POST, in position order.
 * `position` is its cursor into the event log; `lease_*` says which instance delivers it now
 * (one at a time, cluster-wide); `attempts`/`next_attempt_at` hold the back-off of the event
 * at the cursor. Secrets are AES-GCM encrypted (src/webhooks/secrets.ts): signing needs them.
 */
export const webhookTable = pgTable(
  'webhook',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    applicationId: uuid('application_id')
      .notNull()
      .references(() => applicationTable.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    /** Event types delivered; null: every type. */
    types: text('types').array(),
    sessionId: uuid('session_id').references(() => sessionTable.id, { onDelete: 'cascade' }),
    status: text('status', { enum: ['ACTIVE', 'PAUSED'] }).notNull().default('ACTIVE'),
    pauseReason: text('pause_reason', {
      enum: ['PAUSED_BY_USER', 'DELIVERY_FAILED', 'OWNER_LOST_ACCESS', 'SECRET_UNREADABLE'],
    }),
    pauseMessage: text('pause_message'),
    pausedAt: timestamp('paused_at', { withTimezone: true }),
    secret: text('secret').notNull(),
    /** The secret before the last rotation, still signing until `previous_secret_expires_at`. */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    /** Whose read access filters the events: the creator, then whoever last changed the URL. */
    ownerId: uuid('owner_id').references(() => userTable.id, { onDelete: 'set null' }),
    position: bigint('position', { mode: 'number' }).notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    /** Bumped by every change, so a deliverer notices that its batch was read under old settings. */
    revision: integer('revision').notNull().default(1),
    leaseOwner: text('lease_owner'),
    leaseToken: uuid('lease_token'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    createdBy: uuid('created_by'),
    createdAt: createdAt(),
    modifiedBy: uuid('modified_by'),
    modifiedAt: timestamp('modified_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webhook_application_seq_idx').on(t.applicationId, t.seq)],
);

/** One delivery attempt (or redelivery) of one event to one webhook. */
export const webhookDeliveryTable = pgTable(
  'webhook_delivery',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhookTable.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id').notNull(),
    eventPosition: bigint('event_position', { mode: 'number' }).notNull(),
    eventType: text('event_type').notNull(),
    /** 1 for the first attempt at this event, counting up through retries. */
    attempt: integer('attempt').notNull(),
    redelivery: boolean('redelivery').notNull().default(false),
    status: text('status', { enum: ['SUCCEEDED', 'FAILED'] }).notNull(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms').notNull(),
    error: text('error'),
    /** The first bytes of the receiver's answer. */
    response: text('response'),
    /** The gateway instance that made the attempt (its `webhook.lease_owner`), for operators. */
    instance: text('instance'),
    createdAt: createdAt(),
  },
  (t) => [
    index('webhook_delivery_webhook_seq_idx').on(t.webhookId, t.seq),
    index('webhook_delivery_webhook_status_seq_idx').on(t.webhookId, t.status, t.seq),
  ],
);
