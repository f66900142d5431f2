// GraphiQL as a person uses it: Debian's Chromium driven by playwright-core loads the page
// (assets served by the gateway itself, no CDN), runs an operation and shows the result.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/index.ts';
import { createApplication, dataOf } from './helpers/factories.ts';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './helpers/gateway.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Monaco renders spaces as no-break spaces. */
const text = (value: string) => value.replace(/\u00a0/g, ' ');

let gw: TestGateway;
let browser: Browser;
let example: { applicationId: string; sessionId: string };
const haveSubscriptions = !!schema.getSubscriptionType()?.getFields().sessionEvents;

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
    const application = await createApplication(gw);
    const created = dataOf(
      await gw.gql(`mutation($a: ID!) { createSession(input: { applicationId: $a, name: "Browser session" }) { id } }`, { a: application.id }),
    );
    example = { applicationId: application.id, sessionId: created.createSession.id };
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('opens with the demo Authorization header, example operations and their variables', async () => {
    const page = await openGraphiQL();
    // Monaco renders only the visible lines: read the whole tab from GraphiQL's saved state.
    await expect.poll(() => page.evaluate(() => localStorage.getItem('graphiql:tabState')), { timeout: 10_000 }).toBeTruthy();
    const state = JSON.parse((await page.evaluate(() => localStorage.getItem('graphiql:tabState')))!);
    const tab = state.tabs[state.activeTabIndex];
    for (const operation of ['query WhoAmI', 'query SessionDetails', 'mutation PatchSessionData']) expect(tab.query).toContain(operation);
    if (haveSubscriptions) expect(tab.query).toContain('subscription FollowSession');
    // The Variables pane names a real open session to try them on.
    expect(JSON.parse(tab.variables)).toEqual(example);
    expect(text((await page.locator('.graphiql-editor').allInnerTexts()).join('\n'))).toContain('query WhoAmI');
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

  it.skipIf(!haveSubscriptions)(
    `runs a subscription and shows the event a change makes${haveSubscriptions ? '' : ' (skipped: no sessionEvents subscription in the schema yet)'}`,
    async () => {
      const subscription = `subscription Follow { sessionEvents(applicationId: "${example.applicationId}", sessionId: "${example.sessionId}") {
        __typename type cursor ... on SessionDataEvent { data } } }`;
      const page = await openGraphiQL(subscription);
      await page.click('.graphiql-execute-button');
      const result = page.locator('.result-window');
      // The subscription may take a moment to be established: change the session until an
      // event shows up, then check it is the one we made.
      let shown = '';
      for (let attempt = 1; attempt <= 20 && !shown.includes('SESSION_DATA_UPDATED'); attempt++) {
        dataOf(
          await gw.gql(`mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $d) }`, {
            a: example.applicationId,
            s: example.sessionId,
            d: { fromBrowserTest: attempt },
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
        shown = text(await result.innerText());
      }
      expect(shown).toContain('"type": "SESSION_DATA_UPDATED"');
      expect(shown).toMatch(/"fromBrowserTest": \d+/);
      expect(shown).toContain('"__typename": "SessionDataEvent"');
      await page.close();
    },
  );
});
