// The graphql-transport-ws protocol (https://github.com/enisdenjo/graphql-ws, PROTOCOL.md) on a
// `ws` server, in place of graphql-ws's `useServer`, for what an open subscription costs: with
// useServer every socket holds a dozen closures and two timers, and every subscription two
// suspended async functions (its `for await` and the message handler's wrapper, with the raw
// message and its parsed copy), a chain of promises and an async iterator. Here a socket is one
// `Connection` (listeners and the keep-alive sweep are shared by all sockets), and a directly
// delivered subscription (src/graphql/events/shared-execution.ts) is one `Operation` that its
// delivery tells when it has ended: no iteration at all. Messages are parsed and validated by
// graphql-ws's own `parseMessage`/`stringifyMessage`, and the close codes are graphql-ws's:
// 4400 invalid message, 4401 subscribe before ack, 4406 wrong subprotocol, 4408 no
// connection_init in time, 4409 duplicate operation id, 4429 second connection_init, 4500
// internal error. Other streams and single results go out as graphql-ws sends them.
import type { IncomingMessage } from 'node:http';
import { GraphQLError, getOperationAST, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, handleProtocols, MessageType, parseMessage, stringifyMessage, type SubscribePayload } from 'graphql-ws';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';

/** A stream that is pushed to its socket by itself and says when it has ended (LiveTarget.ended). */
export interface PushedStream {
  readonly pushed: true;
  return(): unknown;
}

type Operated = AsyncIterable<ExecutionResult> | ExecutionResult | PushedStream;

export interface ProtocolHandlers<C extends Connection> {
  connectionInitWaitTimeout: number;
  /** True to acknowledge; false when it has closed the socket (or to close it with 4403). */
  onConnect(connection: C): Promise<boolean>;
  /** The operation's execution arguments, or the errors of its `error` message. */
  onSubscribe(connection: C, id: string, payload: SubscribePayload): Promise<ExecutionArgs | readonly GraphQLError[]>;
  onClose(connection: C): void;
  execute(args: ExecutionArgs): unknown;
  /** `target` is where a pushed stream delivers to. */
  subscribe(args: ExecutionArgs, target: Operation): unknown;
}

/** One open operation of a socket. */
export class Operation {
  /** The pushed stream or the iterated one, once subscribed. */
  stream: { return?(): unknown } | null = null;
  constructor(
    readonly connection: Connection,
    readonly id: string,
  ) {}

  get socket(): WebSocket {
    return this.connection.socket;
  }

  get current(): boolean {
    return this.connection.subscriptions.get(this.id) === this;
  }

  /** The pushed stream ended by itself: `complete`, unless the client completed it already. */
  ended(): void {
    if (!this.current) return;
    this.connection.subscriptions.delete(this.id);
    this.connection.send(stringifyMessage({ id: this.id, type: MessageType.Complete }));
  }
}

/** One socket's protocol state. */
export class Connection {
  connectionInitReceived = false;
  acknowledged = false;
  connectionParams: Record<string, unknown> | undefined = undefined;
  readonly subscriptions = new Map<string, Operation>();
  initWait: NodeJS.Timeout | null = null;
  awaitingPong = false;
  constructor(
    readonly socket: WebSocket,
    /** The TCP peer, kept instead of the upgrade request. */
    readonly remoteAddress: string | null,
  ) {}

