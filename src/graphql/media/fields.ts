// Media fields on other domains' types: Session.media (the gallery, filtered by labels and
// sources, one planned query whatever the page size) and MediaEvent.media (the snapshot).
import { mayReadMedia } from '../../domain/media-access.ts';
import type { MediaWithAnnotations } from '../../domain/media.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { MediaEvent } from '../events/types.ts';
import { Session } from '../sessions/types.ts';
import { galleryFilter, LabelMatch, Media, MediaConnection, MediaSource } from './types.ts';

builder.drizzleObjectField(Session, 'media', (t) =>
  t.relatedConnection(
    'media',
    {
      description: 'The session gallery, oldest first: archived media left out; filtered by labels (ANY or ALL of them) and sources.',
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

/** Per request and place, so a page of media events costs one check per session, not per event. */
const readable = new WeakMap<Context, Map<string, Promise<boolean>>>();

function mayRead(ctx: Context, media: MediaWithAnnotations): Promise<boolean> {
  let memo = readable.get(ctx);
  if (!memo) readable.set(ctx, (memo = new Map()));
  const key = `${media.applicationId}/${media.sessionId ?? ''}`;
  let found = memo.get(key);
  if (!found) {
    found = mayReadMedia(ctx.db, ctx.viewer!, media, ctx.access);
    memo.set(key, found);
  }
  return found;
}

builder.objectField(MediaEvent, 'media', (t) =>
  t.field({
    type: Media,
    nullable: true,
    description:
      'The media as it was right after the event (a snapshot, gated by the same field permissions); null for the archive and delete events.',
    resolve: async (row, _args, ctx) => {
      const snapshot = (row.payload as { media?: MediaWithAnnotations | null } | null)?.media ?? null;
      if (!snapshot || !ctx.viewer) return null;
      return (await mayRead(ctx, snapshot)) ? snapshot : null;
    },
  }),
);
