// Builds the per-request context from what the transport knows: the Authorization value,
// the client timestamp header and a request id. HTTP, WebSocket and SSE all come through here.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { requestScope } from '../http/observability.ts';
import type { Services } from '../services.ts';
import { inClientTimeWindow } from '../domain/timestamps.ts';
import type { Context } from './context.ts';

export interface ContextBase {
  db: Database;
  config: Config;
  services: Services;
}

export interface RequestFacts {
  authorization: string | null | undefined;
  clientTimestamp?: unknown;
  requestId?: string | null;
  transport?: Context['transport'];
  /** The socket's remote address. */
  clientAddress?: string | null;
}

/**
 * A request id (a UUID). Flattened: randomUUID builds its text as a tree of ~12 concatenated
 * strings (about 430 bytes more than the flat 36 characters), and a socket's context and each
 * of its operations' keep theirs for as long as they are open.
 */
export function newRequestId(): string {
  const id = randomUUID();
  id.charCodeAt(0);
  return id;
}

/** The header's time; `invalid` when given but unreadable or outside the client time window. */
function parseTimestamp(value: unknown): Date | null | 'invalid' {
  if (value === null || value === undefined || value === '') return null;
  const text = String(value);
  const date = new Date(/^\d+$/.test(text) ? Number(text) : text);
  return inClientTimeWindow(date) ? date : 'invalid';
}

export async function makeContext(base: ContextBase, facts: RequestFacts): Promise<Context> {
  const clientTimestamp = parseTimestamp(facts.clientTimestamp);
  const { viewer, credential, error } = await base.services.auth.authenticate(base.db, facts.authorization);
  // Listed, not spread from `base`: a spread gave every socket's context a hidden class (and
  // descriptor array, ~360 bytes) of its own.
  return {
    db: base.db,
    config: base.config,
    services: base.services,
    viewer,
    credential,
    authError: error,
    transport: facts.transport ?? 'http',
    clientAddress: facts.clientAddress ?? null,
    clientTimestamp: clientTimestamp === 'invalid' ? null : clientTimestamp,
    // Refused by actorOf, that is by every write, before it reaches the database.
    clientTimestampInvalid: clientTimestamp === 'invalid',
    requestId: facts.requestId || requestScope.getStore()?.requestId || newRequestId(),
  };
}
