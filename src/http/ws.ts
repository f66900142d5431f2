// GraphQL over WebSocket (graphql-ws protocol) on /graphql, through Yoga's envelop so that
// plugins, error masking and limits are the same as over HTTP. The bearer token comes in the
// connection_init payload, `{ authorization: "Bearer …" }` (keys in any case): missing or
// expired closes the socket with 4401, refused with 4403, and no connection_init within 3 s
// closes it with 4408. The socket's credential is re-checked for as long as it is open (see
// src/access/registry.ts): an access JWT that expires closes it with 4401 (the client refreshes
// and reconnects with `after`), a revoked token, a revoked login (refresh-token reuse) or a
// deleted user with 4403. Every operation
// runs with the viewer as it is now. The server pings every `keepAliveMs` and drops a peer
// that does not answer.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { CloseCode, type SubscribePayload } from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { isExpiry } from '../access/authenticate.ts';
import { LOGIN_REVOKED, loginRevoked, type Credential, type StreamEnd, type StreamHolder } from '../access/registry.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { ErrorCode } from '../domain/errors.ts';
import { unavailableError } from '../graphql/errors.ts';
import type { Context } from '../graphql/context.ts';
import { deliverDirectly, subscribeLive } from '../graphql/events/shared-execution.ts';
import { makeContext, newRequestId, type ContextBase } from '../graphql/make-context.ts';
import { webSocketLimits } from './ws-limits.ts';
import { Connection, serveProtocol } from './ws-protocol.ts';

export interface ConnectionParams extends Record<string, unknown> {
  authorization?: unknown;
  /** Optional client time for mutations sent over this connection (like `x-client-timestamp`). */
  clientTimestamp?: unknown;
}

/**
 * A socket of this gateway: its protocol state, its context once authenticated, and the holder
 * of its credential for the access re-checks (src/access/registry.ts), which close it.
 */
class GatewayConnection extends Connection implements StreamHolder {
  context: Context | null = null;
  /** Stops the re-checks of this socket's credential. */
  unguard: (() => void) | null = null;

  get credential(): Credential {
    return this.context!.credential!;
  }

  end(why: StreamEnd): void {
    const expired = why.reason === 'EXPIRED';
    this.socket.close(expired ? CloseCode.Unauthorized : CloseCode.Forbidden, reason(`${expired ? 'Unauthorized' : 'Forbidden'}: ${why.message}`));
  }
}

export interface GraphQLWebSocketOptions {
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  base: ContextBase;
  logger: Logger;
  keepAliveMs: number;
  connectionInitWaitTimeoutMs?: number;
  maxPayloadBytes?: number;
}

/** Initial context key that tells Yoga's context factory the transport already built the context. */
export const PREBUILT_CONTEXT = 'gatewayContext';

export interface GraphQLWebSocket {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly clientCount: number;
  /** Closes every client with 1001 (going away) and stops accepting. */
  close(): Promise<void>;
}

type EnvelopedRoot = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** A connection parameter by name, whatever its case (`Authorization` works like `authorization`). */
function param(params: Record<string, unknown> | null | undefined, name: string): string | null {
  if (!params) return null;
  const key = Object.keys(params).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? null : text(params[key]);
}

/** Close reasons are at most 123 bytes. */
const reason = (message: string) => message.slice(0, 123);

