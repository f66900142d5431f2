// What a file is: its kind from the content type, checked against the signature (magic
// bytes) at the head of the stream, which is read once and put back in front of the rest.
import { PassThrough, Readable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { badInput } from './errors.ts';

export type MediaKind = 'PHOTO' | 'VIDEO' | 'AUDIO' | 'OTHER';

/** file-type needs at most this many bytes to recognise any signature it knows. */
const SAMPLE_BYTES = 4100;
const GENERIC = new Set(['', 'application/octet-stream', 'binary/octet-stream']);
const ALIASES: Record<string, string> = { 'image/jpg': 'image/jpeg', 'image/pjpeg': 'image/jpeg', 'audio/mp3': 'audio/mpeg' };

export function kindOf(contentType: string): MediaKind {
  if (contentType.startsWith('image/')) return 'PHOTO';
  if (contentType.startsWith('video/')) return 'VIDEO';
  if (contentType.startsWith('audio/')) return 'AUDIO';
  return 'OTHER';
}

function normalise(contentType: string | null | undefined): string {
  const bare = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return ALIASES[bare] ?? bare;
}

export interface InspectedFile {
  contentType: string;
  kind: MediaKind;
  /** The whole stream again, head included. */
  stream: Readable;
}

/**
 * Reads the head of `stream`, decides the content type and kind, and refuses a file whose
 * declared type disagrees with its signature: a declared photo, video or audio needs a
 * signature of that kind (an SVG or a renamed script is not a photo), and a file whose
 * signature says photo, video or audio cannot pass as something else.
 */
export async function inspectFile(source: Readable, declared: string | null | undefined, field = 'file'): Promise<InspectedFile> {
  // Read through a PassThrough so that the source can still be drained when the file is
  // refused or its consumer stops early: the rest of the request must be read, not stalled.
  // Forwarded by hand, not piped: graphql-upload-minimal unpipes the file stream when it hits
  // the size limit, which would leave a pipe's destination waiting for an end that never comes.
  const through = new PassThrough();
  const onData = (chunk: Buffer) => {
    if (!through.write(chunk)) source.pause();
  };
  source.on('data', onData);
  through.on('drain', () => source.resume());
  source.once('end', () => through.end());
  source.on('error', (error) => through.destroy(error));
  const drain = () => {
    source.removeListener('data', onData);
    through.destroy();
    if (!source.destroyed) source.resume();
  };
  const iterator = through[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < SAMPLE_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    chunks.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(chunks);
  const detected = head.length > 0 ? await fileTypeFromBuffer(head) : undefined;
  const claimed = normalise(declared);
  let contentType = claimed;
  if (GENERIC.has(claimed)) contentType = detected?.mime ?? 'application/octet-stream';
  else {
    const claimedKind = kindOf(claimed);
    const detectedKind = detected ? kindOf(detected.mime) : 'OTHER';
    if (claimedKind !== detectedKind) {
      drain();
      throw badInput(field, `The content type ${claimed} does not match the file's contents (${detected?.mime ?? 'unrecognised'})`);
    }
    if (detected && claimedKind !== 'OTHER') contentType = detected.mime;
  }
  async function* replay() {
    let finished = done;
    try {
      if (head.length > 0) yield head;
      while (!finished) {
        const next = await iterator.next();
        if (next.done) finished = true;
        else yield next.value;
      }
    } finally {
      if (!finished) drain();
    }
  }
  return { contentType, kind: kindOf(contentType), stream: Readable.from(replay(), { objectMode: false }) };
}
