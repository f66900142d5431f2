import * as identity from '../../domain/identity.ts';
import { login, refresh } from '../../domain/login.ts';
import { builder } from '../builder.ts';
import { accessChanged } from '../context.ts';
import { ApiToken, AuthTokens, Group, User } from './types.ts';

const UpdateUserInput = builder.inputType('UpdateUserInput', {
  description: 'Changes to a user; omitted fields stay.',
  fields: (t) => ({
    displayName: t.string({ description: 'A new display name.' }),
    password: t.string({ description: 'A new password (at least 8 characters); existing logins keep working until they expire.' }),
    isAdmin: t.boolean({ description: 'Grant or take away admin rights.' }),
    isIntegration: t.boolean({ description: 'Mark or unmark the user as an integration code user.' }),
  }),
});

builder.mutationFields((t) => ({
  login: t.field({
    type: AuthTokens,
    description:
      'Signs in with a password; answers an access token (15 minutes) and a refresh token. After too many failed attempts for a username from one address (or from one address in all) it answers RATE_LIMITED with `retryAfter` seconds, whatever the password.',
    skipTypeScopes: true,
    args: {
      username: t.arg.string({ required: true, description: 'The username.' }),
      password: t.arg.string({ required: true, description: 'The password.' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.loginThrottle.guard(args.username, ctx.clientAddress, () => login(ctx.db, ctx.config, args.username, args.password)),
  }),
  refreshToken: t.field({
    type: AuthTokens,
    description:
      'Trades a refresh token for new tokens. Each refresh token works once; reuse revokes the login: its refresh tokens and its access tokens stop at once, also on open event streams.',
    skipTypeScopes: true,
    args: { refreshToken: t.arg.string({ required: true, description: 'The refresh token from login or a refresh.' }) },
    resolve: (_root, args, ctx) => refresh(ctx.db, ctx.config, args.refreshToken, () => accessChanged(ctx)),
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
      await accessChanged(ctx);
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
      await accessChanged(ctx);
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
      await accessChanged(ctx);
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
      await accessChanged(ctx);
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
    resolve: async (_root, args, ctx) => {
      const id = await identity.revokeApiToken(ctx.db, String(args.id));
      await accessChanged(ctx);
      return id;
    },
  }),
  updateUser: t.drizzleField({
    type: User,
    description:
      'Changes a user (admin only): display name, password, admin and integration flags; omitted fields stay. Takes effect at once, also on open event streams.',
    authScopes: { admin: true },
    args: {
      userId: t.arg.id({ required: true, description: 'The user.' }),
      input: t.arg({ type: UpdateUserInput, required: true, description: 'The changes.' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const user = await identity.updateUser(ctx.db, String(args.userId), args.input);
      await accessChanged(ctx);
      return (await ctx.db.query.userTable.findFirst(query({ where: { id: user.id } })))!;
    },
  }),
  deleteUser: t.id({
    description:
      "Deletes a user for good (admin only): its tokens, group memberships and roles go too, and its open event streams end. Sessions keep it in their participant lists. Answers the user's id.",
    authScopes: { admin: true },
    args: { userId: t.arg.id({ required: true, description: 'The user.' }) },
    resolve: async (_root, args, ctx) => {
      const id = await identity.deleteUser(ctx.db, ctx.viewer!.id, String(args.userId));
      await accessChanged(ctx);
      return id;
    },
  }),
}));
