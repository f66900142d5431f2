// Per-request batch loaders (DataLoader) for what plugin-drizzle cannot plan into the query of
// the field that asks: facts of sessions named by arguments (for the `session` scope), and
// values reached from event rows. Keys asked for in the same tick cost one statement.
import DataLoader from 'dataloader';
import { loadSessionFacts } from '../access/facts.ts';
import type { SessionFacts } from '../access/rules.ts';
import { rules } from '../access/rules.ts';
import { isUuid } from '../domain/ids.ts';
import type { MediaWithAnnotations } from '../domain/media.ts';
import { loadApplicationMembers, loadParticipantNames, type ParticipantRow } from '../domain/participants.ts';
import { loadParticipants, type SessionSnapshot } from '../domain/sessions.ts';

const DELETED_NAME = 'Deleted user';
import type { Context } from './context.ts';

export interface Loaders {
  sessionFacts: DataLoader<string, SessionFacts | null>;
  participants: DataLoader<string, SessionSnapshot['participants']>;
  /** Session data by session id (the planned reads leave the column out). */
  sessionData: DataLoader<string, Record<string, unknown> | null>;
  /** Media as it is now, if the viewer may read it and it is not archived. */
  readableMedia: DataLoader<string, MediaWithAnnotations | null>;
  /** Display names of participants, by `USER:<id>` or `GROUP:<id>`. */
  participantNames: DataLoader<string, string>;
  /** Every user and group holding a role in the application, by application id. */
  applicationMembers: DataLoader<string, ParticipantRow[]>;
}

const loaders = new WeakMap<Context, Loaders>();
const keyed = new WeakMap<Context, Map<string, DataLoader<string, unknown>>>();

/** A loader of this request for values that depend on more than the key (the arguments of a field). */
export function keyedLoader<V>(ctx: Context, name: string, batch: (keys: readonly string[]) => Promise<V[]>): DataLoader<string, V> {
  let byName = keyed.get(ctx);
  if (!byName) keyed.set(ctx, (byName = new Map()));
  let loader = byName.get(name) as DataLoader<string, V> | undefined;
  if (!loader) byName.set(name, (loader = new DataLoader(batch) as DataLoader<string, V>) as DataLoader<string, unknown>);
  return loader;
}

/** Values in key order, `empty` for keys the batch did not find. */
function inOrder<V>(keys: readonly string[], found: Map<string, V>, empty: V): V[] {
  return keys.map((key) => found.get(key) ?? empty);
}

function createLoaders(ctx: Context): Loaders {
  return {
    sessionFacts: new DataLoader(async (ids) => inOrder(ids, await loadSessionFacts(ctx.db, ids.filter(isUuid)), null)),
    participants: new DataLoader(async (ids) => inOrder(ids, await loadParticipants(ctx.db, [...ids]), [])),
    sessionData: new DataLoader(async (ids) => {
      const rows = await ctx.db.query.sessionTable.findMany({ columns: { id: true, data: true }, where: { id: { in: ids.filter(isUuid) } } });
      return inOrder(ids, new Map(rows.map((row) => [row.id, row.data])), null);
    }),
    readableMedia: new DataLoader(async (ids) => {
      const viewer = ctx.viewer;
      const wanted = ids.filter(isUuid);
      if (!viewer || wanted.length === 0) return ids.map(() => null);
      const rows = await ctx.db.query.mediaTable.findMany({
        where: { id: { in: wanted }, archivedAt: { isNull: true }, RAW: (table) => rules.mediaVisible.sql(viewer, table) },
        with: { annotations: { orderBy: { createdAt: 'asc' } } },
      });
      return inOrder(ids, new Map(rows.map((row) => [row.id, row as MediaWithAnnotations])), null);
    }),
    participantNames: new DataLoader(async (keys) => {
      const refs = keys.map((key) => ({ type: key.slice(0, key.indexOf(':')), id: key.slice(key.indexOf(':') + 1) }));
      const names = await loadParticipantNames(ctx.db, refs.filter((ref) => isUuid(ref.id)));
      return keys.map((key) => names.get(key) ?? DELETED_NAME);
    }),
    applicationMembers: new DataLoader(async (ids) => inOrder(ids, await loadApplicationMembers(ctx.db, ids.filter(isUuid)), [])),
  };
}

export function loadersOf(ctx: Context): Loaders {
  let found = loaders.get(ctx);
  if (!found) loaders.set(ctx, (found = createLoaders(ctx)));
  return found;
}
