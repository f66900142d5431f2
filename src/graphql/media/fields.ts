// Media fields on other domains' types: Session.media (the gallery, filtered by labels and
// sources, one planned query whatever the page size) and MediaEvent.media (the media as it is
// now, batched per request).
import { notFound } from '../../domain/errors.ts';
import { builder } from '../builder.ts';
import { loadersOf } from '../loaders.ts';
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

builder.objectField(MediaEvent, 'media', (t) =>
  t.field({
    type: Media,
    nullable: true,
    description:
      'The media as it is now, under the same rules as `media(id)`: null with NOT_FOUND once it is archived or deleted (the event still says which media and what happened).',
    resolve: async (row, _args, ctx) => {
      const media = row.mediaId ? await loadersOf(ctx).readableMedia.load(row.mediaId) : null;
      if (!media) throw notFound('Media');
      return media;
    },
  }),
);
