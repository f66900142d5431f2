// Executes a subscription's selection once per event for every subscriber that gets the same
// answer, and, over graphql-ws, writes the answer to the sockets directly.
//
// Sharing. Subscribers of the same operation (text, operation name, variables) whose viewers
// are in the same permission class for the event (sharing.ts: permissions in the event's
// application, admin/integration flags, taking part in its session where that matters) share
// one execution; an operation that selects a field that depends on who asks (e.g. a signed
// media URL) shares only between subscribers of the same viewer. Each execution runs in a
// delivery context (src/graphql/context.ts): the viewer's principal as the registry knows it
// at that moment and fresh scope and loader caches, so a permission lost while the stream is
// open stops showing at the next event. `skylight_live_executions_total` counts executions.
//
// Direct delivery (graphql-ws, src/http/ws.ts). The hub hands every event to each
// subscription synchronously; the subscription calls its DirectDelivery, which looks the
// shared result up and writes `{"id":"<id>","type":"next","payload":` + the result's JSON
// (serialised once per execution) + `}` to the `ws` socket: no async iterator, promise or
// JSON.stringify per subscriber. The transport (src/http/ws-protocol.ts) holds the delivery
// itself as the operation's stream (a PushedStream, not iterated) and sends `complete` when
// the delivery tells it the stream has ended. Errors in results are masked like Yoga masks them. The socket's
// unwritten messages are the subscriber's buffer (SUBSCRIPTION_BUFFER_EVENTS).
//
// Other transports (SSE) iterate the subscription and share by viewer id, as graphql-js
// `subscribe` would, otherwise.
import {
  createSourceEventStream,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import type { WebSocket } from 'ws';
import type { Principal } from '../../access/principal.ts';
import type { SessionFacts } from '../../access/rules.ts';
import type { DomainError } from '../../domain/errors.ts';
import type { EventRow } from '../../events/log.ts';
import { EventSubscription, type StreamSink } from '../../events/subscription.ts';
import type { PushedStream } from '../../http/ws-protocol.ts';
import { deliveryContext, type Context } from '../context.ts';
import { maskError } from '../errors.ts';
import { operationKey, operationSharing, permissionClass, type Sharing } from './sharing.ts';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** Where graphql-ws delivers one operation: its socket and the operation id. */
export interface LiveTarget {
  readonly socket: WebSocket;
  readonly id: string;
  /** The stream has ended by itself (or was stopped): the transport completes the operation. */
  ended(): void;
}

const liveTargets = new WeakMap<object, LiveTarget>();

/** Called by the graphql-ws transport: deliver this operation's events straight to its socket. */
export function deliverDirectly(contextValue: object, target: LiveTarget): void {
  liveTargets.set(contextValue, target);
}

/** A shared result: its JSON once the execution is done, and the deliveries waiting for it. */
interface Entry {
  json: string | null;
  waiting: DirectDelivery[];
  /** The last frame built from it, and for which prefix (subscribers with the same operation id share it). */
  framePrefix?: string;
  frame?: Buffer;
}

/** The subscribers of one operation text with the same variables, on this instance. */
class SharedOperation {
  users = 0;
  /** Per event object, the entry for each sharing key; gone with the event. */
  private readonly results = new WeakMap<EventRow, Map<string, Entry>>();

  constructor(
    private readonly args: ExecutionArgs,
    private readonly sharing: Sharing,
    /** Called when its last subscriber has gone. */
    readonly forget: () => void,
  ) {}

  entry(event: EventRow, principal: Principal, session: SessionFacts | null, ctx: Context): Entry {
    let byKey = this.results.get(event);
    if (!byKey) this.results.set(event, (byKey = new Map()));
    const key = this.sharing === 'class' ? permissionClass(principal, event.applicationId, session) : `#${principal.id}`;
    let entry = byKey.get(key);
    // No reload on a denial (recheckDenial): the result is for the class, not for this viewer.
    if (!entry) byKey.set(key, (entry = this.run(event, { ...ctx, viewer: principal, viewerReloaded: this.sharing === 'class' })));
    return entry;
  }

  /** The last item of a stream that the hub had to end (RATE_LIMITED, revoked): never shared. */
  failure(failure: DomainError | Error, ctx: Context): Entry {
    return this.run({ failure }, deliveryContext(ctx));
  }

  private run(payload: unknown, ctx: Context): Entry {
    ctx.services.metrics?.liveExecutions.inc();
    const entry: Entry = { json: null, waiting: [] };
    const log = (original: unknown) => ctx.services.logger.error({ err: original }, 'unexpected error');
    const done = (result: ExecutionResult) => {
      entry.json = serialise(result, log);
      const waiting = entry.waiting;
      entry.waiting = [];
      for (const delivery of waiting) delivery.flush();
    };
    let result: Result;
    try {
      result = execute({ ...this.args, rootValue: payload, contextValue: ctx });
    } catch (error) {
      result = { errors: [error as never] };
    }
    if (result instanceof Promise) result.then(done, (error) => done({ errors: [error] }));
    else done(result);
    return entry;
  }
}

function serialise(result: ExecutionResult, log: (original: unknown) => void): string {
  if (!result.errors?.length) return JSON.stringify(result);
  return JSON.stringify({ ...result, errors: result.errors.map((error) => maskError(error, log)) });
}

/** Per schema, the shared operations by operation key. */
const operations = new WeakMap<object, Map<string, SharedOperation>>();

const OPEN = 1;

/**
 * One graphql-ws operation's stream, pushed by its subscription straight into its socket. It is
 * what the transport holds for the operation (src/http/ws-protocol.ts, a PushedStream): no
 * iterator, promise or closure per subscriber beyond the socket's write callback.
 */
class DirectDelivery implements StreamSink {
  backlog = 0;
  private readonly prefix: string;
  /** Results not written yet because one of them (the first) is still executing. */
  private queue: Entry[] | null = null;
  private ending = false;
  private finished = false;
  private drainWaiter: (() => void) | null = null;
  /** The socket's write callback (not a class field: a named closure costs ~250 bytes more, see ackOf). */
  private readonly ack: () => void;

  constructor(
    private readonly target: LiveTarget,
    private readonly operation: SharedOperation,
    private readonly ctx: Context,
    private readonly subscription: EventSubscription,
  ) {
    this.prefix = `{"id":${JSON.stringify(target.id)},"type":"next","payload":`;
    this.ack = ackOf(this);
  }

  /** One message written out. */
  acked(): void {
    this.backlog--;
    if (this.backlog === 0) this.releaseDrain();
  }

  /** Marks a PushedStream (src/http/ws-protocol.ts). */
  get pushed(): true {
    return true;
  }

  event(event: EventRow, principal: Principal, session: SessionFacts | null): void {
    if (this.finished || this.ending) return;
    this.enqueue(this.operation.entry(event, principal, session, this.ctx));
  }

  end(failure: DomainError | Error | null): void {
    if (this.finished || this.ending) return;
    if (!failure) return this.finish();
    this.ending = true;
    this.enqueue(this.operation.failure(failure, this.ctx));
  }

  drained(): Promise<void> {
    if (this.backlog === 0 || this.finished) return Promise.resolve();
    return new Promise((resolve) => (this.drainWaiter = resolve));
  }

  /** The client completed the operation, or the socket closed: stop at once. */
  return(): void {
    this.finish();
    this.subscription.close();
  }

  /** Stops at once, and tells the transport. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.queue = null;
    this.releaseDrain();
    if (--this.operation.users === 0) this.operation.forget();
    this.target.ended();
  }

  private enqueue(entry: Entry): void {
    if (!this.queue?.length && entry.json !== null) this.write(entry);
    else {
      (this.queue ??= []).push(entry);
      if (entry.json === null) entry.waiting.push(this);
    }
    if (this.ending && !this.queue?.length) this.finish();
  }

  /** Writes what is ready, in order. */
  flush(): void {
    if (this.finished || !this.queue) return;
    while (this.queue.length > 0 && this.queue[0]!.json !== null) this.write(this.queue.shift()!);
    if (this.ending && this.queue.length === 0) this.finish();
  }

  private write(entry: Entry): void {
    const socket = this.target.socket;
    if (socket.readyState !== OPEN) return;
    if (entry.framePrefix !== this.prefix) {
      entry.framePrefix = this.prefix;
      entry.frame = Buffer.from(this.prefix + entry.json + '}');
    }
    this.backlog++;
    // A Buffer is sent as it is (a text frame, not encoded again per socket).
    socket.send(entry.frame!, { binary: false }, this.ack);
  }

  private releaseDrain(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = null;
    waiter?.();
  }
}

/**
 * An anonymous closure: a function that gets a name at run time (a class field, or esbuild's
 * keepNames under tsx naming an arrow) keeps its properties in a dictionary of ~256 bytes.
 */
function ackOf(delivery: DirectDelivery): () => void {
  return () => delivery.acked();
}

function sharedOperation(args: ExecutionArgs): SharedOperation {
  const key = operationKey(args.document, args.operationName, args.variableValues);
  let bySchema = operations.get(args.schema);
  if (!bySchema) operations.set(args.schema, (bySchema = new Map()));
  let operation = bySchema.get(key);
  if (!operation) {
    const shared = new SharedOperation(args, operationSharing(args.schema, args.document, args.operationName), () => {
      if (bySchema.get(key) === shared) bySchema.delete(key);
    });
    bySchema.set(key, (operation = shared));
  }
  operation.users++;
  return operation;
}

function isPushedStream(value: unknown): value is PushedStream {
  return value instanceof DirectDelivery;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}

/** Maps a stream without an async generator, so that `return()` reaches the source at once. */
function mapStream(source: AsyncIterator<unknown>, map: (payload: unknown) => Result): AsyncIterableIterator<ExecutionResult> {
  return {
    async next() {
      const item = await source.next();
      return item.done ? { done: true, value: undefined } : { done: false, value: await map(item.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      if (source.throw) await source.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Per event object, the iterated streams' result for each (viewer, operation) key. */
const iteratedResults = new WeakMap<object, Map<string, Result>>();

/**
 * graphql-ws subscriptions (src/http/ws.ts), outside envelop: the source stream is created in
 * a throwaway copy of the context (so per-request caches do not live as long as the stream),
 * and errors are masked as Yoga masks them.
 */
export async function subscribeLive(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult | PushedStream> {
  const result = await subscribeShared(args);
  if (isAsyncIterable(result) || isPushedStream(result) || !result.errors?.length) return result as AsyncIterableIterator<ExecutionResult>;
  const logger = (args.contextValue as Context).services.logger;
  const errors = result.errors.map((error) => maskError(error, (original) => logger.error({ err: original }, 'unexpected error')));
  return { ...result, errors } as unknown as ExecutionResult;
}

export async function subscribeShared(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult | PushedStream> {
  const ctx = args.contextValue as Context;
  const target = liveTargets.get(ctx);
  const source = await createSourceEventStream(target ? { ...args, contextValue: { ...ctx } } : args);
  if (!isAsyncIterable(source)) return source;
  if (target && source instanceof EventSubscription) {
    const delivery = new DirectDelivery(target, sharedOperation(args), ctx, source);
    source.pushTo(delivery);
    return delivery;
  }
  const viewerId = ctx?.viewer?.id;
  const key = viewerId ? `${viewerId}\n${operationKey(args.document, args.operationName, args.variableValues)}` : null;
  const run = (payload: unknown): Result => {
    ctx?.services?.metrics?.liveExecutions.inc();
    return execute({ ...args, rootValue: payload, contextValue: deliveryContext(ctx) });
  };
  return mapStream(source[Symbol.asyncIterator](), (payload) => {
    if (key === null || typeof payload !== 'object' || payload === null) return run(payload);
    let results = iteratedResults.get(payload);
    if (!results) iteratedResults.set(payload, (results = new Map()));
    let result = results.get(key);
    if (!result) results.set(key, (result = run(payload)));
    return result;
  });
}

/** Envelop plugin: subscriptions go through `subscribeShared`. */
export function useSharedEventExecution() {
  return {
    onSubscribe({ setSubscribeFn }: { setSubscribeFn: (fn: typeof subscribeShared) => void }) {
      setSubscribeFn(subscribeShared);
    },
  };
}
