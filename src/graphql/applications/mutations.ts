import * as applications from '../../domain/applications.ts';
import { builder } from '../builder.ts';
import { accessChanged } from '../context.ts';
import { ParticipantInput } from '../identity/types.ts';
import { Application, Role } from './types.ts';

const CreateApplicationInput = builder.inputType('CreateApplicationInput', {
  description: 'A new application.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'The name of the application.' }),
    description: t.string({ defaultValue: '', description: 'What it is for.' }),
  }),
});

const UpdateApplicationInput = builder.inputType('UpdateApplicationInput', {
  description: 'Changes to an application; omitted fields stay.',
  fields: (t) => ({
    name: t.string({ description: 'A new name.' }),
    description: t.string({ description: 'A new description.' }),
  }),
});

const CreateRoleInput = builder.inputType('CreateRoleInput', {
  description: 'A new role.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Unique within the application.' }),
    description: t.string({ defaultValue: '', description: 'What the role is for.' }),
    permissions: t.stringList({ required: true, description: 'Permission strings from the catalogue.' }),
  }),
});

const UpdateRoleInput = builder.inputType('UpdateRoleInput', {
  description: 'Changes to a role; omitted fields stay. `permissions` replaces the whole list.',
  fields: (t) => ({
    name: t.string({ description: 'A new name.' }),
    description: t.string({ description: 'A new description.' }),
    permissions: t.stringList({ description: 'The new permission list.' }),
  }),
});

const appScope = (permission: 'application:update' | 'role:manage') => (_root: unknown, args: { applicationId: string | number }) => ({
  appPermission: { applicationId: String(args.applicationId), permission },
});

builder.mutationFields((t) => ({
  createApplication: t.drizzleField({
    type: Application,
    description: 'Creates an application with draft version 1 and the four default roles; the creator is Owner (admin only).',
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApplicationInput, required: true, description: 'The application.' }) },
    resolve: async (query, _root, args, ctx) => {
      const created = await applications.createApplication(ctx.db, ctx.viewer!.id, args.input);
      await accessChanged(ctx);
      return (await ctx.db.query.applicationTable.findFirst(query({ where: { id: created.id } })))!;
    },
  }),
  updateApplication: t.drizzleField({
    type: Application,
    description: 'Changes name or description; opens a draft version when there is none.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application.' }),
      input: t.arg({ type: UpdateApplicationInput, required: true, description: 'The changes.' }),
    },
    authScopes: appScope('application:update'),
    resolve: async (query, _root, args, ctx) => {
      const updated = await applications.updateApplication(ctx.db, String(args.applicationId), args.input);
      return (await ctx.db.query.applicationTable.findFirst(query({ where: { id: updated.id } })))!;
    },
  }),
  publishApplication: t.drizzleField({
    type: Application,
    description: 'Publishes the draft: publishedVersion = draftVersion, draftVersion = null. FAILED_PRECONDITION without a draft.',
    args: { applicationId: t.arg.id({ required: true, description: 'The application.' }) },
    authScopes: appScope('application:update'),
    resolve: async (query, _root, args, ctx) => {
      const published = await applications.publishApplication(ctx.db, String(args.applicationId));
      return (await ctx.db.query.applicationTable.findFirst(query({ where: { id: published.id } })))!;
    },
  }),
  createRole: t.drizzleField({
    type: Role,
    description: 'Creates a role. Unknown permission strings are BAD_USER_INPUT.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application.' }),
      input: t.arg({ type: CreateRoleInput, required: true, description: 'The role.' }),
    },
    authScopes: appScope('role:manage'),
    resolve: async (query, _root, args, ctx) => {
      const role = await applications.createRole(ctx.db, ctx.viewer!.id, String(args.applicationId), args.input);
      await accessChanged(ctx);
      return (await ctx.db.query.roleTable.findFirst(query({ where: { id: role.id } })))!;
    },
  }),
  updateRole: t.drizzleField({
    type: Role,
    description: 'Changes a role, default roles included.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application.' }),
      roleId: t.arg.id({ required: true, description: 'The role.' }),
      input: t.arg({ type: UpdateRoleInput, required: true, description: 'The changes.' }),
    },
    authScopes: appScope('role:manage'),
    resolve: async (query, _root, args, ctx) => {
      const role = await applications.updateRole(
        ctx.db,
        ctx.viewer!.id,
        String(args.applicationId),
        String(args.roleId),
        args.input,
      );
      await accessChanged(ctx);
      return (await ctx.db.query.roleTable.findFirst(query({ where: { id: role.id } })))!;
    },
  }),
  deleteRole: t.id({
    description: 'Deletes a role that is not a default role (FORBIDDEN for those). Answers its id.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application.' }),
      roleId: t.arg.id({ required: true, description: 'The role.' }),
    },
    authScopes: appScope('role:manage'),
    resolve: async (_root, args, ctx) => {
      const id = await applications.deleteRole(ctx.db, String(args.applicationId), String(args.roleId));
      await accessChanged(ctx);
      return id;
    },
  }),
  addRoleParticipant: t.drizzleField({
    type: Role,
    description: 'Gives a role to a user or group (which must exist); giving it twice changes nothing.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application.' }),
      roleId: t.arg.id({ required: true, description: 'The role.' }),
      participant: t.arg({ type: ParticipantInput, required: true, description: 'The user or group.' }),
    },
    authScopes: appScope('role:manage'),
    resolve: async (query, _root, args, ctx) => {
      const role = await applications.addRoleParticipant(
        ctx.db,
        ctx.viewer!.id,
        String(args.applicationId),
        String(args.roleId),
        { id: String(args.participant.id), type: args.participant.type ?? 'USER' },
      );
      await accessChanged(ctx);
      return (await ctx.db.query.roleTable.findFirst(query({ where: { id: role.id } })))!;
    },
  }),
  removeRoleParticipant: t.drizzleField({
    type: Role,
    description: 'Takes a role from a user or group.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application.' }),
      roleId: t.arg.id({ required: true, description: 'The role.' }),
      participant: t.arg({ type: ParticipantInput, required: true, description: 'The user or group.' }),
    },
    authScopes: appScope('role:manage'),
    resolve: async (query, _root, args, ctx) => {
      const role = await applications.removeRoleParticipant(
        ctx.db,
        ctx.viewer!.id,
        String(args.applicationId),
        String(args.roleId),
        { id: String(args.participant.id), type: args.participant.type ?? 'USER' },
      );
      await accessChanged(ctx);
      return (await ctx.db.query.roleTable.findFirst(query({ where: { id: role.id } })))!;
    },
  }),
}));
