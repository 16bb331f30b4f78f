// Calendar feeds: a therapist makes one on their account page, sees its address once (with a
// webcal:// link), the address answers without signing in with an iCalendar document that
// names no child, and turning the feed off makes the address answer 404 with nothing in it.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;

before(async () => {
  assert.ok(base && password, 'run through e2e/run, which starts the servers');
  browser = await launch(chromium);
});

after(async () => {
  await browser?.close();
});

journey('a therapist subscribes their calendar to their sessions, then turns the feed off', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Username').fill('demo-therapist-1');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);

  // The names of the children they lead, which the feed must never show.
  await page.goto(`${base}/children?mine=yes`);
  const names = (await page.getByRole('region', { name: 'Children' }).locator('tbody tr td:first-child a')
    .allTextContents()).map((n) => n.trim()).filter((n) => n.length > 0);

  await page.goto(`${base}/account`);
  await page.getByRole('heading', { name: 'Calendar feed' }).scrollIntoViewIfNeeded();
  await assert.doesNotReject(page.getByText("It never shows a child's name").waitFor());
  const make = page.getByRole('button', { name: /^(Create a calendar feed|Make a new address)$/ });
  await make.click();
  await page.waitForURL(`${base}/account/feed`);
  const notice = page.getByRole('status').filter({ hasText: 'Copy it now' });
  await assert.doesNotReject(notice.waitFor());
  const address = (await notice.locator('code').textContent()).trim();
  assert.match(address, /^http:\/\/127\.0\.0\.1:\d+\/feeds\/af_[0-9a-f]{64}\.ics$/);
  const webcal = await notice.getByRole('link', { name: 'open it in your calendar program' }).getAttribute('href');
  assert.equal(webcal, address.replace(/^http:/, 'webcal:'));
  await check(page, 'account-calendar-feed-made');

  // A calendar program fetches it with no cookie and no token.
  const feed = await fetch(address);
  assert.equal(feed.status, 200);
  assert.equal(feed.headers.get('content-type'), 'text/calendar; charset=utf-8');
  const ics = await feed.text();
  assert.match(ics, /^BEGIN:VCALENDAR\r\n/);
  assert.match(ics, /BEGIN:VTIMEZONE\r\nTZID:Europe\/London/);
  assert.ok(names.length > 0, 'the therapist has children');
  for (const name of names) assert.ok(!ics.includes(name), `${name} is not in the feed`);

  // Shown once: afterwards the page says the feed is on, without its address.
  await page.goto(`${base}/account`);
  await assert.doesNotReject(page.getByText('Your calendar feed is on').waitFor());
  assert.equal(await page.getByText(address).count(), 0, 'the address is not shown again');
  await check(page, 'account-calendar-feed-on');

  await page.getByRole('button', { name: 'Turn off the calendar feed' }).click();
  await page.waitForURL(`${base}/account#calendar-feed`);
  await assert.doesNotReject(page.getByText('You have no calendar feed').waitFor());
  const gone = await fetch(address);
  assert.equal(gone.status, 404);
  assert.equal(await gone.text(), '');
  await context.close();
});
