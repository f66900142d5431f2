// Builds the per-request context from what the transport knows: the Authorization value,
// the client timestamp header and a request id. HTTP, WebSocket and SSE all come through here.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { requestScope } from '../http/observability.ts';
import type { Services } from '../services.ts';
import type { Context } from './context.ts';

export interface ContextBase {
  db: Database;
  config: Config;
  services: Services;
}

export interface RequestFacts {
  authorization: string | null | undefined;
  clientTimestamp?: string | null;
  requestId?: string | null;
  transport?: Context['transport'];
  /** The socket's remote address. */
  clientAddress?: string | null;
}

function parseTimestamp(value: string | null | undefined): Date | null {
  if (!value) return null;
  const date = new Date(/^\d+$/.test(value) ? Number(value) : value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export async function makeContext(base: ContextBase, facts: RequestFacts): Promise<Context> {
  const { viewer, credential, error } = await base.services.auth.authenticate(base.db, facts.authorization);
  return {
    ...base,
    viewer,
    credential,
    authError: error,
    transport: facts.transport ?? 'http',
    clientAddress: facts.clientAddress ?? null,
    clientTimestamp: parseTimestamp(facts.clientTimestamp),
    requestId: facts.requestId || requestScope.getStore()?.requestId || randomUUID(),
  };
}
