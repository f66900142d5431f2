// Executes a subscription's selection once per event for every subscriber that would get the
// same answer: same viewer, same operation, same variables. The hub hands one event object to
// all its local subscribers, so 10,000 subscribers of one viewer cost one execution per event
// instead of 10,000 (each still gets its own message). Different viewers never share a
// result. Each execution runs in a delivery context (src/graphql/context.ts): the viewer's
// principal as the registry knows it at that moment and fresh scope and loader caches, so a
// permission lost while the stream is open stops showing at the next event. Otherwise the same
// as graphql-js `subscribe`.
import {
  createSourceEventStream,
  execute,
  print,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import { deliveryContext, type Context } from '../context.ts';

type Result = ExecutionResult | Promise<ExecutionResult>;

const documentText = new WeakMap<DocumentNode, string>();
/** Per event object, the result for each sharing key; gone with the event. */
const sharedResults = new WeakMap<object, Map<string, Result>>();

function sharingKey(args: ExecutionArgs): string | null {
  const viewerId = (args.contextValue as { viewer?: { id: string } | null } | undefined)?.viewer?.id;
  if (!viewerId) return null;
  let text = documentText.get(args.document);
  if (text === undefined) documentText.set(args.document, (text = print(args.document)));
  return `${viewerId}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}\n${text}`;
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

export async function subscribeShared(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source;
  const key = sharingKey(args);
  const run = (payload: unknown): Result =>
    execute({ ...args, rootValue: payload, contextValue: deliveryContext(args.contextValue as Context) });
  return mapStream(source[Symbol.asyncIterator](), (payload) => {
    if (key === null || typeof payload !== 'object' || payload === null) return run(payload);
    let results = sharedResults.get(payload);
    if (!results) sharedResults.set(payload, (results = new Map()));
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
