// npm run bench -- uploads [--mib 1024]: one upload of 1 GiB through the gateway (a streamed
// GraphQL multipart request, generated on the fly) against a plain Node stream-to-file of the
// same bytes (with the same fsync), one run each. Prints both times, their ratio (plain time /
// gateway time: 1.0 means the gateway costs nothing) and the gateway's peak RSS growth during
// the upload, sampled from /proc in a child process that runs the gateway as `npm start` does.
// Targets: ratio >= 0.7, RSS growth < 64 MiB. A fresh database on TEST_DATABASE_URL's server,
// or DATABASE_URL, or the embedded PGlite when neither is set.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, TEST_DATABASE_URL } from '../test/helpers/database.ts';
import { graphqlRequest } from '../test/helpers/graphql-client.ts';

const MiB = 1024 * 1024;
const argIndex = process.argv.indexOf('--mib');
const totalMiB = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 1024;
const TOTAL = totalMiB * MiB;
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const root = fileURLToPath(new URL('..', import.meta.url));
const block = randomBytes(MiB);

/** The test bytes: one random MiB, `totalMiB` times. */
function* blocks() {
  for (let i = 0; i < totalMiB; i++) yield block;
}

function expectedSha256(): string {
  const hash = createHash('sha256');
  for (const chunk of blocks()) hash.update(chunk);
  return hash.digest('hex');
}

async function plainStreamToFile(dir: string): Promise<number> {
  const path = join(dir, 'plain.bin');
  const started = performance.now();
  await pipeline(Readable.from(blocks()), createWriteStream(path, { highWaterMark: MiB }));
  const file = await open(path, 'r');
  await file.sync();
  await file.close();
  const seconds = (performance.now() - started) / 1000;
  rmSync(path);
  return seconds;
}

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

async function startGateway(dataDir: string, databaseUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH!,
      DATA_DIR: dataDir,
      MEDIA_DIR: join(dataDir, 'media'),
      DATABASE_URL: databaseUrl,
      DEMO: 'false',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ADMIN_TOKEN,
      MAX_UPLOAD_BYTES: String(TOTAL + MiB),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(buffered);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  child.stdout!.resume();
  return { child, url };
}

const gql = (url: string, query: string, variables: Record<string, unknown> = {}) => graphqlRequest(url, ADMIN_TOKEN, query, variables);

const UPLOAD = `mutation($a: ID!, $s: ID!, $file: Upload!) { uploadSessionMedia(applicationId: $a, sessionId: $s, file: $file) { size sha256 } }`;

/** A multipart request whose file part is `chunks`, written as the socket drains. */
function multipartUpload(url: string, variables: Record<string, unknown>, chunks: Iterable<Buffer>, size: number): Promise<any> {
  const boundary = `bench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n` +
      JSON.stringify({ query: UPLOAD, variables: { ...variables, file: null } }) +
      `\r\n--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = request(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': head.length + size + tail.length,
        authorization: `Bearer ${ADMIN_TOKEN}`,
        'x-graphql-csrf': '1',
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    (async () => {
      const write = (chunk: Buffer) => (req.write(chunk) ? Promise.resolve() : new Promise<void>((done) => req.once('drain', () => done())));
      await write(head);
      for (const chunk of chunks) await write(chunk);
      req.end(tail);
    })().catch(reject);
  });
}

/** A fresh database on the real server (TEST_DATABASE_URL), DATABASE_URL as given, else PGlite. */
async function benchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (TEST_DATABASE_URL) {
    const database = await createTestDatabase();
    await database.handle.close();
    return { url: database.url!, drop: () => database.drop() };
  }
  return { url: process.env.DATABASE_URL ?? '', drop: async () => {} };
}

const dir = mkdtempSync(join(tmpdir(), 'bench-uploads-'));
const database = await benchDatabase();
try {
  const sha256 = expectedSha256();
  const plainSeconds = await plainStreamToFile(dir);

  const { child, url } = await startGateway(join(dir, 'gateway'), database.url);
  try {
    const applicationId = (await gql(url, `mutation { createApplication(input: { name: "bench" }) { id } }`)).createApplication.id;
    const sessionId = (await gql(url, `mutation($a: ID!) { createSession(input: { applicationId: $a, name: "bench" }) { id } }`, { a: applicationId }))
      .createSession.id;
    const variables = { a: applicationId, s: sessionId };
    // Warm up: the first upload loads the code paths; the RSS baseline is taken after it.
    await multipartUpload(url, variables, [block], MiB);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const baseline = rssOf(child.pid!);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid!))), 20);
    const started = performance.now();
    const result = await multipartUpload(url, variables, blocks(), TOTAL);
    const gatewaySeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const media = result.data?.uploadSessionMedia;
    if (!media || media.size !== TOTAL || media.sha256 !== sha256) throw new Error(`upload failed: ${JSON.stringify(result).slice(0, 500)}`);

    const ratio = plainSeconds / gatewaySeconds;
    const growthMiB = (peak - baseline) / MiB;
    const mibps = (seconds: number) => (totalMiB / seconds).toFixed(0);
    console.log(`database:           ${database.url ? 'PostgreSQL' : 'PGlite (embedded)'}`);
    console.log(`bytes:              ${totalMiB} MiB (sha256 checked)`);
    console.log(`plain stream→file:  ${plainSeconds.toFixed(2)} s (${mibps(plainSeconds)} MiB/s)`);
    console.log(`through gateway:    ${gatewaySeconds.toFixed(2)} s (${mibps(gatewaySeconds)} MiB/s)`);
    console.log(`ratio (plain/gw):   ${ratio.toFixed(2)}  (target >= 0.7) ${ratio >= 0.7 ? 'ok' : 'MISSED'}`);
    console.log(`gateway RSS:        ${(baseline / MiB).toFixed(0)} MiB before, peak growth ${growthMiB.toFixed(1)} MiB (target < 64) ${growthMiB < 64 ? 'ok' : 'MISSED'}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await database.drop();
}