  send(data: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(data);
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isPushed = (value: unknown): value is PushedStream => isObject(value) && (value as { pushed?: unknown }).pushed === true;
const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof Object(value)[Symbol.asyncIterator] === 'function';
const areErrors = (value: unknown): value is readonly GraphQLError[] =>
  Array.isArray(value) && value.length > 0 && value.every((error) => error instanceof GraphQLError);

function nextMessage(id: string, result: ExecutionResult): string {
  const { errors, ...rest } = result;
  return stringifyMessage({ id, type: MessageType.Next, payload: { ...rest, ...(errors ? { errors: errors.map((e) => e.toJSON()) } : {}) } } as never);
}

const errorMessage = (id: string, errors: readonly GraphQLError[]) =>
  stringifyMessage({ id, type: MessageType.Error, payload: errors.map((e) => e.toJSON()) } as never);

export interface ProtocolServer {
  dispose(): Promise<void>;
}

export function serveProtocol<C extends Connection>(
  wss: WebSocketServer,
  handlers: ProtocolHandlers<C>,
  options: { keepAliveMs: number; logger: Logger; create(socket: WebSocket, request: IncomingMessage): C },
): ProtocolServer {
  const { logger } = options;
  const connections = new WeakMap<WebSocket, C>();
  const internal = (connection: Connection, error: unknown) => {
    logger.error({ err: error }, 'websocket message handling failed');
    connection.close(CloseCode.InternalServerError, 'Internal server error');
  };

  async function subscribeMessage(connection: C, id: string, payload: SubscribePayload): Promise<void> {
    if (!connection.acknowledged) return connection.close(CloseCode.Unauthorized, 'Unauthorized');
    if (connection.subscriptions.has(id)) return connection.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    const operation = new Operation(connection, id);
    connection.subscriptions.set(id, operation);
    try {
      const prepared = await handlers.onSubscribe(connection, id, payload);
      if (areErrors(prepared)) {
        if (operation.current) connection.send(errorMessage(id, prepared));
        return;
      }
      if (Array.isArray(prepared)) throw new Error('Invalid return value from onSubscribe hook, expected an array of GraphQLError objects');
      const args = prepared as ExecutionArgs;
      const ast = getOperationAST(args.document, args.operationName);
      if (!ast) {
        if (operation.current) connection.send(errorMessage(id, [new GraphQLError('Unable to identify operation')]));
        return;
      }
      const result = (await (ast.operation === 'subscription' ? handlers.subscribe(args, operation) : handlers.execute(args))) as Operated;
      if (isPushed(result)) {
        operation.stream = result;
        // Completed (or the socket closed) while subscribing: stop the stream; otherwise it
        // calls operation.ended() when it ends by itself.
        if (!operation.current) result.return();
        return;
      }
      if (isAsyncIterable(result)) {
        if (!operation.current) return void (result as { return?(): unknown }).return?.();
        operation.stream = result as { return?(): unknown };
        try {
          for await (const item of result) connection.send(nextMessage(id, item));
        } catch (error) {
          const original = error instanceof Error ? error : new Error(String(error));
          if (operation.current) connection.send(errorMessage(id, [new GraphQLError(original.message, { originalError: original })]));
          connection.subscriptions.delete(id);
        }
      } else if (operation.current) connection.send(nextMessage(id, result));
      if (operation.current) connection.send(stringifyMessage({ id, type: MessageType.Complete }));
    } finally {
      if (operation.current && !isPushed(operation.stream)) connection.subscriptions.delete(id);
    }
  }

  async function onMessage(connection: C, data: string): Promise<void> {
    let message;
    try {
      message = parseMessage(data);
    } catch {
      return connection.close(CloseCode.BadRequest, 'Invalid message received');
    }
    switch (message.type) {
      case MessageType.ConnectionInit: {
        if (connection.connectionInitReceived) return connection.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
        connection.connectionInitReceived = true;
        if (connection.initWait) clearTimeout(connection.initWait);
        connection.initWait = null;
        if (isObject(message.payload)) connection.connectionParams = message.payload;
        if (!(await handlers.onConnect(connection))) return connection.close(CloseCode.Forbidden, 'Forbidden');
        connection.acknowledged = true;
        return connection.send(stringifyMessage({ type: MessageType.ConnectionAck }));
      }
      case MessageType.Ping:
        return connection.send(stringifyMessage(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }));
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        return subscribeMessage(connection, message.id, message.payload);
      case MessageType.Complete: {
        const operation = connection.subscriptions.get(message.id);
        connection.subscriptions.delete(message.id);
        await operation?.stream?.return?.();
        return;
      }
      default:
        throw new Error(`Unexpected message of type ${message.type} received`);
    }
  }

  // Listeners shared by every socket (`this` is the socket).
  function message(this: WebSocket, data: unknown) {
    const connection = connections.get(this);
    if (connection) onMessage(connection, String(data)).catch((error) => internal(connection, error));
  }
  function pong(this: WebSocket) {
    const connection = connections.get(this);
    if (connection) connection.awaitingPong = false;
  }
  function socketError(this: WebSocket, error: Error) {
    const connection = connections.get(this);
    if (connection) internal(connection, error);
  }
  function closed(this: WebSocket) {
    const connection = connections.get(this);
    if (!connection) return;
    connections.delete(this);
    if (connection.initWait) clearTimeout(connection.initWait);
    connection.initWait = null;
    const operations = [...connection.subscriptions.values()];
    connection.subscriptions.clear();
    for (const operation of operations) {
      try {
        const done = operation.stream?.return?.();
        if (done instanceof Promise) done.catch((error) => logger.warn({ err: error }, 'websocket operation did not stop cleanly'));
      } catch (error) {
        logger.warn({ err: error }, 'websocket operation did not stop cleanly');
      }
    }
    handlers.onClose(connection);
  }

  wss.options.handleProtocols = handleProtocols;
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const connection = options.create(socket, request);
    connections.set(socket, connection);
    // `on`, not `once`: once wraps every listener of every socket in a bound function and a state object.
    socket.on('error', socketError);
    socket.on('close', closed);
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) return socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
    const wait = handlers.connectionInitWaitTimeout;
    if (wait > 0 && Number.isFinite(wait)) {
      connection.initWait = setTimeout(() => {
        connection.initWait = null;
        if (!connection.connectionInitReceived) connection.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
      }, wait);
    }
    socket.on('message', message);
    socket.on('pong', pong);
  });

  // Keep-alive: one sweep for all sockets every keepAliveMs; a socket that has not answered the
  // previous sweep's ping is dropped (as graphql-ws: a ping every keepAliveMs, a pong within it).
  const keepAlive =
    options.keepAliveMs > 0 && Number.isFinite(options.keepAliveMs)
      ? setInterval(() => {
          for (const socket of wss.clients) {
            const connection = connections.get(socket as WebSocket);
            if (!connection || socket.readyState !== socket.OPEN) continue;
            if (connection.awaitingPong) {
              socket.terminate();
              continue;
            }
            connection.awaitingPong = true;
            socket.ping();
          }
        }, options.keepAliveMs)
      : null;
  keepAlive?.unref();

  wss.once('error', (error) => {
    logger.error({ err: error }, 'websocket server error: closing every client');
    for (const client of wss.clients) client.close(CloseCode.InternalServerError, 'Internal server error');
  });

  return {
    async dispose() {
      if (keepAlive) clearInterval(keepAlive);
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
