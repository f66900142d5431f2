// The schema builder: plugins, scalars, context and auth scopes. No domain types here.
import SchemaBuilder from '@pothos/core';
import DrizzlePlugin from '@pothos/plugin-drizzle';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { Permission } from '../auth/permissions.ts';
import { relations, type Relations } from '../db/relations.ts';
import { loadSessionAccess, sessionAllows, type SessionAction, type SessionAccessRow } from '../domain/access.ts';
import { forbidden, notFound, unauthenticated } from '../domain/errors.ts';
import type { Context } from './context.ts';
import { toGraphQLError } from './errors.ts';

export interface AppPermissionScope {
  applicationId: string;
  permission: Permission;
}

export interface SessionScope {
  applicationId: string;
  sessionId: string;
  /** `read`/`update` apply the any/participant rule; a permission is checked as held. */
  need: SessionAction | Permission;
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
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}

/** Memo of session lookups for one request, kept on the context object. */
const sessionMemo = new WeakMap<Context, Map<string, Promise<SessionAccessRow | null>>>();

function sessionAccess(ctx: Context, applicationId: string, sessionId: string) {
  let memo = sessionMemo.get(ctx);
  if (!memo) sessionMemo.set(ctx, (memo = new Map()));
  const key = `${applicationId}/${sessionId}`;
  let found = memo.get(key);
  if (!found) {
    found = loadSessionAccess(ctx.db, ctx.viewer!, applicationId, sessionId);
    memo.set(key, found);
  }
  return found;
}

/** Forget memoised session lookups (a mutation that changed participants or status). */
export function forgetSessionAccess(ctx: Context): void {
  sessionMemo.delete(ctx);
}

export const builder = new SchemaBuilder<PothosTypes>({
  plugins: [ScopeAuthPlugin, RelayPlugin, DrizzlePlugin],
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
    unauthorizedError: (_parent, ctx, _info, result) =>
      toGraphQLError(ctx.viewer ? forbidden(result.message) : (ctx.authError ?? unauthenticated())),
    authScopes: (ctx) => ({
      authenticated: !!ctx.viewer,
      admin: !!ctx.viewer?.isAdmin,
      appPermission: async ({ applicationId, permission }) => {
        const permissions = ctx.viewer && (await ctx.access!.permissionsIn(applicationId));
        if (!ctx.viewer) return false;
        if (!permissions?.has('application:read')) throw toGraphQLError(notFound('Application'));
        return permissions.has(permission);
      },
      session: async ({ applicationId, sessionId, need }) => {
        if (!ctx.viewer) return false;
        const permissions = await ctx.access!.permissionsIn(applicationId);
        if (!permissions?.has('application:read')) throw toGraphQLError(notFound('Application'));
        const session = await sessionAccess(ctx, applicationId, sessionId);
        if (!session || !sessionAllows(permissions, session.isParticipant, 'read')) {
          throw toGraphQLError(notFound('Session'));
        }
        if (need === 'read' || need === 'update') return sessionAllows(permissions, session.isParticipant, need);
        return permissions.has(need);
      },
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
