// Timetables: a therapist's week names their children and the breaks ahead; the room's week
// and the site's day show the same booking; a member of staff sees only "Booked" there, never
// the child's name or case number. Each page is checked at full width, 320 px, 640 px, on a
// tablet (768 px) and as printed.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
const out = process.env.ALLIANCE_E2E_OUT ?? 'target/e2e';
let browser;
// Found by the therapist's journey, checked from the staff's side.
const seen = { child: '', caseNumber: '', date: '', time: '', roomWeek: '', siteDay: '' };

before(async () => {
  assert.ok(base && password, 'run through e2e/run, which starts the servers');
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

// The first weekday from 5 January of the spring term the demo's calendars hold next.
function demoSpringStart() {
  const now = new Date();
  const year = (now.getMonth() >= 8 ? now.getFullYear() : now.getFullYear() - 1) + 1;
  const start = new Date(year, 0, 5);
  while (start.getDay() === 0 || start.getDay() === 6) start.setDate(start.getDate() + 1);
  return `${String(start.getDate()).padStart(2, '0')}/${String(start.getMonth() + 1).padStart(2, '0')}/${start.getFullYear()}`;
}

// A tablet's width, and the page as printed: no navigation or buttons, the table kept.
async function tabletAndPrint(page, name) {
  const original = page.viewportSize();
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.screenshot({ path: join(out, `${process.pid}-${name}-tablet-768.png`), fullPage: true });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
  assert.equal(wide, false, `${name} does not scroll sideways on a tablet`);
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.getByRole('navigation', { name: 'Main' }).isVisible(), false, 'no navigation in print');
  assert.equal(await page.getByRole('button').filter({ visible: true }).count(), 0, 'no buttons in print');
  assert.ok(await page.getByRole('table').first().isVisible(), 'the timetable prints');
  await page.screenshot({ path: join(out, `${process.pid}-${name}-print.png`), fullPage: true });
  await page.emulateMedia({ media: 'screen' });
  if (original) await page.setViewportSize(original);
}

journey('a therapist reads their week, a room\'s week and a site\'s day', async () => {
  const { context, page } = await signedIn('demo-therapist-1');
  // One of their children with an open case, and its sessions.
  await page.goto(`${base}/children?mine=yes&status=active`);
  // One they lead: a case they cover runs in its lead's week, not theirs.
  const first = page.getByRole('region', { name: 'Children' }).locator('tbody tr')
    .filter({ has: page.getByRole('cell', { name: /^Lead/ }) }).first().getByRole('link');
  seen.child = (await first.textContent()).trim();
  await first.click();
  await page.getByRole('link', { name: /^Sessions for case C\d+$/ }).first().click();
  const heading = (await page.getByRole('heading', { name: /^Sessions for case C\d+$/ }).textContent()).trim();
  seen.caseNumber = heading.replace('Sessions for case ', '');
  // The demo may not have booked this case yet: then set its regular time, as its lead would.
  if (await page.getByText('No regular time yet.').count()) {
    await page.getByLabel('Term calendar').selectOption({ index: 1 });
    await page.getByLabel('Room', { exact: true }).selectOption({ index: 1 });
    await page.getByLabel('Day').selectOption('friday');
    await page.getByLabel(/^Starts at/).first().fill('16:40');
    await page.getByLabel('Length in minutes').first().fill('50');
    await page.getByLabel(/^From/).fill(demoSpringStart());
    await page.getByRole('button', { name: 'Set the regular time and book the term' }).click();
    await page.getByText(/^Fridays at 16:40 for 50 minutes/).waitFor();
  }
  // The first session still to be recorded: its date and time.
  const sessions = page.getByRole('table', { name: 'Sessions' });
  const row = sessions.locator('tbody tr').filter({ hasText: 'Not recorded' }).first();
  seen.date = (await row.locator('td').nth(0).textContent()).trim();
  seen.time = (await row.locator('td').nth(1).textContent()).trim().slice(0, 5);
  assert.match(seen.date, /^\d{2}\/\d{2}\/\d{4}$/);

  // Their week: the child by name with the case number, the room, the breaks ahead.
  await page.getByRole('link', { name: 'Timetable', exact: true }).click();
  await page.getByRole('heading', { name: /^Your week: week beginning Monday \d{2}\/\d{2}\/\d{4}$/ }).waitFor();
  await check(page, 'timetable-this-week');
  await page.goto(`${base}/timetable?week=${seen.date}`);
  const booking = page.getByRole('row').filter({ hasText: seen.caseNumber }).filter({ hasText: seen.time }).first();
  await booking.getByRole('link', { name: seen.child }).waitFor();
  await page.getByRole('heading', { name: 'Breaks and endings ahead' }).waitFor();
  await page.getByRole('link', { name: 'Next week' }).waitFor();
  await check(page, 'timetable-week');
  await tabletAndPrint(page, 'timetable-week');

  // The room's week, from the booking's room.
  await booking.getByRole('link').nth(1).click();
  await page.getByRole('heading', { name: /: week beginning Monday \d{2}\/\d{2}\/\d{4}$/ }).waitFor();
  await page.getByRole('row').filter({ hasText: seen.caseNumber }).filter({ hasText: seen.time }).first().waitFor();
  seen.roomWeek = page.url();
  await check(page, 'room-week');
  await tabletAndPrint(page, 'room-week');

  // The site's day, from the site's page.
  await page.locator('main p').first().getByRole('link').nth(1).click();
  await page.getByRole('link', { name: 'Today\'s bookings in every room' }).click();
  await page.getByRole('navigation', { name: 'Days' }).waitFor();
  seen.siteDay = `${page.url().split('?')[0]}?date=${seen.date}`;
  await page.goto(seen.siteDay);
  await page.getByRole('row').filter({ hasText: seen.caseNumber }).filter({ hasText: seen.time }).first().waitFor();
  await check(page, 'site-day');
  await tabletAndPrint(page, 'site-day');
  await context.close();
});

journey('a member of staff sees the room booked, without the child', async () => {
  assert.ok(seen.roomWeek && seen.siteDay, 'runs after the therapist\'s journey');
  const { context, page } = await signedIn('demo-staff');
  for (const [url, name] of [[seen.roomWeek, 'room-week-staff'], [seen.siteDay, 'site-day-staff']]) {
    await page.goto(url);
    const booked = page.getByRole('row').filter({ hasText: seen.time }).filter({ hasText: 'Booked' });
    assert.ok((await booked.count()) > 0, `${name}: the booking shows as booked`);
    const html = await page.content();
    assert.ok(!html.includes(seen.child), `${name}: no child's name`);
    assert.ok(!html.includes(seen.caseNumber), `${name}: no case number`);
    assert.equal(await page.locator('a[href^="/cases/"], a[href^="/children/"]').count(), 0, `${name}: no link to a child or case`);
    await check(page, name);
  }
  // Their own week is empty, and says where rooms are.
  await page.getByRole('link', { name: 'Timetable', exact: true }).click();
  await page.getByRole('heading', { name: /^Your week/ }).waitFor();
  await check(page, 'timetable-staff');
  await context.close();
});
