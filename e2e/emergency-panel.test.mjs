// The emergency panel and the safety plan (issue 16, policy section 1). (1) A therapist, on a
// phone-sized screen (320x640), opens the emergency panel from a child's page on their
// caseload: telephone numbers are tel: links and the page fits the screen; they write a safety
// plan with the young person (refused without its warning signs, nothing typed lost) and see
// its summary on the panel; the same panel on a desktop; the emergency details form and the
// carer's collect choice. (2) An administrator's panel holds only contacts and medical needs:
// no one who may collect, no safety plan.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;

const warning = 'When I stop answering my phone and stay in my room all evening';
// Shared by the journeys of this file, which run in order.
const known = { panelUrl: '' };

before(async () => {
  assert.ok(base && password, 'run through e2e/run, which starts the server');
  browser = await launch(chromium);
});

after(async () => {
  await browser?.close();
});

async function signedIn(username, viewport) {
  const context = await browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  return { context, page };
}

/** Nothing on the page is wider than the screen. */
async function fitsTheScreen(page) {
  const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(scroll <= client + 1, `the page scrolls sideways: ${scroll} > ${client}`);
}

journey('a therapist opens the emergency panel on a phone and writes a safety plan with the young person', { timeout: 240_000 }, async () => {
  const { context, page } = await signedIn('demo-therapist-1', { width: 320, height: 640 });
  // A child on their caseload whose safety plan they write (they lead, co-work or cover).
  await page.goto(`${base}/children?mine=yes`);
  const hrefs = await page.getByRole('region', { name: 'Children' })
    .locator('tbody tr td:first-child a').evaluateAll((links) => links.map((a) => a.href));
  let childUrl = '';
  for (const href of hrefs) {
    const panel = await page.request.get(`${href}/emergency`);
    if (panel.status() === 200 && (await panel.text()).includes('Write or review the safety plan')) {
      childUrl = href;
      break;
    }
  }
  assert.ok(childUrl, 'the therapist writes the safety plan of a child on their caseload');
  await page.goto(childUrl);
  await page.getByRole('heading', { name: 'Emergencies' }).waitFor();
  await page.getByRole('link', { name: 'Emergency panel' }).click();
  await page.waitForURL(/\/children\/[^/]+\/emergency$/);
  known.panelUrl = page.url();
  await page.getByRole('heading', { name: /^Emergency panel: / }).waitFor();
  await page.getByRole('heading', { name: /^Who may collect / }).waitFor();
  await page.getByRole('heading', { name: 'Emergency contacts' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Call 999' }).getAttribute('href'), 'tel:999');
  for (const href of await page.locator('a[href^="tel:"]').evaluateAll((links) => links.map((a) => a.getAttribute('href')))) {
    assert.match(href, /^tel:\+?\d+$/);
  }
  const box = await page.getByRole('link', { name: 'Call 999' }).boundingBox();
  assert.ok(box && box.height >= 44, 'a large tap target');
  await fitsTheScreen(page);
  await check(page, 'emergency-panel-phone');

  // The safety plan, with the young person: refused without its warning signs.
  await page.getByRole('link', { name: 'Write or review the safety plan' }).click();
  await page.getByRole('heading', { name: /^Write the safety plan/ }).waitFor();
  assert.match(await page.getByLabel(/^5\. Professionals and services/).inputValue(), /Childline: 0800 1111/);
  await check(page, 'safety-plan-edit');
  await page.getByLabel(/^1\. Warning signs/).fill('');
  await page.getByLabel(/^2\. Ways of coping/).fill('Headphones on, my playlist; drawing; a walk with the dog');
  await page.getByLabel(/^Written with/).fill('My therapist, with me');
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/safety-plan/edit')),
    page.getByRole('button', { name: 'Save the safety plan' }).click(),
  ]);
  assert.equal(refused.status(), 422);
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  assert.equal(await page.getByLabel(/^2\. Ways of coping/).inputValue(), 'Headphones on, my playlist; drawing; a walk with the dog');
  await check(page, 'safety-plan-refused');
  await page.getByLabel(/^1\. Warning signs/).fill(warning);
  await page.getByLabel(/^4\. People I can ask/).fill('Nan; Miss Patel at school');
  await page.getByRole('button', { name: 'Save the safety plan' }).click();
  await page.waitForURL(/\/safety-plan$/);
  await page.getByText(warning).waitFor();
  await page.getByText(/Review due \d{2}\/\d{2}\/\d{4}/).first().waitFor();
  await fitsTheScreen(page);
  await check(page, 'safety-plan');

  // Its summary on the panel.
  await page.goto(known.panelUrl);
  const plan = page.getByRole('region', { name: 'Safety plan' });
  await plan.getByText(warning).waitFor();
  assert.equal(await plan.getByRole('link', { name: 'Call Childline: 0800 1111' }).getAttribute('href'), 'tel:08001111');
  await fitsTheScreen(page);
  await check(page, 'emergency-panel-with-plan-phone');
  await context.close();

  // The same on a desktop, with the details form and a carer's collect choice.
  const desk = await signedIn('demo-therapist-1');
  await desk.page.goto(known.panelUrl);
  await desk.page.getByRole('region', { name: 'Safety plan' }).getByText(warning).waitFor();
  await check(desk.page, 'emergency-panel-desktop');
  await desk.page.getByRole('link', { name: 'Change the emergency details' }).click();
  await desk.page.getByRole('heading', { name: /^Emergency details: / }).waitFor();
  await check(desk.page, 'emergency-details-edit');
  await desk.page.getByRole('button', { name: 'Save the emergency details' }).click();
  await desk.page.waitForURL(known.panelUrl);
  await desk.page.goto(known.panelUrl.replace(/\/emergency$/, ''));
  const carerLink = desk.page.getByRole('link', { name: /^Change .*'s details$/ }).first();
  if (await carerLink.count()) {
    await carerLink.click();
    await desk.page.getByRole('group', { name: 'May they collect the child?' }).waitFor();
    await check(desk.page, 'carer-form-collect');
  }
  await desk.context.close();
});

journey('an administrator\'s panel holds only contacts and medical needs', { timeout: 120_000 }, async () => {
  assert.ok(known.panelUrl, 'the journey before found a panel');
  const { context, page } = await signedIn('demo-admin', { width: 320, height: 640 });
  await page.goto(known.panelUrl);
  await page.getByRole('heading', { name: 'Emergency contacts' }).waitFor();
  await page.getByRole('heading', { name: 'Medical needs and allergies' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: /^Who may collect/ }).count(), 0);
  assert.equal(await page.getByRole('heading', { name: 'May not collect' }).count(), 0);
  assert.equal(await page.getByRole('heading', { name: 'Safety plan' }).count(), 0);
  assert.equal(await page.getByText(warning).count(), 0);
  await fitsTheScreen(page);
  await check(page, 'emergency-panel-administrator');
  await context.close();
});
