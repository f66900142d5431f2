// Media, its annotations and its queries. Every read is planned with the media rules of
// src/access/rules.ts in its `where`; the gated fields of session media are decided once per
// request and application from the viewer's principal.
import { sql, type SQL } from 'drizzle-orm';
import { mayReadMediaField, mediaFieldPermission, readsClosedSessionMedia, rules, type MediaField } from '../../access/rules.ts';
import { mediaTable } from '../../db/schema.ts';
import { DomainError, ErrorCode, notFound } from '../../domain/errors.ts';
import { isUuid } from '../../domain/ids.ts';
import { signMediaUrl } from '../../domain/media-urls.ts';
import type { MediaWithAnnotations } from '../../domain/media.ts';
import { Application } from '../applications/types.ts';
import { builder, permissionMissing } from '../builder.ts';
import { reads } from '../planned-columns.ts';
import type { Context } from '../context.ts';

export const MediaScope = builder.enumType('MediaScope', {
  description: 'Whether media belongs to an application (reference media) or to one session.',
  values: {
    APPLICATION: { description: 'Reference media of the application, addressable as skylight://<id>.' },
    SESSION: { description: 'Media of one session, reachable only through it.' },
  } as const,
});
export const MediaKind = builder.enumType('MediaKind', {
  description: 'What the bytes are, from the content type checked against their signature.',
  values: {
    PHOTO: { description: 'An image (image/*).' },
    VIDEO: { description: 'A video (video/*).' },
    AUDIO: { description: 'A sound recording (audio/*).' },
    OTHER: { description: 'Anything else.' },
  } as const,
});
export const MediaSource = builder.enumType('MediaSource', {
  description: 'How session media came in.',
  values: {
    UPLOAD: { description: 'Uploaded through the API (a data connector).' },
    CAPTURE: { description: 'A photo or video capture, usually with labels.' },
    SNAPSHOT: { description: 'Taken during a call: filename prefixed LiveSnapshot, properties roomId and wasRemotelyRequested.' },
    SHARED: { description: 'Shared during a call: the original filename, properties roomId and sharedMedia = "true".' },
  } as const,
});
export const MediaStatus = builder.enumType('MediaStatus', {
  description: 'Whether the bytes are stored yet.',
  values: {
    UPLOADING: { description: 'The row exists, the bytes are still arriving.' },
    READY: { description: 'The bytes are stored; size and sha256 are known.' },
  } as const,
});
export const LabelMatch = builder.enumType('LabelMatch', {
  description: 'How a label filter matches.',
  values: {
    ANY: { description: 'Media with at least one of the labels.' },
    ALL: { description: 'Media with every one of the labels.' },
  } as const,
});

/** An annotation as a row or as it appears in a snapshot. */
export interface AnnotationShape {
  id: string;
  mediaId: string;
  svg: string;
  createdBy: string | null;
  createdAt: Date | string;
}

export const Annotation = builder.objectRef<AnnotationShape>('Annotation').implement({
  description: 'A drawing over a photo, kept apart from the untouched original; clients overlay it.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The annotation id.' }),
    mediaId: t.exposeID('mediaId', { description: 'The photo it annotates.' }),
    svg: t.exposeString('svg', { description: 'Sanitised SVG markup: no script, event handler, external reference or foreignObject.' }),
    createdBy: t.exposeID('createdBy', { nullable: true, description: 'Who drew it.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was added.' }),
  }),
});

/**
 * Session media fields need their session:media:read:* child, decided from the viewer's
 * principal (the media itself was reached through a visible session). Application media shows
 * every field to whoever reaches it (application:read). Checked in the resolver, synchronously:
 * a list of media stays a plain list for the executor (a scope-auth step per media made every
 * media, edge and page a promise).
 */
