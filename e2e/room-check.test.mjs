// The pre-session room check (issue 16). (1) A therapist opens their week, opens one of their
// sessions (the session view), ticks the room check with one problem (refused first without
// the problem's note, nothing typed lost) and sees "Room check done"; their week then says so
// too. (2) An administrator sees the task for the room, and the room page with its
// arrangement, layout, materials and checklist; the play kits and materials pages.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;
// Found by the therapist's journey, looked for by the administrator's.
const seen = { room: '', roomUrl: '' };

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

// The first weekday from 5 January of the spring term the demo's calendars hold next.
function demoSpringStart() {
  const now = new Date();
  const year = (now.getMonth() >= 8 ? now.getFullYear() : now.getFullYear() - 1) + 1;
  const start = new Date(year, 0, 5);
  while (start.getDay() === 0 || start.getDay() === 6) start.setDate(start.getDate() + 1);
  return `${String(start.getDate()).padStart(2, '0')}/${String(start.getMonth() + 1).padStart(2, '0')}/${start.getFullYear()}`;
}

journey('a therapist ticks the room check of a session from their week', { timeout: 240_000 }, async () => {
  const { context, page } = await signedIn('demo-therapist-1');
  // One of their children whose case they lead, and a session of it still to come.
  await page.goto(`${base}/children?mine=yes&status=active`);
  const first = page.getByRole('region', { name: 'Children' }).locator('tbody tr')
    .filter({ has: page.getByRole('cell', { name: /^Lead/ }) }).first().getByRole('link');
  const child = (await first.textContent()).trim();
  await first.click();
  await page.getByRole('link', { name: /^Sessions for case C\d+$/ }).first().click();
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
  const row = page.getByRole('table', { name: 'Sessions' }).locator('tbody tr')
    .filter({ hasText: 'Room check to do' }).first();
  const date = (await row.locator('td').nth(0).textContent()).trim();
  const time = (await row.locator('td').nth(1).textContent()).trim().slice(0, 5);
  assert.match(date, /^\d{2}\/\d{2}\/\d{4}$/);
  await check(page, 'room-check-case-sessions');

  // Their week: the session names the child, says the check is to do, and opens the session view.
  await page.goto(`${base}/timetable?week=${date}`);
  const booking = page.getByRole('row').filter({ hasText: time }).filter({ hasText: child }).filter({ hasText: 'Room check to do' }).first();
  await booking.getByRole('link', { name: child }).click();
  await page.waitForURL(/\/sessions\/[0-9a-f-]+$/);
  await page.getByRole('heading', { name: `Session with ${child}`, level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Session record' }).waitFor();
  await page.getByRole('link', { name: 'Log a disruption' }).waitFor();
  await page.getByText('Room check to do.').waitFor();
  const roomLink = page.locator('dl.facts dd').nth(1).getByRole('link').first();
  seen.room = (await roomLink.textContent()).trim();
  seen.roomUrl = await roomLink.evaluate((a) => a.href);
  await check(page, 'session-view');

  // Every item OK but one, a problem: refused without its note, then recorded.
  const items = page.locator('form fieldset');
  const count = await items.count();
  assert.ok(count >= 1, 'the checklist asks something');
  for (let i = 0; i < count; i += 1) {
    await items.nth(i).getByLabel('OK', { exact: true }).check();
  }
  await items.nth(1).getByLabel('A problem', { exact: true }).check();
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/check')),
    page.getByRole('button', { name: 'Record the room check' }).click(),
  ]);
  assert.equal(refused.status(), 422);
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  assert.ok(await page.locator('form fieldset').nth(1).getByLabel('A problem', { exact: true }).isChecked(), 'the answer is kept');
  await check(page, 'session-view-refused');
  await page.locator('form fieldset').nth(1).getByLabel(/What the problem is/).fill('No sign on the door');
  await page.getByRole('button', { name: 'Record the room check' }).click();
  await page.getByText('Room check done').first().waitFor();
  await page.getByText('No sign on the door').waitFor();
  await check(page, 'session-view-done');

  await page.goto(`${base}/timetable?week=${date}`);
  await page.getByRole('row').filter({ hasText: time }).filter({ hasText: 'Room check done' }).first().waitFor();
  await context.close();
});

journey('an administrator sees the task, the room described, its materials and the kits', { timeout: 240_000 }, async () => {
  assert.ok(seen.room, 'the therapist\'s journey ran first');
  const { context, page } = await signedIn('demo-admin');
  const task = page.getByRole('link', { name: new RegExp(`A pre-session room check found a problem: ${seen.room}`) }).first();
  for (let i = 0; i < 90 && !(await task.count()); i += 1) {
    await page.goto(`${base}/tasks`);
    if (!(await task.count())) await page.waitForTimeout(1_000);
  }
  await task.waitFor();
  await check(page, 'room-check-task');

  await page.goto(`${base}/materials`);
  await page.getByRole('heading', { name: 'Materials', level: 1 }).waitFor();
  await page.getByRole('cell', { name: 'Needs cleaning' }).first().waitFor();
  await check(page, 'materials');
  await page.getByRole('region', { name: 'Materials' }).getByRole('link').first().click();
  await page.getByRole('heading', { name: 'Change the material' }).waitFor();
  await check(page, 'material');

  await page.goto(`${base}/kits`);
  await page.getByRole('heading', { name: 'Play kits', level: 1 }).waitFor();
  await check(page, 'kits');
  await page.getByRole('link', { name: 'Travelling play kit' }).click();
  await page.getByText(/^Moved to .* on \d{2}\/\d{2}\/\d{4} by /).first().waitFor();
  await check(page, 'kit');

  await page.goto(`${base}/admin/materials`);
  await page.getByLabel('Categories, one a line').waitFor();
  await check(page, 'material-categories');

  // The room: described, with its layout as a table, its other uses and its checklist.
  await page.goto(seen.roomUrl);
  await page.getByRole('heading', { name: 'How the room is arranged' }).waitFor();
  await page.getByRole('table', { name: 'The room\'s layout, seen from above' }).waitFor();
  await page.getByText('Lunch club').first().waitFor();
  await page.getByRole('heading', { name: 'Pre-session checklist' }).waitFor();
  await check(page, 'room-described');
  await page.getByRole('link', { name: 'Describe the room' }).click();
  await page.getByLabel('Row 1, column 1').waitFor();
  await check(page, 'room-describe');
  await context.close();
});
