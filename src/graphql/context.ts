import type { Viewer } from '../auth/viewer.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import type { AccessCache } from '../domain/access.ts';
import type { DomainError } from '../domain/errors.ts';
import type { Actor } from '../events/log.ts';
import type { Services } from '../services.ts';

export interface Context {
  db: Database;
  config: Config;
  services: Services;
  viewer: Viewer | null;
  /** Why the bearer token was refused, when it was. */
  authError: DomainError | null;
  /** Null for anonymous requests. */
  access: AccessCache | null;
  /** From the `x-client-timestamp` header, when the client gave one. */
  clientTimestamp: Date | null;
  requestId: string;
}

/** Who acts in a mutation, and the client's time for its events. Needs a viewer. */
export const actorOf = (ctx: Context): Actor => ({ userId: ctx.viewer!.id, clientTimestamp: ctx.clientTimestamp });
