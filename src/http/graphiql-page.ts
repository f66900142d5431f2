// The GraphiQL page, split from its 9 MB of scripts and styles. Yoga's own renderer inlines
// everything into every page load; here the page is a few kilobytes (its options) and the
// bundle from @graphql-yoga/render-graphiql is served once per version from
// /graphiql/<hash>.js|css|ico, compressed once per encoding and cached by the browser.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GraphiQLOptions } from 'graphql-yoga';
import { compress, negotiateEncoding, type Encoding } from './compression.ts';

export const GRAPHIQL_ASSET_PREFIX = '/graphiql/';

interface Bundle {
  css: string;
  js: string;
  favicon: string;
  editorWorkerService: string;
  jsonWorker: string;
  graphqlWorker: string;
}

interface Asset {
  path: string;
  contentType: string;
  body: Buffer;
  etag: string;
  compressible: boolean;
  encoded: Map<Encoding, Promise<Buffer>>;
}

interface Assets {
  script: Asset;
  style: Asset;
  icon: Asset;
  byPath: Map<string, Asset>;
}

function asset(extension: string, contentType: string, body: Buffer, compressible: boolean): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 20);
  return { path: `${GRAPHIQL_ASSET_PREFIX}${hash}.${extension}`, contentType, body, etag: `"${hash}"`, compressible, encoded: new Map() };
}

/** The bundle module is not in the package's exports map: import the file itself. */
async function loadBundle(): Promise<Bundle> {
  const entry = createRequire(import.meta.url).resolve('@graphql-yoga/render-graphiql');
  return (await import(pathToFileURL(join(dirname(entry), '..', 'esm', 'graphiql.js')).href)) as Bundle;
}

let assets: Promise<Assets> | null = null;

function loadAssets(): Promise<Assets> {
  assets ??= loadBundle().then((bundle) => {
    // The same Monaco worker set-up Yoga's page does inline, before the GraphiQL bundle.
    const script = `(function () {
  function prepareBlob(source) { return URL.createObjectURL(new Blob([source], { type: 'application/javascript' })); }
  var workers = {
    editorWorkerService: prepareBlob(${JSON.stringify(bundle.editorWorkerService)}),
    json: prepareBlob(${JSON.stringify(bundle.jsonWorker)}),
    graphql: prepareBlob(${JSON.stringify(bundle.graphqlWorker)}),
  };
  self['MonacoEnvironment'] = { globalAPI: false, getWorkerUrl: function (moduleId, label) { return workers[label]; } };
})();
${bundle.js};
`;
    const icon = /^data:([^;,]+);base64,(.*)$/s.exec(bundle.favicon);
    const loaded = {
      script: asset('js', 'text/javascript; charset=utf-8', Buffer.from(script), true),
      style: asset('css', 'text/css; charset=utf-8', Buffer.from(bundle.css), true),
      icon: asset('ico', icon?.[1] ?? 'image/x-icon', Buffer.from(icon?.[2] ?? '', 'base64'), false),
    };
    return { ...loaded, byPath: new Map(Object.values(loaded).map((entry) => [entry.path, entry])) };
  });
  return assets;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON inside <script>: no `</script>` or `<!--` can end it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** Yoga's `renderGraphiQL`: the page that loads the bundle and starts GraphiQL with `options`. */
export async function renderGraphiQLPage(options: GraphiQLOptions): Promise<string> {
  const { script, style, icon } = await loadAssets();
  // The browser asks for these next, with brotli: start compressing them now (once).
  for (const entry of [script, style]) void encodedBody(entry, 'br').catch(() => {});
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
    <link rel="icon" href="${icon.path}" />
    <link rel="stylesheet" href="${style.path}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script src="${script.path}"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${scriptJson(options)});
    </script>
  </body>
</html>
`;
}

function encodedBody(entry: Asset, encoding: Encoding): Promise<Buffer> {
  let body = entry.encoded.get(encoding);
  if (!body) {
    body = compress(entry.body, encoding, 'static');
    entry.encoded.set(encoding, body);
    body.catch(() => entry.encoded.delete(encoding));
  }
  return body;
}

/** GET /graphiql/<hash>.<ext>: immutable, so cached for a year; a new bundle has a new hash. */
export async function serveGraphiQLAsset(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const entry = (await loadAssets()).byPath.get(path);
  if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(entry ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8', ...(entry && { allow: 'GET, HEAD' }) }).end(entry ? 'Use GET' : 'Not found');
    return;
  }
  const headers: Record<string, string> = {
    'content-type': entry.contentType,
    'cache-control': 'public, max-age=31536000, immutable',
    etag: entry.etag,
    'x-content-type-options': 'nosniff',
  };
  if (entry.compressible) headers.vary = 'Accept-Encoding';
  if (req.headers['if-none-match']?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === entry.etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  const encoding = entry.compressible ? negotiateEncoding(req.headers['accept-encoding']) : null;
  const body = encoding ? await encodedBody(entry, encoding) : entry.body;
  if (encoding) headers['content-encoding'] = encoding;
  headers['content-length'] = String(body.byteLength);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
