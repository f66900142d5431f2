// Media mutations. Authorization is declared with scope-auth: the media is looked up once per
// request to learn its application and session and checked with `rules.mediaVisible`, then the
// session scope checks the permission. Uploads stream from the request straight to storage.
import type { FileUpload } from 'graphql-upload-minimal';
import type { Permission } from '../../auth/permissions.ts';
import { badInput, DomainError, ErrorCode, notFound } from '../../domain/errors.ts';
import { deleteApplicationMedia, updateApplicationMedia, uploadApplicationMedia } from '../../domain/media-application.ts';
import { addMediaAnnotation, archiveMedia, deleteMedia, deleteMediaAnnotation, unarchiveMedia } from '../../domain/media-lifecycle.ts';
import { findMedia, updateSessionMedia, uploadSessionMedia, type IncomingFile, type MediaDeps, type MediaWithAnnotations } from '../../domain/media.ts';
import { rules } from '../../access/rules.ts';
import { builder } from '../builder.ts';
import { actorOf, type Context } from '../context.ts';
import { keyedLoader, loadersOf } from '../loaders.ts';
import { Annotation, Media, MediaSource, mediaNotFound } from './types.ts';

/** The media a mutation is about, once per request; NOT_FOUND unless the viewer may read it. */
function target(ctx: Context, mediaId: string, archived: boolean): Promise<MediaWithAnnotations> {
  const loader = keyedLoader(ctx, `mutationTarget:${archived}`, (ids) =>
    Promise.all(
      ids.map(async (id) => {
        const media = await findMedia(ctx.db, id, { archived });
        const session = media?.sessionId ? await loadersOf(ctx).sessionFacts.load(media.sessionId) : null;
        if (!media || !rules.mediaVisible.check(ctx.viewer!, { ...media, session })) return mediaNotFound(ctx, id);
        return media;
      }),
    ),
  );
  return loader.load(mediaId).then((found) => {
    if (found instanceof Error) throw found;
    return found;
  });
}

/** Scopes for a change to session media: every permission in `needs`, in its session. */
async function onSessionMedia(ctx: Context, mediaId: string, needs: Permission[], archived = false) {
  const media = await target(ctx, mediaId, archived);
  if (media.scope !== 'SESSION' || !media.sessionId) throw notFound('Media');
  const place = { applicationId: media.applicationId, sessionId: media.sessionId };
  // Every permission must hold: nested $all maps, since a map has one `session` key.
  let scopes: Record<string, unknown> = { session: { ...place, need: needs.at(-1)! } };
  for (const need of needs.slice(0, -1).reverse()) scopes = { $all: { session: { ...place, need }, $all: scopes } };
  return scopes;
}

async function onApplicationMedia(ctx: Context, mediaId: string) {
  const media = await target(ctx, mediaId, false);
  if (media.scope !== 'APPLICATION') throw notFound('Media');
  return { appPermission: { applicationId: media.applicationId, permission: 'application:media:manage' as Permission } };
}

function deps(ctx: Context): MediaDeps {
  return {
    db: ctx.db,
    storage: ctx.services.storage,
    maxUploadBytes: ctx.config.maxUploadBytes,
    maxAnnotationBytes: ctx.config.maxAnnotationBytes,
    maxLabels: ctx.config.maxLabelsPerMedia,
  };
}


/** The file of an Upload argument; a refused or missing part becomes the spec's error. */
async function receive(upload: Promise<FileUpload>, field = 'file'): Promise<IncomingFile> {
  let file: FileUpload;
  try {
    file = await upload;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 413) throw new DomainError(ErrorCode.PAYLOAD_TOO_LARGE, (error as Error).message, { field });
    throw badInput(field, (error as Error).message || 'The file is missing');
  }
  return { filename: file.filename, contentType: file.mimetype, stream: file.createReadStream() };
}

