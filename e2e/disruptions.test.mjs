// Disruptions, the sign on the door, the emergency sheet and incidents (issue 16). (1) A
// therapist opens a session from their week and logs a disruption in two taps (the minutes,
// then what got in the way), and sees it listed. (2) An administrator reads the disruption
// report, prints the room's "Session in progress" sign (times, no names) and a site's
// emergency sheet (no child). (3) A therapist records an incident on a child of their
// caseload and reads it back; the service lead is answered "not found".
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;
// Shared by the journeys of this file, which run in order.
const known = { roomHref: '', incidentUrl: '' };

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

/** The first session of the therapist's week that opens its session view (this week, else next). */
async function aSession(page) {
  await page.goto(`${base}/timetable`);
  for (let week = 0; week < 2; week += 1) {
    const links = page.locator('main a[href^="/sessions/"]');
    if (await links.count()) {
      const href = await links.first().getAttribute('href');
      return href.match(/^\/sessions\/[0-9a-f-]+/)[0];
    }
    await page.getByRole('link', { name: 'Next week' }).first().click();
  }
  throw new Error('the demo therapist has no session this week or next');
}

journey('a therapist logs a disruption in two taps', { timeout: 180_000 }, async () => {
  const { context, page } = await signedIn('demo-therapist-1');
  const session = await aSession(page);
  await page.goto(`${base}${session}`);
  await page.getByRole('link', { name: /Log a disruption/ }).click();
  await page.waitForURL(`${base}${session}/disruptions`);
  await page.getByRole('heading', { name: 'Log a disruption', level: 1 }).waitFor();
  await check(page, 'disruption-log');

  // Tap one: the minutes. Tap two: what got in the way (this logs it).
  await page.getByLabel('5 min', { exact: true }).check();
  await page.getByRole('button', { name: 'Knock or walk-in' }).click();
  await page.getByRole('status').waitFor();
  const list = page.getByRole('region', { name: 'Disruptions logged for this session' });
  const row = list.locator('tbody tr').filter({ hasText: 'Knock or walk-in' }).first();
  await row.getByRole('cell', { name: '5', exact: true }).waitFor();
  await check(page, 'disruption-logged');
  known.roomHref = await page.getByRole('link', { name: /Session in progress/ }).getAttribute('href');
  // From the session view, an incident's form starts at the session's date and time (for
  // the case team, who alone are offered it).
  await page.goto(`${base}${session}`);
  const record = page.getByRole('link', { name: 'Record an incident' });
  if (await record.count()) {
    await record.click();
    assert.match(await page.getByLabel('When it happened').inputValue(), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
  }
  await context.close();
});

journey('an administrator reads the report and prints the sign and the emergency sheet', { timeout: 180_000 }, async () => {
  assert.ok(known.roomHref, 'the journey before logged a disruption');
  const { context, page } = await signedIn('demo-admin');
  await page.goto(`${base}/disruptions/report`);
  await page.getByRole('heading', { name: 'Disruptions report', level: 1 }).waitFor();
  await page.getByText('Knock or walk-in').first().waitFor();
  await check(page, 'disruption-report');
  const csv = await page.request.get(`${base}/disruptions/report?format=csv`);
  assert.equal(csv.status(), 200);
  assert.match(csv.headers()['content-type'], /text\/csv/);

  // The sign: the room's times, never a child.
  await page.goto(`${base}${known.roomHref}`);
  await page.getByRole('heading', { name: /Session in progress/ }).waitFor();
  const sign = await page.locator('main').textContent();
  assert.doesNotMatch(sign, /case \d|Booked/i);
  await check(page, 'room-sign');

  // A site's emergency procedures and its printable sheet.
  await page.goto(`${base}/sites`);
  await page.getByRole('region', { name: 'Sites' }).locator('a[href^="/sites/"]').first().click();
  await page.getByRole('link', { name: /emergency/i }).first().click();
  await page.waitForURL(/\/sites\/[0-9a-f-]+\/emergency$/);
  await check(page, 'site-emergency');
  const sheetHref = page.url().replace(/\/emergency$/, '/emergency-sheet');
  await page.goto(sheetHref);
  await page.getByRole('heading', { name: /^Emergency sheet: / }).waitFor();
  await page.getByText('999').first().waitFor();
  await check(page, 'site-emergency-sheet');
  await context.close();
});

journey('a therapist records an incident that the service lead cannot open', { timeout: 180_000 }, async () => {
  const { context, page } = await signedIn('demo-therapist-1');
  await page.goto(`${base}/children?mine=yes`);
  const child = await page.getByRole('region', { name: 'Children' })
    .locator('tbody tr td:first-child a').first().getAttribute('href');
  await page.goto(`${base}${child}/incidents`);
  await page.getByRole('heading', { name: /^Incidents: / }).waitFor();
  await check(page, 'incidents');
  await page.getByRole('link', { name: 'Record an incident' }).click();
  await page.getByRole('heading', { name: /^Record an incident: / }).waitFor();

  // Refused without what happened; nothing typed is lost.
  await page.getByLabel('Aggression', { exact: false }).first().check();
  await page.getByLabel('What was done').fill('Paused the session and sat with them until they were calm.');
  await page.getByRole('button', { name: 'Record the incident' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  assert.equal(await page.getByLabel('What was done').inputValue(), 'Paused the session and sat with them until they were calm.');
  await check(page, 'incident-refused');

  // Yesterday at 10:00, as the datetime-local field takes it.
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel('When it happened').fill(`${yesterday}T10:00`);
  await page.getByLabel('What happened').fill('Threw a sand tray figure at the wall when the session ended.');
  await page.getByLabel('Who was involved').fill('The therapist only.');
  await page.getByRole('button', { name: 'Record the incident' }).click();
  await page.getByRole('heading', { name: /^Incident / }).waitFor();
  await page.getByText('Threw a sand tray figure at the wall').waitFor();
  known.incidentUrl = page.url();
  await check(page, 'incident');
  await context.close();

  const lead = await signedIn('demo-lead');
  const refused = await lead.page.request.get(known.incidentUrl);
  assert.equal(refused.status(), 404);
  await lead.context.close();
});
