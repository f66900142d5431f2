import { rules } from '../../access/rules.ts';
import { notFound } from '../../domain/errors.ts';
import { builder } from '../builder.ts';
import { loadersOf } from '../loaders.ts';
import { Participant } from '../identity/types.ts';

export const Role = builder.drizzleObject('roleTable', {
  name: 'Role',
  description: 'A named set of permissions in one application, held by users and groups.',
  select: { columns: { id: true } },
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The role id.' }),
    applicationId: t.exposeID('applicationId', { description: 'The application the role belongs to.' }),
    name: t.exposeString('name', { description: 'Unique within the application.' }),
    description: t.exposeString('description', { description: 'What the role is for.' }),
    permissions: t.exposeStringList('permissions', {
      description: 'Permission strings from the catalogue, as granted (super permissions not expanded).',
    }),
    participants: t.field({
      type: [Participant],
      description: 'Users and groups holding the role.',
      select: { with: { participants: { orderBy: { createdAt: 'asc' } } } },
      resolve: (role) => role.participants.map((p) => ({ id: p.participantId, type: p.participantType })),
    }),
    isDefault: t.exposeBoolean('isDefault', {
      description: 'One of Owner, Developer, Manager, User: editable, not deletable.',
    }),
    createdBy: t.exposeID('createdBy', { nullable: true, description: 'Null for default roles.' }),
    createdAt: t.expose('createdAt', {
      type: 'DateTime',
      description: "For default roles, the application's creation time.",
    }),
    modifiedBy: t.exposeID('modifiedBy', { nullable: true, description: 'Who last changed the role.' }),
    modifiedAt: t.expose('modifiedAt', { type: 'DateTime', description: 'When the role last changed.' }),
  }),
});

export const Application = builder.drizzleObject('applicationTable', {
  name: 'Application',
  description: 'A work application: its versions, roles, sessions and reference media.',
  select: { columns: { id: true } },
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The application id.' }),
    name: t.exposeString('name', { description: 'The name of the application.' }),
    description: t.exposeString('description', { description: 'What the application is for.' }),
    draftVersion: t.exposeInt('draftVersion', {
      nullable: true,
      description: 'The version being drafted, or null when everything is published.',
    }),
    publishedVersion: t.exposeInt('publishedVersion', {
      nullable: true,
      description: 'The latest published version, or null before the first publish.',
    }),
    createdBy: t.exposeID('createdBy', { nullable: true, description: 'Who created the application.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the application was created.' }),
    roles: t.relation('roles', { description: 'The roles of the application, by name.', query: { orderBy: { name: 'asc' } } }),
    members: t.field({
      type: [Participant],
      description: 'Every user and group holding a role in the application, by name: whom a frontend can pick to add to a session.',
      authScopes: (application) => ({ appPermission: { applicationId: application.id, permission: 'application:read' } }),
      resolve: (application, _args, ctx) => loadersOf(ctx).applicationMembers.load(application.id),
    }),
  }),
});

export const ApplicationConnection = builder.connectionObject(
  { type: Application, name: 'ApplicationConnection', description: 'A page of applications.' },
  { name: 'ApplicationEdge', description: 'An application and its cursor.' },
);

builder.queryFields((t) => ({
  application: t.drizzleField({
    type: Application,
    nullable: true,
    description: 'One application; NOT_FOUND unless the viewer holds application:read in it.',
    args: { applicationId: t.arg.id({ required: true, description: 'The application id.' }) },
    authScopes: (_root, args) => ({
      appPermission: { applicationId: String(args.applicationId), permission: 'application:read' },
    }),
    resolve: async (query, _root, args, ctx) => {
      const found = await ctx.db.query.applicationTable.findFirst(query({ where: { id: String(args.applicationId) } }));
      if (!found) throw notFound('Application');
      return found;
    },
  }),
  applications: t.drizzleConnection(
    {
      type: Application,
      description: 'The applications the viewer may read (application:read), oldest first.',
      resolve: (query, _root, _args, ctx) =>
        ctx.db.query.applicationTable.findMany(
          query({
            where: { RAW: (table) => rules.applicationVisible.sql(ctx.viewer!, table) },
            orderBy: { seq: 'asc' },
          }),
        ),
    },
    ApplicationConnection,
  ),
  roles: t.drizzleField({
    type: [Role],
    description: 'The roles of one application, by name.',
    args: { applicationId: t.arg.id({ required: true, description: 'The application id.' }) },
    authScopes: (_root, args) => ({
      appPermission: { applicationId: String(args.applicationId), permission: 'application:read' },
    }),
    resolve: (query, _root, args, ctx) =>
      ctx.db.query.roleTable.findMany(
        query({ where: { applicationId: String(args.applicationId) }, orderBy: { name: 'asc' } }),
      ),
  }),
}));

