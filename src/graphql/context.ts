import type { Principal } from '../access/principal.ts';
import type { Credential } from '../access/registry.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { badInput, type DomainError } from '../domain/errors.ts';
import { OUT_OF_WINDOW } from '../domain/timestamps.ts';
import type { Actor } from '../events/log.ts';
import type { Services } from '../services.ts';

export interface Context {
  db: Database;
  config: Config;
  services: Services;
  /** Who asks, with the facts every access rule is decided from; null for anonymous requests. */
  viewer: Principal | null;
  /** What the viewer authenticated with: long-lived streams keep re-checking it. */
  credential: Credential | null;
  /** Why the bearer token was refused, when it was. */
  authError: DomainError | null;
  /**
   * `ws`: the graphql-ws socket guards the credential (and is closed when it fails); over HTTP
   * (SSE) each subscription guards its own.
   */
  transport: 'http' | 'ws';
  /** The TCP peer of the request or socket (login throttling counts per address); X-Forwarded-For is not read. */
  clientAddress: string | null;
  /** From the `x-client-timestamp` header, when the client gave one. */
  clientTimestamp: Date | null;
  /** The client sent a timestamp that is unreadable or outside the window (src/domain/timestamps.ts). */
  clientTimestampInvalid?: boolean;
  requestId: string;
  /** Set once this request has reloaded its viewer (see `recheckDenial`). */
  viewerReloaded?: boolean;
}

/** Who acts in a mutation, and the client's time for its events. Needs a viewer. */
export const actorOf = (ctx: Context): Actor => {
  if (ctx.clientTimestampInvalid) throw badInput('x-client-timestamp', `x-client-timestamp ${OUT_OF_WINDOW} (ISO-8601 or epoch milliseconds)`);
  return { userId: ctx.viewer!.id, clientTimestamp: ctx.clientTimestamp };
};

/**
 * After a write that changed access: every instance forgets what it knew, and the rest of this
 * request (later mutations of the same operation) runs with the viewer as it is now.
 */
export async function accessChanged(ctx: Context): Promise<void> {
  ctx.services.access.changed();
  if (ctx.viewer) ctx.viewer = await ctx.services.access.principal(ctx.db, ctx.viewer.id);
}

/**
 * Before a request is refused on what memory says of its viewer: load the viewer again, once
 * per request, and ask `allowed` again. A grant made a moment ago on another instance (whose
 * access signal is still on its way) then works at once; the cost falls only on refusals.
 */
export async function recheckDenial(ctx: Context, allowed: (viewer: NonNullable<Context['viewer']>) => boolean): Promise<boolean> {
  if (!ctx.viewer) return false;
  if (allowed(ctx.viewer)) return true;
  if (ctx.viewerReloaded) return false;
  ctx.viewerReloaded = true;
  const viewer = await ctx.services.access.reload(ctx.db, ctx.viewer.id);
  if (!viewer) return false;
  ctx.viewer = viewer;
  return allowed(viewer);
}

/**
 * The context one delivery of a live event runs in: the connection's, with the viewer as the
 * registry knows it now and fresh per-request caches (scope results, loaders), so every event is
 * decided with the permissions of delivery time.
 */
export function deliveryContext(ctx: Context): Context {
  const current = ctx.viewer ? ctx.services.access.peek(ctx.viewer.id) : null;
  return { ...ctx, viewer: current ?? ctx.viewer };
}