function gated<P extends Pick<MediaWithAnnotations, 'scope' | 'applicationId'>, T>(field: MediaField, read: (media: P, ctx: Context) => T) {
  const permission = mediaFieldPermission(field);
  return (media: P, _args: unknown, ctx: Context): T => {
    if (media.scope === 'SESSION' && !(ctx.viewer && mayReadMediaField(ctx.viewer, { applicationId: media.applicationId, field }))) {
      throw permissionMissing(permission);
    }
    return read(media, ctx);
  };
}
export const Media = builder.drizzleObject('mediaTable', {
  name: 'Media',
  description: 'A photo, video, sound or other file of an application or of a session.',
  // The key columns the gates read (scope and applicationId) with every planned media; every
  // other column only when a field asked for reads it (src/graphql/planned-columns.ts).
  select: { columns: { id: true, scope: true, applicationId: true } },
  fields: (t) => ({
    id: t.id({ description: 'The media id.', resolve: (media) => media.id }),
    uri: t.string({ description: 'skylight://<id>: how application cards refer to the media.', resolve: (media) => `skylight://${media.id}` }),
    scope: t.field({ type: MediaScope, description: 'Application or session media.', resolve: (media) => media.scope }),
    applicationId: t.id({ description: 'The application it belongs to.', resolve: (media) => media.applicationId }),
    sessionId: t.id({
      select: reads('sessionId'),
      nullable: true,
      description: 'The session, for session media.',
      resolve: (media) => media.sessionId,
    }),
    filename: t.string({
      select: reads('filename'),
      description: 'The file name (LiveSnapshot… for call snapshots).',
      resolve: (media) => media.filename,
    }),
    contentType: t.string({ select: reads('contentType'), description: 'The MIME type, checked against the bytes.', resolve: (media) => media.contentType }),
    kind: t.field({ type: MediaKind, select: reads('kind'), description: 'Photo, video, audio or other.', resolve: (media) => media.kind }),
    size: t.field({ type: 'BigInt', select: reads('size'), description: 'Bytes stored; 0 while uploading.', resolve: (media) => media.size }),
    sha256: t.string({
      select: reads('sha256'),
      nullable: true,
      description: 'Hex sha256 of the bytes (the download ETag); null while uploading.',
      resolve: (media) => media.sha256,
    }),
    status: t.field({
      type: MediaStatus,
      select: reads('status'),
      description: 'UPLOADING until the bytes are stored, then READY.',
      resolve: (media) => media.status,
    }),
    source: t.field({ type: MediaSource, select: reads('source'), description: 'How the media came in.', resolve: (media) => media.source }),
    title: t.string({
      select: reads('title'),
      nullable: true,
      description: 'A title. Session media: needs session:media:read:title (else null with FORBIDDEN).',
      resolve: gated('title', (media) => media.title),
    }),
    labels: t.stringList({
      select: reads('labels'),
      nullable: true,
      description: 'Gallery labels. Session media: needs session:media:read:labels.',
      resolve: gated('labels', (media) => media.labels),
    }),
    properties: t.field({
      select: reads('properties'),
      type: 'StringMap',
      nullable: true,
      description: 'String properties (roomId, wasRemotelyRequested, sharedMedia, ...). Session media: needs session:media:read:properties.',
      resolve: gated('properties', (media) => media.properties),
    }),
    annotations: t.field({
      type: [Annotation],
      nullable: true,
      description: 'Drawings over a photo, oldest first. Session media: needs session:media:read:annotations.',
      // Planned into the media query only when asked (annotation SVG can be large).
      select: { with: { annotations: { orderBy: { createdAt: 'asc' } } } },
      resolve: gated('annotations', (media) => media.annotations ?? []),
    }),
    url: t.string({
      select: reads('status'),
      nullable: true,
      description: 'A signed URL of the original bytes for SIGNED_URL_TTL seconds, usable without a header (<img src>); null until READY. Session media: needs session:media:read:content.',
      resolve: gated('url', (media, ctx) =>
        media.status === 'READY'
          ? signMediaUrl(
              { secret: ctx.config.jwtSecret, ttlSeconds: ctx.config.signedUrlTtlSeconds, publicUrl: ctx.config.publicUrl },
              media.id,
              ctx.viewer!.id,
            )
          : null,
      ),
    }),
    createdBy: t.id({ select: reads('createdBy'), nullable: true, description: 'Who uploaded it.', resolve: (media) => media.createdBy }),
    createdAt: t.field({ type: 'DateTime', select: reads('createdAt'), description: 'When the media was created.', resolve: (media) => media.createdAt }),
    modifiedAt: t.field({ type: 'DateTime', select: reads('modifiedAt'), description: 'When the media last changed.', resolve: (media) => media.modifiedAt }),
  }),
});

export interface GalleryArgs {
  labels?: readonly string[] | null;
  labelMatch?: 'ANY' | 'ALL' | null;
  sources?: readonly string[] | null;
}

const textArray = (values: readonly string[]) =>
  sql`array[${sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  )}]::text[]`;

/** Session.media's filter as SQL over `media` columns (labels use the GIN index); its session is visible. */
export function galleryFilter(table: typeof mediaTable, args: GalleryArgs, ctx: Context): SQL {
  const parts: SQL[] = [sql`${table.archivedAt} is null`, rules.mediaOfVisibleSession.sql(ctx.viewer!, table)];
  if (args.labels?.length) {
    parts.push(sql`${table.labels} ${args.labelMatch === 'ALL' ? sql`@>` : sql`&&`} ${textArray(args.labels)}`);
  }
  if (args.sources?.length) parts.push(sql`${table.source} = any(${textArray(args.sources)})`);
  return sql.join(parts, sql` and `);
}

