// GraphiQL as a person uses it: Debian's Chromium driven by playwright-core loads the page
// (assets served by the gateway itself, no CDN), runs an operation and shows the result.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Monaco renders spaces as no-break spaces. */
const text = (value: string) => value.replace(/\u00a0/g, ' ');

let gw: TestGateway;
let browser: Browser;

async function openGraphiQL(query?: string): Promise<Page> {
  const page = await browser.newPage();
  const search = query ? `?query=${encodeURIComponent(query)}` : '';
  await page.goto(`${gw.graphqlUrl}${search}`);
  await page.waitForSelector('.graphiql-execute-button', { timeout: 30_000 });
  return page;
}

describe.skipIf(!haveChromium)(`GraphiQL in a real browser${haveChromium ? '' : ' (skipped: /usr/bin/chromium is not installed)'}`, () => {
  beforeAll(async () => {
    gw = await startGateway({}, { graphiqlToken: ADMIN_TOKEN });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('opens with the demo Authorization header and example operations', async () => {
    const page = await openGraphiQL();
    const editors = await page.locator('.graphiql-editor').allInnerTexts();
    expect(text(editors.join('\n'))).toContain('query WhoAmI');
    await page.getByText('Headers', { exact: true }).click();
    const headers = text((await page.locator('.graphiql-editor').allInnerTexts()).join('\n'));
    expect(headers).toContain(`Bearer ${ADMIN_TOKEN}`.slice(0, 30));
    await page.close();
  });

  it('runs a query and shows its result', async () => {
    const page = await openGraphiQL('query Me { viewer { user { username isAdmin } } }');
    await page.click('.graphiql-execute-button');
    const result = page.locator('.result-window');
    await expect.poll(async () => text(await result.innerText()), { timeout: 15_000 }).toContain('"username": "admin"');
    expect(text(await result.innerText())).toContain('"isAdmin": true');
    await page.close();
  });
});
