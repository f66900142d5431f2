import { grantsIn } from '../../access/principal.ts';
import { rules } from '../../access/rules.ts';
import { isUuid } from '../../domain/ids.ts';
import { notFound } from '../../domain/errors.ts';
import { builder } from '../builder.ts';
import { User } from './types.ts';

export const Viewer = builder.objectRef<{ userId: string }>('Viewer').implement({
  description: 'The signed-in user and what it may do.',
  fields: (t) => ({
    user: t.drizzleField({
      type: User,
      description: 'The signed-in user.',
      resolve: async (query, viewer, _args, ctx) => {
        const user = await ctx.db.query.userTable.findFirst(query({ where: { id: viewer.userId } }));
        if (!user) throw notFound('User');
        return user;
      },
    }),
    permissions: t.stringList({
      description: 'Effective permissions of the viewer in one application, super permissions expanded.',
      args: { applicationId: t.arg.id({ required: true, description: 'The application.' }) },
      resolve: async (_viewer, args, ctx) => {
        const applicationId = String(args.applicationId);
        if (!rules.applicationVisible.check(ctx.viewer!, { id: applicationId })) throw notFound('Application');
        return [...grantsIn(ctx.viewer!, applicationId)];
      },
    }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: Viewer,
    description: 'Who the bearer token belongs to.',
    resolve: (_root, _args, ctx) => ({ userId: ctx.viewer!.id }),
  }),
  user: t.drizzleField({
    type: User,
    nullable: true,
    description: 'One user by id (admin only).',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true, description: 'The user id.' }) },
    resolve: async (query, _root, args, ctx) => {
      if (!isUuid(String(args.id))) throw notFound('User');
      const user = await ctx.db.query.userTable.findFirst(query({ where: { id: String(args.id) } }));
      if (!user) throw notFound('User');
      return user;
    },
  }),
  users: t.drizzleField({
    type: [User],
    description: 'Every user, by username (admin only).',
    authScopes: { admin: true },
    resolve: (query, _root, _args, ctx) => ctx.db.query.userTable.findMany(query({ orderBy: { username: 'asc' } })),
  }),
  groups: t.drizzleField({
    type: ['groupTable'],
    description: 'Every group, by name (admin only).',
    authScopes: { admin: true },
    resolve: (query, _root, _args, ctx) => ctx.db.query.groupTable.findMany(query({ orderBy: { name: 'asc' } })),
  }),
}));

