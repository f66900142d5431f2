// The gateway as people run it (`npm start` = `node --import tsx src/main.ts`), as a child
// process over a fresh database, with a few raw HTTP tools for the shutdown tests.
// Not the `tsx` CLI: it runs the program in a second process and, when that one does not
// acknowledge a relayed SIGTERM within 30 ms (a busy event loop), SIGKILLs it — no graceful stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createTestDatabase, onRealPostgres, type TestDatabase } from './database.ts';
import { graphqlRequest } from './graphql-client.ts';
import { ADMIN_TOKEN } from './gateway.ts';

const root = new URL('../..', import.meta.url).pathname;
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Where an instance keeps its state: DATA_DIR (PGlite, media) and the real database, if any. */
export interface Store {
  dataDir: string;
  database: TestDatabase | null;
}

export interface GatewayProcess {
  child: ChildProcess;
  port: number;
  logs: any[];
  exited: Promise<number | null>;
  store: Store;
}

/** A fresh database: a new one on the real server, else PGlite in a temp DATA_DIR. */
export async function freshStore(): Promise<Store> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skylight-process-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  let database: TestDatabase | null = null;
  if (onRealPostgres) {
    database = await createTestDatabase();
    await database.handle.close();
    cleanups.push(() => database!.drop());
  }
  return { dataDir, database };
}

/** Starts the gateway process, over a fresh database unless `store` names one already used. */
export async function startProcess(env: Record<string, string> = {}, store?: Store): Promise<GatewayProcess> {
  const { dataDir, database } = store ?? (await freshStore());
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH!,
      DATA_DIR: dataDir,
      DATABASE_URL: database?.url ?? '',
      DEMO: 'false',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ADMIN_TOKEN,
      JWT_SECRET: 'process-test-secret-0123456789abcdef',
      ...env,
    },
  });
  cleanups.push(() => void child.kill('SIGKILL'));
  const logs: any[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        try {
          const entry = JSON.parse(line);
          logs.push(entry);
          if (entry.msg === 'gateway listening') resolve(Number(new URL(entry.url).port));
        } catch {
          /* not a log line */
        }
      }
    });
    exited.then((code) => reject(new Error(`gateway exited with ${code} before listening: ${stderr}`)));
  });
  return { child, port, logs, exited, store: { dataDir, database } };
}

/** One GraphQL operation over HTTP to a gateway process, as the admin; throws on errors. */
export const gql = (port: number, query: string, variables: Record<string, unknown> = {}): Promise<any> =>
  graphqlRequest(`http://127.0.0.1:${port}`, ADMIN_TOKEN, query, variables);

export interface SlowRequest {
  answered: Promise<{ response: IncomingMessage; text: string }>;
  /** Sends more of the body. */
  write(chunk: Buffer): Promise<void>;
  /** Sends the rest of the body. */
  finish(rest?: Buffer): void;
}

/** A POST /graphql whose body the test sends piece by piece. */
export function slowRequest(port: number, headers: OutgoingHttpHeaders, first: Buffer): SlowRequest {
  let resolveResponse!: (value: { response: IncomingMessage; text: string }) => void;
  let rejectResponse!: (error: Error) => void;
  const answered = new Promise<{ response: IncomingMessage; text: string }>((resolve, reject) => {
    resolveResponse = resolve;
    rejectResponse = reject;
  });
  const req = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers });
  req.on('response', (response) => {
    let text = '';
    response.on('data', (chunk) => (text += chunk));
    response.on('end', () => resolveResponse({ response, text }));
    response.on('error', rejectResponse);
  });
  req.on('error', rejectResponse);
  req.write(first);
  return {
    answered,
    write: (chunk) => new Promise<void>((resolve) => (req.write(chunk) ? resolve() : req.once('drain', resolve))),
    finish: (rest) => void req.end(rest),
  };
}

/** A JSON POST whose body arrives only when `finish()` is called. */
export function slowPost(port: number, query: string): SlowRequest {
  const body = Buffer.from(JSON.stringify({ query }));
  const slow = slowRequest(
    port,
    { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${ADMIN_TOKEN}` },
    body.subarray(0, 10),
  );
  return { ...slow, finish: () => slow.finish(body.subarray(10)) };
}

/** True when nothing accepts connections on `port` any more. */
export const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });

export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