const SessionMediaInput = builder.inputType('SessionMediaInput', {
  description: 'What to record with an uploaded session media file.',
  fields: (t) => ({
    title: t.string({ description: 'A title.' }),
    labels: t.stringList({ description: 'Gallery labels.' }),
    properties: t.field({ type: 'StringMap', description: 'String properties.' }),
    source: t.field({ type: MediaSource, defaultValue: 'UPLOAD', description: 'How the media came in (default UPLOAD).' }),
    roomId: t.string({ description: "For SNAPSHOT and SHARED media: the call's room." }),
    wasRemotelyRequested: t.boolean({ description: 'For SNAPSHOT media: whether the remote side asked for it.' }),
  }),
});

const UpdateSessionMediaInput = builder.inputType('UpdateSessionMediaInput', {
  description: 'The fields to change; each given one replaces the old value.',
  fields: (t) => ({
    title: t.string({ description: 'A new title (needs session:media:update:title).' }),
    labels: t.stringList({ description: 'New labels (needs session:media:update:labels).' }),
    properties: t.field({ type: 'StringMap', description: 'New properties, replacing all (needs session:media:update:properties).' }),
  }),
});


builder.mutationFields((t) => ({
  uploadApplicationMedia: t.field({
    type: Media,
    description: 'Uploads reference media of an application (application:media:manage). Emits APPLICATION_MEDIA_CREATED.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application.' }),
      file: t.arg({ type: 'Upload', required: true, description: 'The file (a multipart request part).' }),
      title: t.arg.string({ description: 'A title.' }),
    },
    authScopes: (_root, args) => ({
      appPermission: { applicationId: String(args.applicationId), permission: 'application:media:manage' },
    }),
    resolve: async (_root, args, ctx) =>
      uploadApplicationMedia(deps(ctx), actorOf(ctx), String(args.applicationId), await receive(args.file), args.title),
  }),
  updateApplicationMedia: t.field({
    type: Media,
    description: 'Changes the title and/or replaces the content of application media. Emits APPLICATION_MEDIA_UPDATED.',
    args: {
      mediaId: t.arg.id({ required: true, description: 'The media.' }),
      title: t.arg.string({ description: 'A new title.' }),
      file: t.arg({ type: 'Upload', description: 'New content.' }),
    },
    authScopes: (_root, args, ctx) => onApplicationMedia(ctx, String(args.mediaId)),
    resolve: async (_root, args, ctx) =>
      updateApplicationMedia(deps(ctx), actorOf(ctx), String(args.mediaId), {
        ...(args.title !== undefined && { title: args.title }),
        file: args.file ? await receive(args.file) : null,
      }),
  }),
  deleteApplicationMedia: t.id({
    description: 'Deletes application media for good, bytes included. Emits APPLICATION_MEDIA_DELETED; returns the id.',
    args: { mediaId: t.arg.id({ required: true, description: 'The media.' }) },
    authScopes: (_root, args, ctx) => onApplicationMedia(ctx, String(args.mediaId)),
    resolve: (_root, args, ctx) => deleteApplicationMedia(deps(ctx), actorOf(ctx), String(args.mediaId)),
  }),
  uploadSessionMedia: t.field({
    type: Media,
    description:
      'Streams a file into a session (session:media:create): the media is created UPLOADING (SESSION_MEDIA_CREATED), then READY with size and sha256 (SESSION_MEDIA_UPDATED). A failed upload leaves nothing.',
    args: {
      applicationId: t.arg.id({ required: true, description: 'The application.' }),
      sessionId: t.arg.id({ required: true, description: 'The session.' }),
      file: t.arg({ type: 'Upload', required: true, description: 'The file (a multipart request part).' }),
      input: t.arg({ type: SessionMediaInput, description: 'Title, labels, properties and source.' }),
    },
    authScopes: (_root, args) => ({
      session: { applicationId: String(args.applicationId), sessionId: String(args.sessionId), need: 'session:media:create' },
    }),
    resolve: async (_root, args, ctx) =>
      uploadSessionMedia(
        deps(ctx),
        actorOf(ctx),
        { applicationId: String(args.applicationId), sessionId: String(args.sessionId) },
        await receive(args.file),
        args.input ?? {},
      ),
  }),
  updateSessionMedia: t.field({
    type: Media,
    description: 'Changes title, labels and/or properties, each with its session:media:update:* permission. Emits SESSION_MEDIA_UPDATED.',
    args: {
      mediaId: t.arg.id({ required: true, description: 'The media.' }),
      input: t.arg({ type: UpdateSessionMediaInput, required: true, description: 'What to change.' }),
    },
    authScopes: (_root, args, ctx) => {
      const needs: Permission[] = [];
      if (args.input.title !== undefined) needs.push('session:media:update:title');
      if (args.input.labels != null) needs.push('session:media:update:labels');
      if (args.input.properties != null) needs.push('session:media:update:properties');
      return onSessionMedia(ctx, String(args.mediaId), needs.length ? needs : ['session:media:update']);
    },
    resolve: (_root, args, ctx) => updateSessionMedia(ctx.db, actorOf(ctx), String(args.mediaId), args.input, ctx.config.maxLabelsPerMedia),
  }),
  addMediaAnnotation: t.field({
    type: Annotation,
    description: 'Adds a sanitised SVG annotation to a session photo (session:media:update:annotations). Emits SESSION_MEDIA_ANNOTATION_CREATED.',
    args: {
      mediaId: t.arg.id({ required: true, description: 'The photo.' }),
      svg: t.arg.string({ required: true, description: 'SVG markup, at most MAX_ANNOTATION_BYTES.' }),
    },
    authScopes: (_root, args, ctx) => onSessionMedia(ctx, String(args.mediaId), ['session:media:update:annotations']),
    resolve: (_root, args, ctx) => addMediaAnnotation(deps(ctx), actorOf(ctx), String(args.mediaId), args.svg),
  }),
  deleteMediaAnnotation: t.id({
    description: 'Removes an annotation (session:media:update:annotations). Emits SESSION_MEDIA_ANNOTATION_DELETED; returns its id.',
    args: {
      mediaId: t.arg.id({ required: true, description: 'The photo.' }),
      annotationId: t.arg.id({ required: true, description: 'The annotation.' }),
    },
    authScopes: (_root, args, ctx) => onSessionMedia(ctx, String(args.mediaId), ['session:media:update:annotations']),
    resolve: (_root, args, ctx) => deleteMediaAnnotation(ctx.db, actorOf(ctx), String(args.mediaId), String(args.annotationId)),
  }),
  archiveMedia: t.id({
    description: 'Hides session media from every read while keeping it (session:media:archive). Emits SESSION_MEDIA_ARCHIVED; returns the id.',
    args: { mediaId: t.arg.id({ required: true, description: 'The media.' }) },
    authScopes: (_root, args, ctx) => onSessionMedia(ctx, String(args.mediaId), ['session:media:archive']),
    resolve: (_root, args, ctx) => archiveMedia(ctx.db, actorOf(ctx), String(args.mediaId)),
  }),
  unarchiveMedia: t.field({
    type: Media,
    description: 'Restores archived session media (session:media:archive). Emits SESSION_MEDIA_UNARCHIVED.',
    args: { mediaId: t.arg.id({ required: true, description: 'The media.' }) },
    authScopes: (_root, args, ctx) => onSessionMedia(ctx, String(args.mediaId), ['session:media:archive'], true),
    resolve: (_root, args, ctx) => unarchiveMedia(ctx.db, actorOf(ctx), String(args.mediaId)),
  }),
  deleteMedia: t.id({
    description: 'Deletes session media for good, row and bytes (session:media:delete); archived media too. Emits SESSION_MEDIA_DELETED; returns the id.',
    args: { mediaId: t.arg.id({ required: true, description: 'The media.' }) },
    authScopes: (_root, args, ctx) => onSessionMedia(ctx, String(args.mediaId), ['session:media:delete'], true),
    resolve: (_root, args, ctx) => deleteMedia(deps(ctx), actorOf(ctx), String(args.mediaId)),
  }),
}));
