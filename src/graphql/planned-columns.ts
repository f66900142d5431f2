// Planned columns: a field of a drizzle object may name the columns it reads (`select: { columns:
// { title: true } }`), so a planned query loads a column only when the operation asks for a
// field that reads it (the frontend's nested read selects 5 of a media row's 17 columns).
//
// plugin-drizzle wraps every such field to look up, per row, how that row was loaded, and to
// reload the row when it cannot prove the columns are there. A row that already holds every
// column the field reads needs neither: this plugin, placed just outside plugin-drizzle, calls
// the field's own resolver for it. Those rows are planned rows whose plan asked for the field
// and full rows from elsewhere (mutation results, event snapshots, loaders). Only a row that
// lacks one of the columns goes through plugin-drizzle, which loads what is missing. Plugins
// listed before this one (scope-auth) still wrap the field either way.
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import { defaultFieldResolver, type GraphQLFieldResolver } from 'graphql';

const pluginName = 'plannedColumns';

/** A field's `select` of the columns it reads: `select: reads('title')`. */
export function reads<const C extends string>(...columns: C[]): { columns: Record<C, true> } {
  return { columns: Object.fromEntries(columns.map((column) => [column, true])) as Record<C, true> };
}

/** The columns a field's static `select` names, when it names columns and nothing else. */
function columnsOnly(select: unknown): string[] | null {
  if (!select || typeof select !== 'object') return null;
  const { columns, ...rest } = select as { columns?: Record<string, boolean> };
  if (Object.values(rest).some((value) => value !== undefined)) return null;
  const names = Object.keys(columns ?? {}).filter((name) => columns![name]);
  return names.length > 0 ? names : null;
}

export class PlannedColumnsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (fieldConfig.kind !== 'DrizzleObject') return resolver;
    const columns = columnsOnly(fieldConfig.extensions?.pothosDrizzleSelect);
    if (!columns) return resolver;
    const own = (fieldConfig.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, Types['Context'], object>;
    const holdsColumns = (row: object) => {
      for (const column of columns) if (!(column in row)) return false;
      return true;
    };
    return (parent, args, context, info) => (holdsColumns(parent as object) ? own : resolver)(parent, args, context, info);
  }
}

SchemaBuilder.registerPlugin(pluginName, PlannedColumnsPlugin);

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      plannedColumns: PlannedColumnsPlugin<Types>;
    }
  }
}

export default pluginName;
