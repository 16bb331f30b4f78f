// Break-glass access (issue 15, policy section 1). (1) A therapist asks for a child who is not
// on their caseload, by the link to the record: refused without a reason (nothing typed
// lost), then granted; the child's page says "Break-glass access until HH:MM"; the child's
// process notes stay closed; the therapist ends it early and the record is closed again.
// (2) The DSL is told at once (a notice that opens the review page) and marks the grant
// reviewed, having seen what was done under it. (3) The service lead's durations, with their
// source, refused out of bounds.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;

const reason = 'The lead therapist is off sick and the school says the child is in crisis this afternoon.';
// Shared by the journeys of this file, which run in order.
const known = { childUrl: '', reference: '' };

before(async () => {
  assert.ok(base && password, 'run through e2e/run, which starts the server');
  browser = await launch(chromium);
});

after(async () => {
  await browser?.close();
});

async function signedIn(username) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  return { context, page };
}

/** The address of a child the therapist may not open: the first of the DSL's list whose page answers them 404. */
async function notTheirs(dslPage, therapistPage) {
  await dslPage.goto(`${base}/children`);
  const hrefs = await dslPage.getByRole('region', { name: 'Children' })
    .locator('tbody tr td:first-child a').evaluateAll((links) => links.map((a) => a.href));
  for (const href of hrefs) {
    const answer = await therapistPage.request.get(href);
    if (answer.status() === 404) return href;
  }
  throw new Error('every child of the demo is on the therapist\'s caseload');
}

journey('a therapist opens a child\'s record by break-glass, reads it under the banner, and ends it', { timeout: 240_000 }, async () => {
  const dsl = await signedIn('demo-dsl');
  const therapist = await signedIn('demo-therapist-1');
  const { page } = therapist;
  known.childUrl = await notTheirs(dsl.page, page);
  await dsl.context.close();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Break-glass' }).click();
  await page.getByRole('heading', { name: 'Break-glass access', level: 1 }).waitFor();
  await page.getByText(/policy section 1/).first().waitFor();
  await check(page, 'break-glass-ask');

  // Refused without a reason; the link typed is kept.
  await page.getByLabel('The child\'s NHS number or UPN, or the link to their record').fill(known.childUrl);
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/break-glass')),
    page.getByRole('button', { name: 'Open the record now' }).click(),
  ]);
  assert.equal(refused.status(), 422);
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  assert.equal(await page.getByLabel('The child\'s NHS number or UPN, or the link to their record').inputValue(), known.childUrl);
  await check(page, 'break-glass-refused');

  // Granted: the child's record, with the banner.
  await page.getByLabel('Why you need to see this record now').fill(reason);
  assert.equal(await page.getByLabel('For how long').inputValue(), '240', 'four hours by default');
  await page.getByRole('button', { name: 'Open the record now' }).click();
  await page.waitForURL(known.childUrl);
  const banner = page.locator('#break-glass-banner');
  assert.match((await banner.textContent()).trim(), /^Break-glass access until \d{2}:\d{2}( on \d{2}\/\d{2}\/\d{4})?\./);
  await check(page, 'child-under-break-glass');

  // The case team's read rights, never their process notes.
  const caseHref = await page.locator('a[href^="/cases/"]').first().getAttribute('href');
  const caseId = caseHref.split('/')[2];
  const notes = await page.request.get(`${base}/cases/${caseId}/process-notes`);
  assert.equal(notes.status(), 404);

  // Their own page lists it; they end it, and the record is closed to them again.
  await page.goto(`${base}/break-glass/mine`);
  const row = page.getByRole('region', { name: 'Your break-glass access' }).locator('tbody tr').first();
  await row.getByText('In force').waitFor();
  known.reference = (await row.locator('.reference').textContent()).trim();
  assert.match(known.reference, /^BG-[0-9A-F]{8}$/);
  await check(page, 'break-glass-mine');
  await row.getByRole('button', { name: /^End it now/ }).click();
  await page.getByRole('status').filter({ hasText: 'Your break-glass access has ended.' }).waitFor();
  await page.getByRole('region', { name: 'Your break-glass access' }).locator('tbody tr').first().getByText('(ended early)').waitFor();
  await check(page, 'break-glass-ended');
  const closed = await page.request.get(known.childUrl);
  assert.equal(closed.status(), 404);
  await therapist.context.close();
});

journey('the DSL is told at once and reviews what was done under it', { timeout: 240_000 }, async () => {
  assert.ok(known.reference, 'the journey before granted one');
  const { context, page } = await signedIn('demo-dsl');
  // The scheduler raises the notice within its interval.
  const notice = page.getByRole('link', { name: `Break-glass access was granted: ${known.reference}. Review what is done under it` });
  for (let i = 0; i < 90 && !(await notice.count()); i += 1) {
    await page.goto(`${base}/tasks`);
    if (!(await notice.count())) await page.waitForTimeout(1_000);
  }
  await notice.click();
  await page.getByRole('link', { name: 'Open the record this is about' }).click();
  await page.waitForURL(/\/break-glass(#grant-.*)?$/);
  const card = page.locator('article').filter({ hasText: known.reference });
  await card.getByText(reason).waitFor();
  await card.getByText('(ended early', { exact: false }).waitFor();
  const done = card.getByRole('region', { name: `What was done under ${known.reference}` });
  await done.getByRole('cell', { name: 'Break-glass access granted' }).waitFor();
  await done.getByRole('cell', { name: 'Child\'s record opened' }).first().waitFor();
  await check(page, 'break-glass-review');
  await card.getByRole('button', { name: /^Mark reviewed/ }).click();
  await page.getByRole('status').filter({ hasText: 'Marked reviewed' }).waitFor();
  const reviewed = page.getByRole('region', { name: 'Reviewed' }).locator('article').filter({ hasText: known.reference });
  await reviewed.getByText('Reviewed', { exact: true }).first().waitFor();
  assert.equal(await reviewed.getByRole('button', { name: /^Mark reviewed/ }).count(), 0);
  await check(page, 'break-glass-reviewed');
  await context.close();
});

journey('the service lead keeps the durations within the policy\'s bounds', { timeout: 120_000 }, async () => {
  const { context, page } = await signedIn('demo-lead');
  await page.goto(`${base}/break-glass`);
  await page.getByRole('link', { name: 'Change the durations' }).click();
  await page.getByRole('heading', { name: 'Break-glass durations' }).waitFor();
  await page.getByText(/The policy's default is 4 hours \(policy section 1\)/).waitFor();
  await check(page, 'break-glass-durations');
  const usual = page.getByLabel(/^Usual length, in minutes/);
  await usual.fill('5');
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/break-glass/settings')),
    page.getByRole('button', { name: 'Save the durations' }).click(),
  ]);
  assert.equal(refused.status(), 422);
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await check(page, 'break-glass-durations-refused');
  await page.getByLabel(/^Usual length, in minutes/).fill('240');
  await page.getByRole('button', { name: 'Save the durations' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await context.close();
});
