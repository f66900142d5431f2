// Bounds of the WebSocket transport (issue 13), kept apart from src/http/ws.ts, which calls them:
// - WebSockets per client address (MAX_SOCKETS_PER_CLIENT): one more upgrade is refused with
//   HTTP 429 and a JSON body saying why, before any WebSocket exists;
// - operations per socket (MAX_SUBSCRIPTIONS_PER_SOCKET): one more gets an `error` message for
//   its id (RATE_LIMITED), the socket and its other operations stay;
// - each operation passes the edge checks (src/graphql/edge-validation.ts) and a refusal is an
//   `error` message for that operation, never a close of the socket.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { ErrorCode } from '../domain/errors.ts';
import { checkOperation, edgeLimits } from '../graphql/edge-validation.ts';
import { isLoopbackAddress } from './loopback.ts';

export interface WebSocketLimits {
  /** True when the upgrade may go on; otherwise it has answered 429 and closed the socket. */
  admit(request: IncomingMessage, socket: Duplex): boolean;
  /** The WebSocket of an admitted upgrade from this peer address: counted until `closed`. */
  opened(remoteAddress: string | null | undefined): void;
  /** That WebSocket has closed. */
  closed(remoteAddress: string | null | undefined): void;
  /**
   * The socket's onSubscribe, bounded: one operation over the per-socket bound gets an `error`
   * message, and so does one whose preparation throws (logged), instead of the socket closing
   * with 4500.
   */
  guard<C extends { subscriptions: { readonly size: number } }, A extends unknown[], R>(
    prepare: (connection: C, ...rest: A) => Promise<R | readonly GraphQLError[]>,
  ): (connection: C, ...rest: A) => Promise<R | readonly GraphQLError[]>;
  /** The edge checks of one operation, as errors for its `error` message, or null. */
  refused(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined): GraphQLError[] | null;
}

const clientOf = (request: IncomingMessage) => request.socket.remoteAddress ?? 'unknown';

export function webSocketLimits(
  config: Pick<Config, 'maxSocketsPerClient' | 'socketCapLoopback' | 'maxSubscriptionsPerSocket' | 'maxJsonDepth'>,
  logger: Logger,
): WebSocketLimits {
  const perClient = new Map<string, number>();
  const limits = edgeLimits(config);
  return {
    admit(request, socket) {
      const address = clientOf(request);
      // Loopback clients are this machine (a reverse proxy in front of us, a load test): one
      // address for everyone, so they are not capped unless SOCKET_CAP_LOOPBACK says so.
      if (!config.socketCapLoopback && isLoopbackAddress(address)) return true;
      if ((perClient.get(address) ?? 0) < config.maxSocketsPerClient) return true;
      const body = JSON.stringify({
        errors: [
          {
            message: `Too many WebSockets from this address (at most ${config.maxSocketsPerClient}, MAX_SOCKETS_PER_CLIENT)`,
            extensions: { code: ErrorCode.RATE_LIMITED },
          },
        ],
      });
      socket.on('error', () => {});
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return false;
    },
    opened(remoteAddress) {
      const address = remoteAddress ?? 'unknown';
      perClient.set(address, (perClient.get(address) ?? 0) + 1);
    },
    closed(remoteAddress) {
      const address = remoteAddress ?? 'unknown';
      const left = (perClient.get(address) ?? 1) - 1;
      if (left > 0) perClient.set(address, left);
      else perClient.delete(address);
    },
    guard(prepare) {
      return async (connection, ...rest) => {
        // connection.subscriptions holds this operation already.
        if (connection.subscriptions.size > config.maxSubscriptionsPerSocket) {
          return [
            new GraphQLError(`Too many operations on this socket (at most ${config.maxSubscriptionsPerSocket}, MAX_SUBSCRIPTIONS_PER_SOCKET)`, {
              extensions: { code: ErrorCode.RATE_LIMITED },
            }),
          ];
        }
        try {
          return await prepare(connection, ...rest);
        } catch (error) {
          // graphql-armor's rules throw their refusal from inside validate().
          if (error instanceof GraphQLError) {
            return [typeof error.extensions.code === 'string' ? error : new GraphQLError(error.message, { extensions: { code: ErrorCode.BAD_USER_INPUT } })];
          }
          logger.warn({ err: error }, 'websocket operation refused');
          return [new GraphQLError('The operation could not be run', { extensions: { code: ErrorCode.BAD_USER_INPUT } })];
        }
      };
    },
    refused(schema, document, variables) {
      const error = checkOperation({ schema, document, variableValues: variables ?? {} }, limits);
      return error ? [error] : null;
    },
  };
}