export function createGraphQLWebSocket(options: GraphQLWebSocketOptions): GraphQLWebSocket {
  const { yoga, base, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  const limits = webSocketLimits(base.config, logger);

  const server = serveProtocol<GatewayConnection>(
    wss,
    {
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs ?? 3000,
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
      // Subscriptions run beside envelop: nothing of Yoga's per-operation machinery stays
      // alive for the stream's lifetime (shared-execution.ts masks errors as Yoga does).
      subscribe: (args) => ((args.rootValue as EnvelopedRoot | undefined)?.subscribe ? (args.rootValue as EnvelopedRoot).subscribe(args) : subscribeLive(args)),
      onConnect: async (connection) => {
        const socket = connection.socket;
        const authorization = param(connection.connectionParams, 'authorization');
        if (!authorization) {
          socket.close(CloseCode.Unauthorized, 'Unauthorized: connection_init needs { authorization: "Bearer <token>" }');
          return false;
        }
        let context: Context;
        try {
          context = await makeContext(base, {
            authorization,
            clientTimestamp: param(connection.connectionParams, 'clientTimestamp'),
            requestId: newRequestId(),
            transport: 'ws',
            clientAddress: connection.remoteAddress,
          });
        } catch (error) {
          if (!isDatabaseUnavailable(error)) throw error;
          // 1013 Try Again Later: clients reconnect (graphql-ws gives up after a thrown 4500).
          socket.close(1013, 'Try again later: the database is unavailable');
          return false;
        }
        // Read once: the token is not kept for the socket's lifetime.
        connection.connectionParams = undefined;
        if (!context.viewer) {
          const message = context.authError?.message ?? 'invalid token';
          if (isExpiry(context.authError)) socket.close(CloseCode.Unauthorized, reason(`Unauthorized: ${message}`));
          else socket.close(CloseCode.Forbidden, reason(`Forbidden: ${message}`));
          return false;
        }
        connection.context = context;
        connection.unguard = base.services.access.guard(connection);
        return true;
      },
      onClose: (connection) => {
        connection.unguard?.();
        limits.closed(connection.remoteAddress);
      },
      onSubscribe: limits.guard(async (connection: GatewayConnection, id: string, payload: SubscribePayload) => {
        const socket = connection.socket;
        const connectionContext = connection.context!;
        const credential = connectionContext.credential!;
        if (credential.kind === 'jwt' && credential.expiresAt <= Date.now()) {
          socket.close(CloseCode.Unauthorized, 'Unauthorized: The access token has expired');
          return [new GraphQLError('The access token has expired', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
        }
        // Each operation runs with the viewer as it is now, not as it was at connection_init.
        let viewer;
        try {
          viewer = await base.services.access.principal(base.db, connectionContext.viewer!.id);
        } catch (error) {
          if (!isDatabaseUnavailable(error)) throw error;
          // This operation fails, retryable; the socket and its other operations stay.
          return [unavailableError()];
        }
        if (!viewer) {
          socket.close(CloseCode.Forbidden, 'Forbidden: The user no longer exists');
          return [new GraphQLError('The user no longer exists', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
        }
        if (loginRevoked(viewer, credential)) {
          socket.close(CloseCode.Forbidden, reason(`Forbidden: ${LOGIN_REVOKED}`));
          return [new GraphQLError(LOGIN_REVOKED, { extensions: { code: ErrorCode.UNAUTHENTICATED, reason: 'TOKEN_REVOKED' } })];
        }
        const context: Context = { ...connectionContext, viewer, requestId: newRequestId() };
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          [PREBUILT_CONTEXT]: context,
          params: payload,
        } as never);
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          return [new GraphQLError(error.message, { ...error, extensions: { code: ErrorCode.BAD_USER_INPUT } })];
        }
        const args = {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies EnvelopedRoot,
        };
        const errors = validate(args.schema, args.document);
        if (errors.length > 0) return errors;
        const refused = limits.refused(args.schema, args.document, args.variableValues);
        if (refused) return refused;
        if (getOperationAST(document, payload.operationName)?.operation === 'subscription') {
          // Live events of this operation go straight to the socket (shared-execution.ts), in
          // the operation's own context (not Yoga's, which would live as long as the stream).
          deliverDirectly(context, connection.subscriptions.get(id)!);
          return { ...args, contextValue: context, rootValue: undefined } as ExecutionArgs;
        }
        return args as ExecutionArgs;
      }),
    },
    {
      keepAliveMs: options.keepAliveMs,
      logger,
      // The upgrade request (headers and all) is not kept for the socket's lifetime.
      create: (socket: WebSocket, request: IncomingMessage) => new GatewayConnection(socket, request.socket.remoteAddress ?? null),
    },
  );

  wss.on('error', (error) => logger.error({ err: error }, 'websocket server error'));

  return {
    handleUpgrade(request, socket, head) {
      if (!limits.admit(request, socket)) return;
      wss.handleUpgrade(request, socket, head, (client) => {
        limits.opened(request.socket.remoteAddress);
        wss.emit('connection', client, request);
      });
    },
    get clientCount() {
      return wss.clients.size;
    },
    async close() {
      // dispose() sends 1001 to every client and waits for them to close; do not wait forever.
      await Promise.race([server.dispose(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    },
  };
}
