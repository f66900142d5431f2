// Multipart POST /graphql (the GraphQL multipart request spec) in front of Yoga, whose own
// multipart parser is off because it buffers whole files. graphql-upload-minimal parses the
// `operations` and `map` fields and hands each file to its resolver as a stream while the
// request is still arriving, so a file flows from the socket to storage in bounded memory.
// The parsed operation then runs through Yoga itself (its plugins, context, error masking):
// Yoga gets a bodiless request and `useUploadedOperations` supplies the parsed parameters.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { processRequest, Upload, type GraphQLOperation } from 'graphql-upload-minimal';
import type { Plugin, YogaServerInstance } from 'graphql-yoga';
import type { Config } from '../config.ts';
import type { Context } from '../graphql/context.ts';
import { sendJson } from './respond.ts';

/** Any of these non-simple headers proves the request is not a cross-site form post (CSRF). */
export const CSRF_HEADERS = [
  'x-graphql-csrf',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'x-graphql-yoga-csrf',
  'graphql-preflight',
];

const OPERATION = 'skylightUploadedOperation';

export function isMultipart(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/');
}

/** Yoga plugin: a request forwarded by handleMultipartGraphQL is parsed already. */
export function useUploadedOperations(): Plugin {
  return {
    onRequestParse({ serverContext, setRequestParser }) {
      const operation = (serverContext as Record<string, unknown>)[OPERATION] as GraphQLOperation | undefined;
      if (operation) setRequestParser(() => operation as never);
    },
  };
}

function collectUploads(value: unknown, found: Upload[] = []): Upload[] {
  if (value instanceof Upload) found.push(value);
  else if (Array.isArray(value)) for (const item of value) collectUploads(item, found);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) collectUploads(item, found);
  return found;
}

/** Files no resolver read (an error came first) are read to their end and dropped. */
function drainUnread(uploads: Upload[]) {
  for (const upload of uploads) {
    upload.promise.then(
      (file) => {
        try {
          const stream = file.createReadStream();
          stream.on('error', () => {});
          stream.resume();
        } catch {
          // Read by its resolver already.
        }
      },
      () => {},
    );
  }
}

/** Answers once the whole request has been read, so clients still sending get the answer. */
function afterRequest(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    req.once('end', () => resolve());
    req.once('close', () => resolve());
  });
}

/**
 * Rejects when the body ended without `operations` and `map`: busboy does not always close
 * on a body that stops early or has no parts, and the parser would then wait for ever.
 */
function incomplete(req: IncomingMessage): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => setTimeout(() => reject(Object.assign(new Error('The body ended before operations and map'), { status: 400 })), 100);
    if (req.readableEnded) fail();
    else req.once('end', fail);
  });
}

/**
 * graphql-upload-minimal listens to its busboy parser's 'error' with `once`, then destroys the
 * parser; busboy's destroy of an unfinished form emits a second 'error' ("Unexpected end of
 * form") that nobody listens to, and the process died of it (issue 13: a space in a part header
 * name, a control character or an 8 KB part content-type, a 100 KB header section). The parser
 * is what the request is piped into: give it a lasting listener there. The first error still
 * reaches processRequest, which rejects with it.
 */
function guardParserErrors(req: IncomingMessage) {
  const pipe = req.pipe;
  req.pipe = function guardedPipe(this: IncomingMessage, destination, options) {
    destination.on('error', () => {});
    return pipe.call(this, destination, options);
  } as typeof req.pipe;
}

async function refuse(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string) {
  req.resume();
  await afterRequest(req);
  if (!res.destroyed) sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

export async function handleMultipartGraphQL(
  yoga: YogaServerInstance<Record<string, unknown>, Context>,
  config: Config,
  req: IncomingMessage,
  res: ServerResponse,
) {
  if (!CSRF_HEADERS.some((name) => req.headers[name])) {
    return refuse(req, res, 400, 'BAD_USER_INPUT', `Multipart requests need a preflight header such as x-graphql-csrf (CSRF prevention)`);
  }
  let operation: GraphQLOperation | GraphQLOperation[];
  guardParserErrors(req);
  try {
    operation = await Promise.race([
      processRequest(req, res, {
        // One byte over the limit is enough for storage to see, and refuse, a file too large.
        maxFileSize: config.maxUploadBytes + 1,
        maxFiles: config.maxUploadFiles,
        maxFieldSize: config.maxBodyBytes,
      }),
      incomplete(req),
    ]);
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 499 || res.destroyed || req.socket.destroyed) return;
    const message = error instanceof Error ? error.message : 'Malformed multipart request';
    if (status === 413) return refuse(req, res, 413, 'PAYLOAD_TOO_LARGE', message);
    return refuse(req, res, 400, 'BAD_USER_INPUT', `Malformed multipart request: ${message}`);
  }
  if (Array.isArray(operation)) return refuse(req, res, 400, 'BAD_USER_INPUT', 'Batched operations are not supported');
  const uploads = collectUploads(operation.variables);

  const headers = new yoga.fetchAPI.Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || ['content-type', 'content-length', 'transfer-encoding', 'connection'].includes(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  headers.set('content-type', 'application/json');
  const request = new yoga.fetchAPI.Request(`http://${req.headers.host ?? 'localhost'}/graphql`, {
    method: 'POST',
    headers,
    body: '{}',
  });
  let response: Response;
  try {
    response = await yoga.handleRequest(request, { req, res, [OPERATION]: operation });
  } finally {
    drainUnread(uploads);
  }
  const body = Buffer.from(await response.arrayBuffer());
  await afterRequest(req);
  if (res.destroyed) return;
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  out['content-length'] = String(body.length);
  res.writeHead(response.status, out);
  res.end(body);
}
