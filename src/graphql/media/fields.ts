// Media fields on other domains' types: Session.media (the gallery, filtered by labels and
// sources, one planned query whatever the page size) and MediaEvent.media (the snapshot).
import { sql, type SQL } from 'drizzle-orm';
import type { mediaTable } from '../../db/schema.ts';
import { mayReadMedia, readsClosedSessionMedia } from '../../domain/media-access.ts';
import type { MediaWithAnnotations } from '../../domain/media.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { MediaEvent } from '../events/types.ts';
import { Session } from '../sessions/types.ts';
import { LabelMatch, Media, MediaConnection, MediaSource } from './types.ts';

interface GalleryArgs {
  labels?: readonly string[] | null;
  labelMatch?: 'ANY' | 'ALL' | null;
  sources?: readonly string[] | null;
}

const textArray = (values: readonly string[]) =>
  sql`array[${sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  )}]::text[]`;

/** The gallery filter as SQL over `media` columns (the labels filter uses the GIN index). */
function galleryFilter(table: typeof mediaTable, args: GalleryArgs, ctx: Context): SQL {
  const parts: SQL[] = [sql`${table.archivedAt} is null`];
  if (args.labels?.length) {
    parts.push(sql`${table.labels} ${args.labelMatch === 'ALL' ? sql`@>` : sql`&&`} ${textArray(args.labels)}`);
  }
  if (args.sources?.length) parts.push(sql`${table.source} = any(${textArray(args.sources)})`);
  // Media of a closed session stays readable only to integration users and admins.
  if (!readsClosedSessionMedia(ctx.viewer!)) {
    parts.push(sql`exists (select 1 from session s where s.id = ${table.sessionId} and s.status = 'OPEN')`);
  }
  return sql.join(parts, sql` and `);
}

builder.drizzleObjectField(Session, 'media', (t) =>
  t.relatedConnection(
    'media',
    {
      description: 'The session gallery, oldest first: archived media left out; filtered by labels (ANY or ALL of them) and sources.',
      totalCount: true,
      args: {
        labels: t.arg.stringList({ description: 'Only media carrying these labels (see labelMatch).' }),
        labelMatch: t.arg({ type: LabelMatch, defaultValue: 'ANY', description: 'ANY: at least one of the labels; ALL: every one.' }),
        sources: t.arg({ type: [MediaSource], description: 'Only media from these sources.' }),
      },
      query: (args, ctx) => ({
        where: { RAW: (table) => galleryFilter(table, args, ctx) },
        orderBy: { seq: 'asc' },
      }),
    },
    MediaConnection,
  ),
);

builder.objectField(MediaEvent, 'media', (t) =>
  t.field({
    type: Media,
    nullable: true,
    description:
      'The media as it was right after the event (a snapshot, gated by the same field permissions); null for the archive and delete events.',
    resolve: async (row, _args, ctx) => {
      const snapshot = (row.payload as { media?: MediaWithAnnotations | null } | null)?.media ?? null;
      if (!snapshot || !ctx.viewer) return null;
      return (await mayReadMedia(ctx.db, ctx.viewer, snapshot, ctx.access)) ? snapshot : null;
    },
  }),
);
