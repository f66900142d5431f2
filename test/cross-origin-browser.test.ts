// A frontend served from another origin, in Chromium: it shows a photo by its Media.url and
// reads media with fetch (the signed URL, and the bearer header after a preflight). With
// CORS_ORIGINS naming other origins only, the browser keeps the bytes from the page's scripts,
// while the <img> (which needs no CORS) still shows.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, pngImage, uploadPhoto } from './helpers/media.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];

interface Seen {
  image: { loaded: boolean; width: number };
  signed: { status: number; type: string | null; bytes: number; disposition: string | null } | { failed: string };
  withHeader: { status: number; bytes: number; range: string | null } | { failed: string };
}

/** What the page of another origin sees of the photo: an <img>, then two fetches. */
async function lookFromAnotherOrigin(browser: Browser, site: string, photo: { id: string; url: string }, gw: TestGateway): Promise<Seen> {
  const page = await browser.newPage();
  try {
    await page.goto(site);
    return (await page.evaluate(
      async ({ url, content, token }) => {
        const read = async (request: Promise<Response>) => {
          try {
            const response = await request;
            return { response, bytes: (await response.arrayBuffer()).byteLength };
          } catch (error) {
            return { failed: String(error) };
          }
        };
        const image = await new Promise<{ loaded: boolean; width: number }>((resolve) => {
          const img = document.createElement('img');
          img.onload = () => resolve({ loaded: true, width: img.naturalWidth });
          img.onerror = () => resolve({ loaded: false, width: 0 });
          img.src = url;
          document.body.append(img);
        });
        const signed = await read(fetch(url));
        const withHeader = await read(fetch(content, { headers: { authorization: `Bearer ${token}`, range: 'bytes=0-9' } }));
        return {
          image,
          signed:
            'failed' in signed
              ? { failed: signed.failed }
              : {
                  status: signed.response.status,
                  type: signed.response.headers.get('content-type'),
                  bytes: signed.bytes,
                  disposition: signed.response.headers.get('content-disposition'),
                },
          withHeader:
            'failed' in withHeader
              ? { failed: withHeader.failed }
              : { status: withHeader.response.status, bytes: withHeader.bytes, range: withHeader.response.headers.get('content-range') },
        };
      },
      { url: photo.url, content: `${gw.url}/media/${photo.id}/content`, token: ADMIN_TOKEN },
    )) as Seen;
  } finally {
    await page.close();
  }
}

describe.skipIf(!haveChromium)(`media on a page of another origin, in Chromium${haveChromium ? '' : ' (skipped: /usr/bin/chromium is not installed)'}`, () => {
  let browser: Browser;
  let site: Server;
  let siteUrl = '';
  beforeAll(async () => {
    site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>frontend</title>'));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
  });

  async function photoOn(gw: TestGateway) {
    const application = await createApplication(gw);
    const file = { name: 'valve.png', type: 'image/png', bytes: pngImage(12, 7, [40, 90, 160]) };
    const photo = await uploadPhoto(gw, { applicationId: application.id, sessionId: await createSession(gw, application.id) }, {}, { file });
    return { photo, size: file.bytes.length };
  }

  it('shows and reads the photo with the development default (CORS_ORIGINS=*)', async () => {
    const gw = await startGateway();
    try {
      const { photo, size } = await photoOn(gw);
      expect(new URL(siteUrl).origin).not.toBe(new URL(gw.url).origin);
      const seen = await lookFromAnotherOrigin(browser, siteUrl, photo, gw);
      expect(seen.image).toEqual({ loaded: true, width: 12 });
      expect(seen.signed).toEqual({ status: 200, type: 'image/png', bytes: size, disposition: expect.stringContaining('inline') });
      expect(seen.withHeader).toEqual({ status: 206, bytes: 10, range: `bytes 0-9/${size}` });
    } finally {
      await gw.stop();
    }
  });

  it('reads it from a listed origin, and keeps it from the scripts of any other', async () => {
    const listed = await startGateway({ CORS_ORIGINS: new URL(siteUrl).origin });
    const other = await startGateway({ CORS_ORIGINS: 'https://elsewhere.example' });
    try {
      const ok = await lookFromAnotherOrigin(browser, siteUrl, (await photoOn(listed)).photo, listed);
      expect(ok.signed).toMatchObject({ status: 200, type: 'image/png' });
      expect(ok.withHeader).toMatchObject({ status: 206, bytes: 10 });
      const refused = await lookFromAnotherOrigin(browser, siteUrl, (await photoOn(other)).photo, other);
      expect(refused.image).toEqual({ loaded: true, width: 12 });
      expect(refused.signed).toEqual({ failed: expect.stringContaining('TypeError') });
      expect(refused.withHeader).toEqual({ failed: expect.stringContaining('TypeError') });
    } finally {
      await listed.stop();
      await other.stop();
    }
  });
});
