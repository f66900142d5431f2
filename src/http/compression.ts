// Response compression, negotiated from Accept-Encoding: brotli, else gzip, else none. Only
// whole documents are compressed (JSON results, HTML, the GraphiQL assets): event streams
// must reach the client event by event, and media bytes are mostly compressed already and
// served with Range and Content-Length, which an encoding would break.
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';

export type Encoding = 'br' | 'gzip';

/** Below this, the bytes saved do not pay for the work. */
export const COMPRESS_MIN_BYTES = 1024;

const COMPRESSIBLE = /^\s*(application\/(graphql-response\+)?json|text\/html)\s*(;|$)/i;

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** The preferred encoding the client accepts (q > 0), or null for none. */
export function negotiateEncoding(header: string | null | undefined): Encoding | null {
  if (!header) return null;
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((param) => /^\s*q=([01](\.\d{0,3})?)\s*$/.exec(param)?.[1]).find((value) => value !== undefined);
    weights.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const weight = (name: string) => weights.get(name) ?? (name !== 'identity' ? weights.get('*') : undefined) ?? 0;
  const candidates: Encoding[] = ['br', 'gzip'];
  const best = candidates.map((name) => ({ name, q: name === 'gzip' ? Math.max(weight('gzip'), weight('x-gzip')) : weight(name) }));
  const chosen = best.filter((entry) => entry.q > 0).sort((a, b) => b.q - a.q)[0];
  return chosen?.name ?? null;
}

/**
 * `level: 'dynamic'` favours speed (a result compressed once and sent once), `'static'` the
 * size (an asset compressed once and sent many times). Runs on libuv's thread pool.
 */
export function compress(body: Uint8Array, encoding: Encoding, level: 'dynamic' | 'static' = 'dynamic'): Promise<Buffer> {
  if (encoding === 'br') {
    return brotli(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: level === 'static' ? 6 : 4,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
      },
    });
  }
  return gzipAsync(body, { level: level === 'static' ? 9 : 6 });
}

export function isCompressible(contentType: string | null | undefined): boolean {
  return !!contentType && COMPRESSIBLE.test(contentType);
}

/** The response's Vary, merged with what the Node response already carries (CORS: Origin). */
function varyWith(res: ServerResponse | undefined, own: string | null): string {
  const tokens = [String(res?.getHeader('vary') ?? ''), own ?? '', 'Accept-Encoding']
    .flatMap((value) => value.split(','))
    .map((token) => token.trim())
    .filter(Boolean);
  return [...new Map(tokens.map((token) => [token.toLowerCase(), token])).values()].join(', ');
}

/** Yoga plugin: compresses JSON and HTML responses of at least `minBytes`. */
export function useCompression(minBytes = COMPRESS_MIN_BYTES): Plugin {
  return {
    async onResponse({ request, response, serverContext, setResponse, fetchAPI }) {
      if (!response.body || response.headers.has('content-encoding') || !isCompressible(response.headers.get('content-type'))) return;
      const res = (serverContext as { res?: ServerResponse }).res;
      const vary = varyWith(res, response.headers.get('vary'));
      const encoding = negotiateEncoding(request.headers.get('accept-encoding'));
      if (!encoding) {
        // Nothing to do but tell caches the answer depends on the header; the body is left alone.
        if (res && !response.headers.has('vary')) res.setHeader('vary', vary);
        else setResponse(withHeaders(fetchAPI, response, response.body, { vary }));
        return;
      }
      const text = await response.text();
      const size = Buffer.byteLength(text);
      if (size < minBytes) return setResponse(withHeaders(fetchAPI, response, text, { vary, 'content-length': String(size) }));
      const compressed = await compress(Buffer.from(text), encoding);
      setResponse(
        withHeaders(fetchAPI, response, compressed as Uint8Array<ArrayBuffer>, {
          vary,
          'content-encoding': encoding,
          'content-length': String(compressed.byteLength),
        }),
      );
    },
  };
}

function withHeaders(fetchAPI: { Response: typeof Response; Headers: typeof Headers }, response: Response, body: BodyInit | null, set: Record<string, string>) {
  const headers = new fetchAPI.Headers(response.headers);
  for (const [name, value] of Object.entries(set)) headers.set(name, value);
  return new fetchAPI.Response(body, { status: response.status, statusText: response.statusText, headers });
}
