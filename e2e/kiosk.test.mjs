// The child's check-in on the therapist's tablet (issue 17). A therapist opens one of their
// sessions, chooses the check-in and hands the tablet over: the kiosk asks its questions with
// nothing else on the page; the child answers by keyboard alone and is thanked; then Back
// shows nothing of the therapist's session, only the sign-in page.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;

before(async () => {
  assert.ok(base && password, 'run through e2e/run, which starts the server');
  browser = await launch(chromium);
});

after(async () => {
  await browser?.close();
});

journey('a therapist hands the tablet to a child, who answers by keyboard; Back needs a sign-in', { timeout: 240_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Username').fill('demo-therapist-1');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);

  // One of their children whose case they lead, and a session of it.
  await page.goto(`${base}/children?mine=yes&status=active`);
  const first = page.getByRole('region', { name: 'Children' }).locator('tbody tr')
    .filter({ has: page.getByRole('cell', { name: /^Lead/ }) }).first().getByRole('link');
  const child = (await first.textContent()).trim();
  await first.click();
  await page.getByRole('link', { name: 'Feedback', exact: true }).waitFor();
  await page.getByRole('link', { name: /^Sessions for case C\d+$/ }).first().click();
  await page.getByRole('table', { name: 'Sessions' }).locator('tbody tr td:first-child a').first().click();
  await page.waitForURL(/\/sessions\/[0-9a-f-]+$/);
  const sessionUrl = page.url();
  const therapist = (await page.locator('dl.facts dt:text-is("Therapist") + dd').textContent()).trim();
  assert.ok(therapist.length > 0, 'the session names its therapist');
  await page.getByRole('button', { name: 'Hand the tablet to the child for feedback' }).waitFor();
  await check(page, 'kiosk-session-view');

  // Choose the check-in, and hand over.
  await page.getByRole('link', { name: 'Choose the check-in first' }).click();
  await page.getByRole('heading', { name: 'Hand the tablet to the child for feedback', level: 1 }).waitFor();
  const options = page.getByRole('group', { name: 'Which check-in' }).getByRole('radio');
  assert.ok(await options.count() >= 1, 'a check-in suits the child');
  assert.ok(await options.first().isChecked(), 'the default is chosen');
  await check(page, 'kiosk-choose');
  await page.getByRole('button', { name: 'Hand the tablet to the child' }).click();
  await page.waitForURL(`${base}/kiosk`);

  // The kiosk: questions only; no navigation, no names.
  await page.getByRole('heading', { name: 'Your check-in', level: 1 }).waitFor();
  const body = await page.locator('body').textContent();
  assert.ok(!body.includes(child), 'the child\'s name is not on the kiosk');
  assert.ok(!body.includes(therapist), 'the therapist\'s name is not on the kiosk');
  assert.equal(await page.getByRole('navigation').count(), 0, 'no navigation');
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
  const questions = page.locator('fieldset.kiosk-question');
  const count = await questions.count();
  assert.ok(count >= 3, 'the check-in asks its questions');
  await check(page, 'kiosk');

  // The child answers by keyboard alone: into each group of answers, an arrow to choose.
  for (let i = 0; i < count; i += 1) {
    const radios = questions.nth(i).getByRole('radio');
    await radios.first().focus();
    await page.keyboard.press('ArrowRight');
    assert.ok(await radios.nth(1).isChecked(), `question ${i + 1} answered by keyboard`);
  }
  await page.getByRole('button', { name: 'I have finished' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/kiosk/thanks`);
  await page.getByText('Please hand the tablet back').waitFor();
  await check(page, 'kiosk-thanks');

  // Back: nothing of the therapist's session, only the sign-in page.
  await page.goBack();
  await page.getByLabel('Username').waitFor();
  assert.match(page.url(), /\/sign-in/);
  const after = await page.locator('body').textContent();
  assert.ok(!after.includes(child), 'the child\'s name is gone');
  assert.ok(!after.includes(therapist), 'the therapist\'s name is gone');
  await check(page, 'kiosk-back');

  // The session itself asks for a sign-in too.
  await page.goto(sessionUrl);
  await page.getByLabel('Username').waitFor();
  assert.match(page.url(), /\/sign-in/);
  await context.close();
});

journey('the therapist rates a session and reads the child\'s feedback beside their ratings', { timeout: 240_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Username').fill('demo-therapist-1');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  await page.goto(`${base}/children?mine=yes&status=active`);
  const first = page.getByRole('region', { name: 'Children' }).locator('tbody tr')
    .filter({ has: page.getByRole('cell', { name: /^Lead/ }) }).first().getByRole('link');
  await first.click();
  const childUrl = page.url();
  await page.getByRole('link', { name: /^Sessions for case C\d+$/ }).first().click();
  await page.getByRole('table', { name: 'Sessions' }).locator('tbody tr td:first-child a').first().click();
  await page.waitForURL(/\/sessions\/[0-9a-f-]+$/);
  await page.getByRole('link', { name: 'Your rating of the session' }).click();
  await page.getByRole('heading', { name: 'Your rating of the session', level: 1 }).waitFor();
  await check(page, 'rating-form');
  const groups = page.locator('form fieldset');
  const n = await groups.count();
  assert.ok(n >= 1, 'the rating asks something');
  for (let i = 0; i < n; i += 1) await groups.nth(i).getByRole('radio').last().check();
  await page.getByRole('button', { name: 'Save the rating' }).click();
  await page.getByText('Your rating was saved.').waitFor();
  await check(page, 'rating-saved');

  await page.goto(childUrl);
  await page.getByRole('link', { name: 'Feedback', exact: true }).click();
  await page.getByRole('heading', { name: /^Feedback: / , level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'The child\'s check-in beside your rating' }).waitFor();
  const table = page.locator('table.side-by-side');
  assert.equal(await table.count(), 1, 'the child\'s score and the rating, side by side');
  const headers = (await table.locator('thead th').allTextContents()).map((t) => t.trim());
  assert.deepEqual(headers, ['Session', 'The child\'s score', 'The therapist\'s rating']);
  await check(page, 'feedback-child');
  await context.close();
});

journey('an administrator sets how long feedback links last', { timeout: 120_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Username').fill('demo-admin');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  await page.goto(`${base}/admin/feedback-settings`);
  await page.getByRole('heading', { name: 'Feedback links', level: 1 }).waitFor();
  assert.equal(await page.getByLabel(/^The child's check-in, in minutes/).inputValue(), '120');
  await check(page, 'feedback-settings');
  await page.getByLabel(/^The child's check-in, in minutes/).fill('5');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await check(page, 'feedback-settings-refused');
  await page.getByLabel(/^The child's check-in, in minutes/).fill('120');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  await context.close();
});
