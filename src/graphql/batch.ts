// A tiny per-request batcher: keys asked for in the same tick are loaded with one statement.
// Used where plugin-drizzle cannot plan a field (values that come from event snapshots).
import type { Context } from './context.ts';

type Loader<V> = (key: string) => Promise<V>;

const loaders = new WeakMap<Context, Map<string, Loader<unknown>>>();

/** The request's loader `name`, batching keys through `loadMany` (which returns a value per key). */
export function batchLoader<V>(ctx: Context, name: string, loadMany: (keys: string[]) => Promise<Map<string, V>>, empty: V): Loader<V> {
  let byName = loaders.get(ctx);
  if (!byName) loaders.set(ctx, (byName = new Map()));
  const existing = byName.get(name);
  if (existing) return existing as Loader<V>;
  let pending: Map<string, { resolve: (value: V) => void; reject: (error: unknown) => void }[]> | null = null;
  const loader: Loader<V> = (key) =>
    new Promise<V>((resolve, reject) => {
      if (!pending) {
        const batch = (pending = new Map());
        // After the current round of resolvers has asked for its keys.
        setImmediate(() => {
          pending = null;
          loadMany([...batch.keys()]).then(
            (values) => {
              for (const [k, waiters] of batch) for (const w of waiters) w.resolve(values.get(k) ?? empty);
            },
            (error) => {
              for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
            },
          );
        });
      }
      const waiters = pending.get(key) ?? [];
      waiters.push({ resolve, reject });
      pending.set(key, waiters);
    });
  byName.set(name, loader as Loader<unknown>);
  return loader;
}