/** Application.media's filter. */
export function applicationMediaFilter(table: typeof mediaTable): SQL {
  return sql`${table.scope} = 'APPLICATION' and ${table.archivedAt} is null`;
}

/**
 * totalCount of a media connection, one statement: the connection carries its parent row (a
 * session has an applicationId, an application does not) and its arguments.
 */
function countMedia(ctx: Context, parent: { id: string; applicationId?: string }, args: GalleryArgs): Promise<number> {
  const where = parent.applicationId
    ? sql`${mediaTable.sessionId} = ${parent.id} and ${galleryFilter(mediaTable, args, ctx)}`
    : sql`${mediaTable.applicationId} = ${parent.id} and ${applicationMediaFilter(mediaTable)}`;
  return ctx.db.$count(mediaTable, where);
}

export const MediaConnection = builder.connectionObject(
  {
    type: Media,
    name: 'MediaConnection',
    description: 'A page of media, oldest first.',
    fields: (t) => ({
      totalCount: t.int({
        description: 'How many media match the filters, over every page.',
        // One statement per connection asked for. (plugin-drizzle's planned relatedConnection
        // totalCount renders a broken count subquery with drizzle-orm 1.0.0-rc.5 and RAW filters.)
        resolve: (connection, _args, ctx) => {
          const { parent, args } = connection as unknown as { parent: { id: string; applicationId?: string }; args: GalleryArgs };
          return countMedia(ctx, parent, args ?? {});
        },
      }),
    }),
  },
  { name: 'MediaEdge', description: 'A media item and its cursor.' },
);

builder.drizzleObjectField(Application, 'media', (t) =>
  t.relatedConnection(
    'media',
    {
      description: 'Reference media of the application, oldest first.',
      query: () => ({ where: { RAW: (table) => applicationMediaFilter(table) }, orderBy: { seq: 'asc' } }),
    },
    MediaConnection,
  ),
);

/** SQL: media the viewer may read, not archived. */
export function readableMediaWhere(table: typeof mediaTable, ctx: Context): SQL {
  return sql`${table.archivedAt} is null and ${rules.mediaVisible.sql(ctx.viewer!, table)}`;
}

/**
 * NOT_FOUND for media the viewer cannot read. When a person (neither integration user nor
 * admin) would see it but for its session being closed, the error says so
 * (`reason: SESSION_CLOSED`), so a frontend can tell why; nothing is revealed to others.
 */
export async function mediaNotFound(ctx: Context, mediaId: string): Promise<DomainError> {
  const viewer = ctx.viewer!;
  if (!readsClosedSessionMedia(viewer) && isUuid(mediaId)) {
    const asIntegration = { ...viewer, isIntegration: true };
    const closed = await ctx.db.query.mediaTable.findFirst({
      columns: { id: true },
      where: {
        id: mediaId,
        archivedAt: { isNull: true },
        RAW: (table) =>
          sql`${rules.mediaVisible.sql(asIntegration, table)} and exists (select 1 from session s where s.id = ${table.sessionId} and s.status = 'CLOSED')`,
      },
    });
    if (closed) return new DomainError(ErrorCode.NOT_FOUND, 'The session of this media is closed', { reason: 'SESSION_CLOSED' });
  }
  return notFound('Media');
}

const SKYLIGHT_URI = /^skylight:\/\/([0-9a-f-]{36})$/i;

builder.queryFields((t) => ({
  media: t.drizzleField({
    type: Media,
    nullable: true,
    description: 'One media item; NOT_FOUND when missing, archived, deleted or not visible to the viewer.',
    args: { mediaId: t.arg.id({ required: true, description: 'The media id.' }) },
    resolve: async (query, _root, args, ctx) => {
      const id = String(args.mediaId);
      const media = isUuid(id)
        ? await ctx.db.query.mediaTable.findFirst(query({ where: { id, RAW: (table) => readableMediaWhere(table, ctx) } }))
        : null;
      if (!media) throw await mediaNotFound(ctx, id);
      return media;
    },
  }),
  mediaByUri: t.drizzleField({
    type: Media,
    nullable: true,
    description: 'Media by its skylight://<id> URI, as application cards bind it; the same rules as `media`.',
    args: { uri: t.arg.string({ required: true, description: 'skylight://<mediaId>' }) },
    resolve: async (query, _root, args, ctx) => {
      const id = SKYLIGHT_URI.exec(args.uri.trim())?.[1];
      const media = id
        ? await ctx.db.query.mediaTable.findFirst(query({ where: { id, RAW: (table) => readableMediaWhere(table, ctx) } }))
        : null;
      if (!media) throw await mediaNotFound(ctx, id ?? '');
      return media;
    },
  }),
}));
