// The schema builder: plugins, scalars, context and auth scopes. No domain types here.
import SchemaBuilder from '@pothos/core';
import DrizzlePlugin from '@pothos/plugin-drizzle';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import { getTableConfig } from 'drizzle-orm/pg-core';
import PlannedColumnsPlugin from './planned-columns.ts';
import { rules, mayReadMediaField, mediaFieldPermission, type MediaField } from '../access/rules.ts';
import type { Principal } from '../access/principal.ts';
import type { Permission } from '../auth/permissions.ts';
import { relations, type Relations } from '../db/relations.ts';
import { forbidden, notFound, unauthenticated } from '../domain/errors.ts';
import { recheckDenial, type Context } from './context.ts';
import { toGraphQLError } from './errors.ts';
import { loadersOf } from './loaders.ts';

export interface AppPermissionScope {
  applicationId: string;
  permission: Permission;
}

export interface SessionScope {
  applicationId: string;
  sessionId: string;
  /** `read`/`update` apply the session rules; a permission is checked as held. */
  need: 'read' | 'update' | Permission;
}

export interface MediaFieldScope {
  applicationId: string;
  field: MediaField;
}

export type Scalars = {
  DateTime: { Input: Date; Output: Date | string };
  JSON: { Input: unknown; Output: unknown };
  StringMap: { Input: Record<string, string>; Output: Record<string, string> };
  BigInt: { Input: bigint; Output: bigint | number | string };
  Upload: { Input: Promise<import('graphql-upload-minimal').FileUpload>; Output: never };
};

export interface PothosTypes {
  Context: Context;
  DrizzleRelations: Relations;
  Scalars: Scalars;
  AuthScopes: {
    authenticated: boolean;
    admin: boolean;
    appPermission: AppPermissionScope;
    session: SessionScope;
    mediaField: MediaFieldScope;
    userPrivate: string;
    groupVisible: string;
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}

/** FORBIDDEN naming the permission that is missing, as every refused scope reports it. */
export const permissionMissing = (permission: Permission) =>
  toGraphQLError(forbidden(`Needs the permission ${permission}`, { permission }));

/** The permission a failed scope stood for, so FORBIDDEN can name what is missing. */
function missingPermission(failure: AuthFailure): Permission | null {
  if (failure.kind === AuthScopeFailureType.AuthScope) {
    const parameter = failure.parameter as Partial<AppPermissionScope & SessionScope & MediaFieldScope> | null;
    if (failure.scope === 'mediaField' && parameter?.field) return mediaFieldPermission(parameter.field);
    if (failure.scope === 'appPermission') return parameter?.permission ?? null;
    if (failure.scope === 'session' && parameter?.need) {
      return parameter.need === 'read' ? null : parameter.need === 'update' ? 'session:update:any' : parameter.need;
    }
    return null;
  }
  if (failure.kind === AuthScopeFailureType.AllAuthScopes || failure.kind === AuthScopeFailureType.AnyAuthScopes) {
    for (const inner of failure.failures) {
      const found = missingPermission(inner);
      if (found) return found;
    }
  }
  return null;
}

export const builder = new SchemaBuilder<PothosTypes>({
  // Planned columns sits just outside drizzle: see src/graphql/planned-columns.ts.
  plugins: [ScopeAuthPlugin, RelayPlugin, PlannedColumnsPlugin, DrizzlePlugin],
  defaultFieldNullability: false,
  drizzle: {
    client: (ctx) => ctx.db,
    getTableConfig,
    relations,
    maxConnectionSize: 100,
    defaultConnectionSize: 20,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    pageInfoTypeOptions: { description: 'Where a page sits in its list: pass endCursor as `after` for the next page.' },
    hasNextPageFieldOptions: { description: 'Whether more items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Whether items precede this page.' },
    startCursorFieldOptions: { description: 'The cursor of the first item of the page.' },
    endCursorFieldOptions: { description: 'The cursor of the last item of the page; pass it as `after`.' },
    cursorFieldOptions: { description: 'Opaque position of this item; pass it as `after` to continue.' },
    nodeFieldOptions: { description: 'The item.' },
    edgesFieldOptions: { description: 'The items of the page with their cursors.' },
    pageInfoFieldOptions: { description: 'Cursors and whether more pages exist.' },
    firstArgOptions: { description: 'How many items to return from the start (at most 100).' },
    afterArgOptions: { description: 'Return items after this cursor.' },
    lastArgOptions: { description: 'How many items to return from the end (at most 100).' },
    beforeArgOptions: { description: 'Return items before this cursor.' },
  },
  scopeAuth: {
    authorizeOnSubscribe: true,
    cacheKey: (value) => JSON.stringify(value),
    unauthorizedError: (_parent, ctx, _info, result) => {
      if (!ctx.viewer) return toGraphQLError(ctx.authError ?? unauthenticated());
      const permission = missingPermission(result.failure);
      return permission ? permissionMissing(permission) : toGraphQLError(forbidden(result.message));
    },
    // Every scope is decided from the request's principal by the rules of src/access/rules.ts;
    // only `session` reads the session's facts (one batched statement per request).
    authScopes: (ctx) => ({
      authenticated: !!ctx.viewer,
      admin: !!ctx.viewer?.isAdmin,
      appPermission: ({ applicationId, permission }) => {
        if (!ctx.viewer) return false;
        const visible = (viewer: Principal) => rules.applicationVisible.check(viewer, { id: applicationId });
        const held = (viewer: Principal) => rules.permissionHeld.check(viewer, { applicationId, permission });
        // Decided at once when memory allows it (every read); a denial reloads the viewer first.
        if (visible(ctx.viewer) && held(ctx.viewer)) return true;
        return (async () => {
          if (!(await recheckDenial(ctx, visible))) throw toGraphQLError(notFound('Application'));
          return recheckDenial(ctx, held);
        })();
      },
      session: async ({ applicationId, sessionId, need }) => {
        if (!ctx.viewer) return false;
        if (!(await recheckDenial(ctx, (viewer) => rules.applicationVisible.check(viewer, { id: applicationId })))) {
          throw toGraphQLError(notFound('Application'));
        }
        const session = await loadersOf(ctx).sessionFacts.load(sessionId);
        if (!session || session.applicationId !== applicationId) throw toGraphQLError(notFound('Session'));
        if (!(await recheckDenial(ctx, (viewer) => rules.sessionVisible.check(viewer, session)))) throw toGraphQLError(notFound('Session'));
        if (need === 'read') return true;
        if (need === 'update') return recheckDenial(ctx, (viewer) => rules.sessionChangeable.check(viewer, session));
        return recheckDenial(ctx, (viewer) => rules.permissionHeld.check(viewer, { applicationId, permission: need }));
      },
      mediaField: ({ applicationId, field }) => !!ctx.viewer && mayReadMediaField(ctx.viewer, { applicationId, field }),
      userPrivate: (userId) => !!ctx.viewer && rules.userPrivateFields.check(ctx.viewer, { id: userId }),
      groupVisible: (groupId) => !!ctx.viewer && rules.groupVisible.check(ctx.viewer, { id: groupId }),
    }),
  },
});

builder.queryType({
  description: 'Reads. Every field needs a bearer token.',
  authScopes: { authenticated: true },
});
builder.mutationType({
  description: 'Changes. Each is one transaction: the change and its event rows commit together.',
  authScopes: { authenticated: true },
});
