import * as identity from '../../domain/identity.ts';
import { login, refresh } from '../../domain/login.ts';
import { builder } from '../builder.ts';
import { ApiToken, AuthTokens, Group, User } from './types.ts';

builder.mutationFields((t) => ({
  login: t.field({
    type: AuthTokens,
    description: 'Signs in with a password; answers an access token (15 minutes) and a refresh token.',
    skipTypeScopes: true,
    args: {
      username: t.arg.string({ required: true, description: 'The username.' }),
      password: t.arg.string({ required: true, description: 'The password.' }),
    },
    resolve: (_root, args, ctx) => login(ctx.db, ctx.config, args.username, args.password),
  }),
  refreshToken: t.field({
    type: AuthTokens,
    description: 'Trades a refresh token for new tokens. Each refresh token works once; reuse revokes the login.',
    skipTypeScopes: true,
    args: { refreshToken: t.arg.string({ required: true, description: 'The refresh token from login or a refresh.' }) },
    resolve: (_root, args, ctx) => refresh(ctx.db, ctx.config, args.refreshToken),
  }),
  createUser: t.drizzleField({
    type: User,
    description: 'Creates a user (admin only). Without a password the user can only act through API tokens.',
    authScopes: { admin: true },
    args: {
      username: t.arg.string({ required: true, description: 'Unique sign-in name.' }),
      displayName: t.arg.string({ description: 'Name shown to people; defaults to the username.' }),
      password: t.arg.string({ description: 'At least 8 characters; stored as a scrypt hash.' }),
      isIntegration: t.arg.boolean({ defaultValue: false, description: 'An integration code user.' }),
      isAdmin: t.arg.boolean({ defaultValue: false, description: 'Grants every permission everywhere.' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const user = await identity.createUser(ctx.db, args);
      return (await ctx.db.query.userTable.findFirst(query({ where: { id: user.id } })))!;
    },
  }),
  createGroup: t.drizzleField({
    type: Group,
    description: 'Creates a group (admin only).',
    authScopes: { admin: true },
    args: { name: t.arg.string({ required: true, description: 'Unique group name.' }) },
    resolve: async (query, _root, args, ctx) => {
      const group = await identity.createGroup(ctx.db, args.name);
      return (await ctx.db.query.groupTable.findFirst(query({ where: { id: group.id } })))!;
    },
  }),
  addGroupMember: t.drizzleField({
    type: Group,
    description: 'Adds a user to a group (admin only); adding a member twice changes nothing.',
    authScopes: { admin: true },
    args: {
      groupId: t.arg.id({ required: true, description: 'The group.' }),
      userId: t.arg.id({ required: true, description: 'The user.' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const group = await identity.addGroupMember(ctx.db, String(args.groupId), String(args.userId));
      return (await ctx.db.query.groupTable.findFirst(query({ where: { id: group.id } })))!;
    },
  }),
  removeGroupMember: t.drizzleField({
    type: Group,
    description: 'Removes a user from a group (admin only).',
    authScopes: { admin: true },
    args: {
      groupId: t.arg.id({ required: true, description: 'The group.' }),
      userId: t.arg.id({ required: true, description: 'The user.' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const group = await identity.removeGroupMember(ctx.db, String(args.groupId), String(args.userId));
      return (await ctx.db.query.groupTable.findFirst(query({ where: { id: group.id } })))!;
    },
  }),
  createApiToken: t.field({
    type: ApiToken,
    description: 'Creates an API token for a user (admin only). The secret is in `token`, this once.',
    authScopes: { admin: true },
    args: {
      userId: t.arg.id({ required: true, description: 'The user the token acts as.' }),
      name: t.arg.string({ required: true, description: 'What the token is for.' }),
    },
    resolve: (_root, args, ctx) => identity.createApiToken(ctx.db, String(args.userId), args.name),
  }),
  revokeApiToken: t.id({
    description: 'Revokes an API token (admin only); it stops working at once. Answers its id.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true, description: 'The token id.' }) },
    resolve: (_root, args, ctx) => identity.revokeApiToken(ctx.db, String(args.id)),
  }),
}));
