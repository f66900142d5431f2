import { rules } from '../../access/rules.ts';
import { userTable } from '../../db/schema.ts';
import { builder } from '../builder.ts';
import { loadersOf } from '../loaders.ts';

export const ParticipantType = builder.enumType('ParticipantType', {
  description: 'Whether a participant id names a user or a group.',
  values: { USER: { description: 'A user id.' }, GROUP: { description: 'A group id.' } } as const,
});

export const User = builder.drizzleObject('userTable', {
  name: 'User',
  description: 'A person or an integration (an API client) that can sign in or hold tokens.',
  select: { columns: { id: true } },
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The user id.' }),
    username: t.exposeString('username', { description: 'Unique sign-in name.' }),
    displayName: t.exposeString('displayName', { description: 'Name shown to people.' }),
    isIntegration: t.exposeBoolean('isIntegration', {
      description:
        'An integration code user (a data connector); keeps access to media of closed sessions. Only admins and the user itself see it (else FORBIDDEN).',
      authScopes: (user) => ({ userPrivate: user.id }),
    }),
    isAdmin: t.exposeBoolean('isAdmin', {
      description:
        'Admins manage users, groups, tokens and applications, and hold every permission. Only admins and the user itself see it (else FORBIDDEN).',
      authScopes: (user) => ({ userPrivate: user.id }),
    }),
    groups: t.relation('groups', {
      description: 'Groups the user belongs to; for other users, only the groups the viewer belongs to as well (admins see all).',
      query: (_args, ctx) => ({ where: { RAW: (table) => rules.groupVisible.sql(ctx.viewer!, table) }, orderBy: { name: 'asc' } }),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the user was created.' }),
  }),
});

export const Group = builder.drizzleObject('groupTable', {
  name: 'Group',
  description: 'A set of users; roles and sessions can name a group as a participant.',
  select: { columns: { id: true } },
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The group id.' }),
    name: t.exposeString('name', { description: 'Unique group name.' }),
    members: t.relation('members', {
      description: 'Users in the group; only for admins and members of the group (else FORBIDDEN).',
      authScopes: (group) => ({ groupVisible: group.id }),
      query: { orderBy: { username: 'asc' } },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the group was created.' }),
  }),
});

export interface ApiTokenShape {
  id: string;
  name: string;
  userId: string;
  token: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export const ApiToken = builder.objectRef<ApiTokenShape>('ApiToken').implement({
  description: 'A long-lived bearer token for integrations and scripts. Only its hash is stored.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The token id (for revokeApiToken).' }),
    name: t.exposeString('name', { description: 'What the token is for.' }),
    userId: t.exposeID('userId', { description: 'The user the token acts as.' }),
    token: t.exposeString('token', {
      nullable: true,
      description: 'The secret, returned once, at creation; null when read back later.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the token was created.' }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the token last authenticated a request.',
    }),
  }),
});

export const AuthTokens = builder
  .objectRef<{ accessToken: string; expiresIn: number; refreshToken: string; refreshExpiresIn: number }>('AuthTokens')
  .implement({
    description: 'Tokens from login: a short-lived access JWT and a single-use refresh token.',
    fields: (t) => ({
      accessToken: t.exposeString('accessToken', { description: 'Send as `Authorization: Bearer <accessToken>`.' }),
      expiresIn: t.exposeInt('expiresIn', { description: 'Seconds until the access token expires.' }),
      refreshToken: t.exposeString('refreshToken', {
        description: 'Trade for new tokens with refreshToken; works once (reuse revokes the login).',
      }),
      refreshExpiresIn: t.exposeInt('refreshExpiresIn', { description: 'Seconds until the refresh token expires.' }),
    }),
  });

export interface ParticipantShape {
  id: string;
  type: 'USER' | 'GROUP';
  /** Known when the participant was loaded with its name. */
  name?: string;
}

export const Participant = builder.objectRef<ParticipantShape>('Participant').implement({
  description: 'A user or a group taking part in a role or a session.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The user or group id.' }),
    type: t.expose('type', { type: ParticipantType, description: 'Whether `id` names a user or a group.' }),
    name: t.string({
      description: 'The user\'s display name, or the group\'s name, for showing people; "Deleted user" for a user deleted since.',
      resolve: async (participant, _args, ctx) => participant.name ?? (await loadersOf(ctx).participantNames.load(`${participant.type}:${participant.id}`)),
    }),
  }),
});

export const ParticipantInput = builder.inputType('ParticipantInput', {
  description: 'A user or group, by id.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The user or group id.' }),
    type: t.field({ type: ParticipantType, defaultValue: 'USER', required: false, description: 'Defaults to USER.' }),
  }),
});

export type UserRow = typeof userTable.$inferSelect;
