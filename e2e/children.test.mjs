// Journeys through sites, rooms, children, carers and cases, as each role sees them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;
// Shared by the journeys of this file, which run in order: the child the administrator adds,
// and the therapist made its lead.
const added = { surname: '', url: '', leadName: '', school: '', springStart: '', springHalfTermMonday: '' };

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

// Made with the NHS's modulus-11 rule: 943 476 5919 is the NHS's own example number, so the
// journey uses a number derived from the clock instead, to stay unique across runs.
function nhsNumber(seed) {
  for (let n = seed; ; n += 1) {
    const digits = String(100000000 + (n % 800000000)).slice(0, 9).split('').map(Number);
    const sum = digits.reduce((acc, d, i) => acc + d * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return digits.join('') + String(check === 11 ? 0 : check);
  }
}

test('an administrator adds a school with a room, a child with two carers (one restricted) and a case', async () => {
  const { context, page } = await signedIn('demo-admin');
  // The therapist who will lead the case: demo-therapist-2, found by username.
  await page.goto(`${base}/admin/users?q=demo-therapist-2`);
  added.leadName = (await page.locator('tbody tr').first().getByRole('link').textContent()).trim();
  await page.getByRole('link', { name: 'Sites' }).click();
  await page.getByRole('heading', { name: 'Sites and rooms' }).waitFor();
  await check(page, 'sites');
  await page.getByRole('link', { name: 'Add a site' }).click();
  const school = `Hazelwood Primary ${Date.now() % 100000}`;
  added.school = school;
  await page.getByLabel('Name', { exact: true }).fill(school);
  await page.getByLabel('Kind of site').selectOption('clinic');
  await page.locator('#school_dsl_name').fill('Mrs Okafor');
  await page.getByRole('button', { name: 'Add the site' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await check(page, 'add-site-errors');
  assert.equal(await page.locator('#school_dsl_name').inputValue(), 'Mrs Okafor', 'nothing typed is lost');
  await page.getByLabel('Kind of site').selectOption('school');
  await page.getByRole('button', { name: 'Add the site' }).click();
  await page.getByRole('heading', { name: school }).waitFor();
  await page.getByLabel('Room name').fill('Willow Room');
  await page.getByLabel('How many people it holds').fill('0');
  await page.getByRole('button', { name: 'Add the room' }).click();
  await page.getByText('Enter how many people the room holds').first().waitFor();
  await page.getByLabel('How many people it holds').fill('4');
  await page.getByRole('button', { name: 'Add the room' }).click();
  await page.getByRole('link', { name: 'Willow Room' }).waitFor();
  await check(page, 'site-with-room');

  await page.getByRole('link', { name: 'Children' }).click();
  await page.getByRole('heading', { name: 'Children' }).waitFor();
  await check(page, 'children-admin');
  await page.getByRole('link', { name: 'Add a child' }).click();
  await check(page, 'add-child');
  const surname = `Testfield${Date.now() % 100000}`;
  added.surname = surname;
  await page.getByLabel('Legal name').fill(`Amelia Rose ${surname}`);
  await page.getByLabel('Preferred name').fill('Millie');
  await page.getByLabel('Date of birth').fill('14/03/2016');
  await page.getByLabel('Sex', { exact: true }).selectOption('female');
  await page.getByLabel('NHS number').fill('943 476 5918');
  await page.getByLabel("One of the service's schools").selectOption({ label: school });
  await page.getByRole('button', { name: 'Add the child' }).click();
  await page.getByText('This is not a valid NHS number').first().waitFor();
  await check(page, 'add-child-errors');
  assert.equal(await page.getByLabel('Preferred name').inputValue(), 'Millie', 'nothing typed is lost');
  await page.getByLabel('NHS number').fill(nhsNumber(Date.now() % 700000000));
  await page.getByRole('button', { name: 'Add the child' }).click();
  await page.getByRole('heading', { name: 'Millie', exact: true }).waitFor();
  await page.getByText(school).waitFor();
  added.url = new URL(page.url()).pathname;
  await check(page, 'child-added');

  await page.getByRole('link', { name: 'Add a carer' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Jo Testfield');
  await page.getByLabel('Relationship to the child').fill('Mother');
  await page.getByLabel('Parental responsibility').selectOption('parent');
  await page.getByLabel('Looks after the child day to day').check();
  await page.getByLabel('Telephone (optional)').fill('07700 900123');
  await page.getByRole('button', { name: 'Add the carer' }).click();
  await page.getByRole('heading', { name: /Jo Testfield/ }).waitFor();

  await page.getByRole('link', { name: 'Add a carer' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Sam Testfield');
  await page.getByLabel('Relationship to the child').fill('Father');
  await page.getByLabel('Parental responsibility').selectOption('parent');
  await page.locator('[id="restrictions[0].kind"]').selectOption('no-location-or-times');
  await page.locator('[id="restrictions[0].source"]').selectOption('court-order');
  await page.locator('[id="restrictions[0].dated"]').fill('12/05/2025');
  await check(page, 'add-carer');
  await page.getByRole('button', { name: 'Add the carer' }).click();
  await page.getByRole('heading', { name: /Sam Testfield/ }).waitFor();
  await page.locator('summary', { hasText: 'What may be sent to Sam Testfield' }).click();
  await page.getByText('A restriction on this carer forbids it: no information about location or session times').waitFor();
  await check(page, 'child-with-restricted-carer');

  await page.getByRole('link', { name: 'Open a case' }).click();
  await page.getByText('The reason for referral is clinical').waitFor();
  await page.getByLabel('Referred by').selectOption('school');
  await page.getByLabel('Lead therapist').selectOption({ label: added.leadName });
  await check(page, 'open-case');
  await page.getByRole('button', { name: 'Open the case' }).click();
  await page.getByText('Referred, not yet seen').first().waitFor();
  await check(page, 'child-with-case');
  await context.close();
});

test('the lead finds the new child by name; another therapist cannot, by list, search or address', async () => {
  assert.ok(added.url, 'runs after the administrator\'s journey');
  const lead = await signedIn('demo-therapist-2');
  await lead.page.getByRole('link', { name: 'Children' }).click();
  await lead.page.getByLabel('Name, NHS number or UPN').fill(added.surname);
  await lead.page.getByRole('button', { name: 'Filter' }).click();
  await lead.page.getByRole('link', { name: 'Millie' }).click();
  await lead.page.getByRole('heading', { name: 'Millie', exact: true }).waitFor();
  await check(lead.page, 'child-found-by-lead');
  await lead.context.close();

  const other = await signedIn('demo-therapist-3');
  await other.page.getByRole('link', { name: 'Children' }).click();
  assert.equal(await other.page.getByRole('link', { name: 'Millie' }).count(), 0, 'not in the list');
  await other.page.getByLabel('Name, NHS number or UPN').fill(added.surname);
  await other.page.getByRole('button', { name: 'Filter' }).click();
  await other.page.getByText('No children match.').waitFor();
  await check(other.page, 'child-not-found-by-search');
  const response = await other.page.goto(`${base}${added.url}`);
  assert.equal(response.status(), 404, 'the address answers as if there were no such child');
  assert.equal(await other.page.getByText('Millie').count(), 0);
  await other.context.close();
});

// The demo's term calendars follow the school year containing today: spring starts on the
// first weekday from 5 January and has its half-term in the week of 16 February.
function demoSpring() {
  const now = new Date();
  const year = (now.getMonth() >= 8 ? now.getFullYear() : now.getFullYear() - 1) + 1;
  const uk = (d) => `${String(d.getDate()).padStart(2, '0')}/${String(d.getMonth() + 1).padStart(2, '0')}/${d.getFullYear()}`;
  const start = new Date(year, 0, 5);
  while (start.getDay() === 0 || start.getDay() === 6) start.setDate(start.getDate() + 1);
  const half = new Date(year, 1, 16);
  half.setDate(half.getDate() - ((half.getDay() + 6) % 7));
  return { springStart: uk(start), springHalfTermMonday: uk(half) };
}

test('the lead sets the regular time and sees the term\'s sessions without the half-term', async () => {
  assert.ok(added.url, 'runs after the administrator\'s journey');
  Object.assign(added, demoSpring());
  const { context, page } = await signedIn('demo-therapist-2');
  await page.goto(`${base}${added.url}`);
  await page.getByRole('link', { name: /^Sessions for case C\d+$/ }).first().click();
  await page.getByRole('heading', { name: /^Sessions for case C\d+$/ }).waitFor();
  await check(page, 'case-sessions');
  await page.getByLabel('Term calendar').selectOption({ index: 1 });
  await page.getByLabel("Room", { exact: true }).selectOption({ label: `Willow Room, ${added.school}` });
  await page.getByLabel('Day').selectOption('monday');
  await page.getByLabel(/^Starts at/).first().fill('15:30');
  await page.getByLabel('Length in minutes').first().fill('25');
  await page.getByLabel('Length in minutes').first().fill('1500');
  await page.getByRole('button', { name: 'Set the regular time and book the term' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).first().waitFor();
  await check(page, 'case-sessions-errors');
  await page.getByLabel('Length in minutes').first().fill('50');
  await page.getByLabel(/^From/).fill(added.springStart);
  await page.getByRole('button', { name: 'Set the regular time and book the term' }).click();
  await page.getByText(/^Mondays at 15:30 for 50 minutes/).waitFor();
  const table = page.getByRole('table', { name: 'Sessions' });
  assert.ok((await table.getByRole('row').count()) > 5, 'the term is booked');
  assert.equal(await table.getByRole('cell', { name: added.springHalfTermMonday }).count(), 0, 'no session in half-term');
  await page.getByRole('heading', { name: 'Breaks and the ending' }).waitFor();
  await page.getByText(/half-term from .* before it/).first().waitFor();
  await check(page, 'case-sessions-booked');

  // Letters go to parents and carers once the therapy agreement is active: the mother's
  // consent and Millie's assent first.
  const sessionsUrl = page.url();
  await page.getByText('The therapy agreement is not active yet').first().waitFor();
  await page.getByRole('link', { name: /^Agreement and consent for case C\d+$/ }).click();
  await page.getByLabel('What confidentiality means for this child, in words they understand')
    .fill('What you say here stays here, unless someone is hurting you.');
  await page.getByRole('button', { name: 'Save as a draft' }).click();
  await page.getByText('The new version is saved as a draft.').waitFor();
  await page.getByLabel('What is recorded').selectOption('parental-consent');
  await page.getByLabel('The parent or carer (for their consent or objection)').selectOption({ label: 'Jo Testfield (Mother)' });
  await page.getByRole('button', { name: 'Record', exact: true }).click();
  await page.getByText('Recorded.').waitFor();
  await page.getByLabel('What is recorded').selectOption('assent');
  await page.getByRole('button', { name: 'Record', exact: true }).click();
  await page.getByText('Recorded.').waitFor();
  await page.getByRole('button', { name: 'Mark version 1 active' }).click();
  await page.getByText('The agreement is active.').waitFor();
  await page.goto(sessionsUrl);
  assert.equal(await page.getByText('The therapy agreement is not active yet').count(), 0, 'no warning once it is active');

  // Letters: the mother may have them; the father, under a court order, may not.
  await page.getByRole('link', { name: 'Letters to parents and carers about these sessions' }).click();
  await page.getByRole('heading', { name: /^Letters for case C\d+$/ }).waitFor();
  const carers = page.getByRole('table', { name: 'Carers and the letters they may receive' });
  await carers.getByRole('row', { name: /Sam Testfield/ }).getByText('Not to be sent.').waitFor();
  assert.equal(await carers.getByRole('row', { name: /Sam Testfield/ }).getByRole('link').count(), 0, 'no letter links for a restricted carer');
  await check(page, 'letters');
  await carers.getByRole('link', { name: 'The next break to Jo Testfield', exact: true }).click();
  await page.getByRole('heading', { name: /^A break in .* therapy sessions$/ }).waitFor();
  await page.getByText('Dear Jo Testfield,').waitFor();
  await check(page, 'letter-break');
  const pdf = await page.request.get(base + await page.getByRole('link', { name: 'Download as PDF' }).getAttribute('href'));
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.ok((await pdf.body()).subarray(0, 5).toString() === '%PDF-', 'a PDF');
  await context.close();
});

test('a therapist sees their caseload, the referral reason, and manages the case team', async () => {
  const { context, page } = await signedIn('demo-therapist-1');
  await page.getByRole('link', { name: 'Children' }).click();
  await page.getByLabel('Only my caseload').check();
  await page.getByRole('button', { name: 'Filter' }).click();
  const rows = page.locator('tbody tr');
  assert.ok((await rows.count()) > 0, 'the demo gives demo-therapist-1 a caseload');
  await check(page, 'children-therapist');
  await page.locator('tbody tr', { hasText: 'Lead therapist' }).first().getByRole('link').click();
  await page.getByRole('heading', { name: 'Cases' }).waitFor();
  await check(page, 'child-therapist');
  await page.getByRole('link', { name: /^Manage case C\d+$/ }).first().click();
  await page.getByRole('heading', { name: 'Case team' }).waitFor();
  await check(page, 'case-therapist');
  await page.getByLabel('Role on the team').selectOption('cover');
  await page.getByLabel('Therapist', { exact: true }).selectOption({ index: 2 });
  await page.getByRole('button', { name: 'Add to the team' }).click();
  await page.getByText('Cover needs an end date').first().waitFor();
  await check(page, 'case-team-errors');
  await context.close();
});

test('a supervisor sees only initials and case numbers', async () => {
  const { context, page } = await signedIn('demo-supervisor');
  await page.getByRole('link', { name: 'Children' }).click();
  await page.locator('tbody tr').first().waitFor();
  await check(page, 'children-supervisor');
  // Children of supervisees show as initials (the supervisor may lead cases of their own,
  // and those show by name).
  const initials = page.locator('tbody tr td:first-child a').filter({ hasText: /^[A-Z]{1,4}$/ });
  assert.ok((await initials.count()) > 0, 'a supervisor sees supervisees\' children by initials');
  await initials.first().click();
  await page.getByText('Shown by initials and case number for supervision').waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Carers' }).count(), 0);
  await check(page, 'child-supervisor');
  await context.close();
});

test('staff have no children list, and a child\'s address answers as if nothing were there', async () => {
  const admin = await signedIn('demo-admin');
  await admin.page.goto(`${base}/children`);
  const href = await admin.page.locator('tbody tr a').first().getAttribute('href');
  await admin.context.close();

  const { context, page } = await signedIn('demo-staff');
  assert.equal(await page.getByRole('link', { name: 'Children' }).count(), 0);
  const response = await page.goto(`${base}${href}`);
  assert.equal(response.status(), 404);
  await page.getByText('There is nothing here').first().waitFor();
  await check(page, 'child-not-found-for-staff');
  await page.goto(`${base}/sites`);
  await page.getByRole('heading', { name: 'Sites and rooms' }).waitFor();
  await context.close();
});

test('an administrator adds a term calendar and sees a weekly slot\'s sessions without the half-term', async () => {
  const { context, page } = await signedIn('demo-admin');
  await page.goto(`${base}/calendars`);
  await page.getByRole('heading', { name: 'Term calendars' }).waitFor();
  await check(page, 'calendars');
  await page.getByRole('link', { name: 'Add a term calendar' }).click();
  await page.getByLabel('Calendar name').fill(`Hazelwood ${Date.now() % 100000}`);
  await page.getByLabel(/^Rows:/).fill([
    'kind,name,starts,ends,reason',
    'term,Autumn term,02/09/2026,18/12/2026,',
    'half-term,Autumn term,26/10/2026,30/10/2026,',
    'term,Winter term,01/12/2026,20/12/2026,',
  ].join('\n'));
  await page.getByRole('button', { name: 'Check the rows' }).click();
  await page.getByText(/Line 4:/).first().waitFor();
  await check(page, 'calendar-rows-errors');
  await page.getByLabel(/^Rows:/).fill([
    'kind,name,starts,ends,reason',
    'term,Autumn term,02/09/2026,18/12/2026,',
    'half-term,Autumn term,26/10/2026,30/10/2026,',
    'inset,Training day,23/11/2026,,Training day',
  ].join('\n'));
  await page.getByRole('button', { name: 'Check the rows' }).click();
  await page.getByRole('heading', { name: 'What these rows make (not saved yet)' }).waitFor();
  await page.getByRole('button', { name: 'Add the calendar' }).click();
  await page.getByRole('heading', { name: 'The sessions a weekly slot makes' }).waitFor();
  await page.getByLabel('Day').selectOption('monday');
  await page.getByLabel(/^Starts at/).fill('15:30');
  await page.getByLabel('Length in minutes').fill('50');
  await page.getByLabel(/^From/).fill('02/09/2026');
  await page.getByRole('button', { name: 'Show the sessions' }).click();
  const sessions = page.getByRole('table', { name: /^Sessions/ });
  await sessions.waitFor();
  await check(page, 'calendar-series');
  assert.equal(await sessions.getByRole('cell', { name: '19/10/2026' }).count(), 1);
  assert.equal(await sessions.getByRole('cell', { name: '26/10/2026' }).count(), 0, 'no session in half-term');
  const leftOut = page.getByRole('table', { name: /^Left out/ });
  await leftOut.getByRole('row', { name: /26\/10\/2026 Autumn term half-term/ }).waitFor();
  await context.close();
});
