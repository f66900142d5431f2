// Demo media: a few small photos generated in code (valid PNGs), with labels and one
// annotation, on the first session of the demo application. Also the PNG maker the tests use.
import { Readable } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { sessionTable } from '../db/schema.ts';
import { addMediaAnnotation } from '../domain/media-lifecycle.ts';
import { uploadSessionMedia, type MediaDeps } from '../domain/media.ts';
import type { BlobStorage } from '../storage/types.ts';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid RGB PNG of one colour with a diagonal stripe, so every image differs. */
export function pngImage(width: number, height: number, rgb: [number, number, number]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const stripe = Math.abs(x - y) < 2;
      row.set(stripe ? [255, 255, 255] : rgb, 1 + x * 3);
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const PHOTOS = [
  { filename: 'valve-7.png', title: 'Valve 7, north wall', labels: ['valve', 'ok'], rgb: [40, 120, 200] as [number, number, number] },
  { filename: 'pump-2.png', title: 'Pump 2 seal', labels: ['pump', 'defect'], rgb: [200, 60, 40] as [number, number, number] },
  { filename: 'gauge.png', title: 'Pressure gauge', labels: ['gauge', 'ok'], rgb: [60, 160, 80] as [number, number, number] },
];

const CIRCLE = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><circle cx="32" cy="32" r="20" fill="none" stroke="red" stroke-width="3"/></svg>';

export async function seedDemoMedia(
  db: Database,
  storage: BlobStorage,
  seed: { applicationId: string; users: Record<string, string> },
): Promise<void> {
  const [session] = await db
    .select()
    .from(sessionTable)
    .where(eq(sessionTable.applicationId, seed.applicationId))
    .orderBy(asc(sessionTable.seq))
    .limit(1);
  if (!session) return;
  const deps: MediaDeps = { db, storage, maxUploadBytes: 1024 * 1024, maxAnnotationBytes: 64 * 1024 };
  const actor = { userId: seed.users.ivan ?? seed.users.admin! };
  const place = { applicationId: seed.applicationId, sessionId: session.id };
  for (const [index, photo] of PHOTOS.entries()) {
    const bytes = pngImage(64, 48, photo.rgb);
    const media = await uploadSessionMedia(
      deps,
      actor,
      place,
      { filename: photo.filename, contentType: 'image/png', stream: Readable.from([bytes]) },
      { title: photo.title, labels: photo.labels, source: 'CAPTURE' },
    );
    if (index === 1) await addMediaAnnotation(deps, actor, media.id, CIRCLE);
  }
}
