// Safeguarding: (1) the urgent concern: a therapist raises one from a child on their caseload,
// answers yes to immediate danger, writes the child's words and marks the body map, is
// refused submitting while parts are missing (nothing typed lost), submits; with nobody on the
// demo's empty rota the record tells them at once to call the emergency duty team or 999, and
// they record the call; the DSL sees the badge and the concern first on the queue, marked
// urgent, and acknowledges it. (2) School staff raise a concern by look-up: the receipt reads
// the same for a made-up child as for a child the service knows. (3) The administrator puts
// the DSL on the rota for the whole of today, and the safeguarding page shows them on duty.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;

const words = '"Dad hit me with the belt again last night and said he would do it again if I told"';
const said = 'I said I could not keep it a secret, that I would tell Ms Shah, whose job is to keep children safe, and why';
const bruises = 'Three finger-shaped bruises, purple, about 2 cm each';
// Shared by the journeys of this file, which run in order.
const raised = { reference: '', url: '' };

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

/** A moment a few minutes ago as London shows it: its date (31/12/2026), time (14:05) and weekday. */
function london(minutesAgo = 5) {
  const at = new Date(Date.now() - minutesAgo * 60_000);
  const part = (options) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', ...options }).format(at);
  return {
    date: part({ day: '2-digit', month: '2-digit', year: 'numeric' }),
    time: part({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
    weekday: part({ weekday: 'long' }),
  };
}

/** Fills the parts of a concern every submission needs (not the danger question). */
async function fillNeeded(page, { category, schoolAnswer }) {
  const when = london();
  await page.getByRole('group', { name: 'When it happened' }).getByLabel('Date').fill(when.date);
  await page.getByRole('group', { name: 'When it happened' }).getByLabel('Time').fill(when.time);
  await page.getByLabel('Where it happened').fill('Therapy room 2');
  await page.getByLabel('Who else was present').fill('Nobody');
  await page.getByLabel('What you said in reply').fill(said);
  await page.getByRole('group', { name: 'What kind of harm' }).getByLabel(category).check();
  if (schoolAnswer) {
    await page.getByRole('group', { name: 'Has the school\'s own DSL been told?' }).getByLabel(schoolAnswer, { exact: true }).check();
  }
}

/** The text of the record's "What happens now", with its reference taken out. */
async function receiptOf(page) {
  const items = await page.getByRole('region', { name: 'What happens now' }).getByRole('listitem').allTextContents();
  return items.map((t) => t.replace(/\s+/g, ' ').trim().replace(/\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/g, 'DATE'));
}

journey('an urgent concern: raised from the child\'s page, the raiser told to call at once, the DSL acknowledges it', { timeout: 400_000 }, async () => {
  const { context, page } = await signedIn('demo-therapist-1');
  await page.goto(`${base}/children?mine=yes&status=active`);
  const child = page.getByRole('region', { name: 'Children' }).locator('tbody tr td:first-child a').first();
  await child.click();
  await page.getByRole('heading', { name: 'Safeguarding', exact: true }).waitFor();
  const childName = (await page.getByRole('heading', { level: 1 }).textContent()).trim();
  const childUrl = page.url();
  await check(page, 'child-with-raise');

  await page.getByRole('button', { name: 'Raise a safeguarding concern' }).click();
  await page.waitForURL(/\/concerns\/[0-9a-f-]+\/edit$/);
  assert.ok(!(await page.title()).includes(childName), 'no child\'s name in a page title');
  assert.ok(!page.url().includes(encodeURIComponent(childName)), 'nor in an address');
  await page.getByText('This is a draft: only you can see it.').waitFor();
  await page.getByText(/^About:/).waitFor();
  await check(page, 'concern-new-draft');

  // First the danger question, with the emergency steps right beside it.
  const danger = page.getByRole('group', { name: 'Is the child in immediate danger?' });
  await danger.getByText('If yes: call 999 now').waitFor();
  await danger.getByLabel('Yes: the child is in immediate danger').check();
  await page.getByLabel('The child\'s words, exactly as they said them, not your summary').fill(words);

  // Submitting with parts missing: each named beside its field, the draft saved, nothing lost.
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && /\/edit$/.test(r.url())),
    page.getByRole('button', { name: 'Submit to the DSL' }).click(),
  ]);
  assert.equal(refused.status(), 422);
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await page.getByText('Say where it happened').first().waitFor();
  await page.getByText('Choose at least one category').first().waitFor();
  assert.equal(await page.getByLabel('The child\'s words, exactly as they said them, not your summary').inputValue(), words, 'nothing typed is lost');
  assert.ok(await page.getByRole('group', { name: 'Is the child in immediate danger?' }).getByLabel('Yes: the child is in immediate danger').isChecked());
  await check(page, 'concern-submit-refused');

  await fillNeeded(page, { category: 'Physical abuse', schoolAnswer: 'Not yet' });
  await page.getByLabel('What you saw and heard (facts only)').fill('She flinched when I moved my arm; bruises on her upper left arm.');
  // The body map: a mark on the front of the left arm, then more rows.
  const mark = page.getByRole('group', { name: 'Mark 1', exact: true });
  await mark.getByLabel('Outline').selectOption('front');
  await mark.getByLabel('Region').selectOption('left-arm');
  await mark.getByLabel('What you saw').fill(bruises);
  await page.getByRole('button', { name: 'Save and add more rows' }).click();
  await page.getByRole('status').filter({ hasText: /^Draft saved at \d{2}:\d{2}\./ }).waitFor();
  await page.getByRole('group', { name: 'Mark 9', exact: true }).waitFor();
  assert.equal(await page.locator('.body-map .region.marked').count(), 1, 'the left arm is marked');
  await page.getByRole('region', { name: 'Marks on the body map' }).getByRole('cell', { name: bruises }).waitFor();
  assert.equal(await page.getByLabel('Where it happened').inputValue(), 'Therapy room 2', 'the draft is kept');
  await check(page, 'concern-draft-body-map');

  await page.getByRole('button', { name: 'Submit to the DSL' }).click();
  await page.waitForURL(/\/concerns\/[0-9a-f-]+\?submitted=1/);
  raised.url = page.url().split('?')[0];
  raised.reference = (await page.locator('h1 .reference').textContent()).trim();
  assert.match(raised.reference, /^SG-[0-9A-F]{8}$/);
  await page.getByRole('heading', { name: new RegExp(`${raised.reference}`) }).getByText('URGENT').waitFor();

  // Nobody is on the demo's rota: told at once to call, with the emergency duty team's number.
  const alert = page.getByRole('alert').filter({ hasText: 'Nobody has acknowledged this urgent concern' });
  await alert.getByRole('heading', { name: 'Nobody has acknowledged this urgent concern: call the emergency duty team or 999 now' }).waitFor();
  await alert.getByRole('link', { name: '020 7946 0000' }).waitFor();
  const receipt = page.getByRole('region', { name: 'What happens now' });
  await receipt.getByText(/^Urgent: passed at once to the DSL on duty/).waitFor();
  await receipt.getByText(/^Awaiting acknowledgement, due by \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}\.$/).waitFor();
  const record = page.getByRole('region', { name: 'The record as submitted' });
  await record.getByText(words).waitFor();
  await record.getByRole('cell', { name: bruises }).waitFor();
  // Sealed: nothing on the page edits or deletes it.
  assert.equal(await page.getByRole('button', { name: /edit|delete|discard|save draft/i }).count(), 0);
  assert.equal(await page.getByRole('link', { name: /edit|delete/i }).count(), 0);
  await check(page, 'concern-call-now');

  await alert.getByLabel('Whom you called, when, and what they said').fill('Called the emergency duty team; they will send a social worker within the hour.');
  await alert.getByRole('button', { name: 'Record the call' }).click();
  await page.getByRole('status').filter({ hasText: 'The call is recorded.' }).waitFor();
  assert.equal(await page.getByRole('alert').filter({ hasText: 'Nobody has acknowledged' }).count(), 0, 'the call is recorded');
  const steps = page.getByRole('region', { name: 'What has been done' });
  await steps.getByText('Emergency duty team or 999 called').waitFor();
  // The school's own DSL, not yet told when it was written: told since.
  await page.getByLabel('Who told the school\'s DSL, and when').fill('I told Mrs Okafor by phone at 15:10');
  await page.getByRole('button', { name: 'Record that the school\'s DSL was told' }).click();
  await page.getByRole('status').filter({ hasText: 'Recorded: the school\'s DSL was told.' }).waitFor();
  await steps.getByText('The school\'s DSL told').waitFor();
  await check(page, 'concern-call-recorded');

  // The raiser's own lists.
  await page.goto(`${base}/concerns/mine`);
  await page.getByRole('link', { name: raised.reference }).waitFor();
  await check(page, 'concerns-mine');
  await page.goto(`${childUrl}/concerns`);
  await page.getByRole('link', { name: raised.reference }).waitFor();
  await check(page, 'child-concerns');
  await context.close();

  // The DSL: the badge, the queue (urgent first), the record, the acknowledgement.
  const dsl = await signedIn('demo-dsl');
  const nav = dsl.page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: /^Safeguarding \d+ awaiting acknowledgement$/ }).click();
  await dsl.page.getByRole('heading', { name: 'The safeguarding queue' }).waitFor();
  const first = dsl.page.getByRole('region', { name: 'Awaiting acknowledgement' }).locator('tbody tr').first();
  await first.getByRole('link', { name: raised.reference }).waitFor();
  await first.getByText('URGENT').waitFor();
  await check(dsl.page, 'safeguarding-queue');
  await first.getByRole('link', { name: raised.reference }).click();
  await dsl.page.getByRole('region', { name: 'The record as submitted' }).getByText(words).waitFor();
  await check(dsl.page, 'concern-dsl');
  await dsl.page.getByRole('button', { name: 'Acknowledge: I have this' }).click();
  await dsl.page.getByRole('status').filter({ hasText: 'Acknowledged.' }).waitFor();
  await dsl.page.getByRole('region', { name: 'What happens now' }).getByText(/^Acknowledged by .+ on \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}\.$/).waitFor();
  assert.equal(await dsl.page.getByRole('button', { name: 'Acknowledge: I have this' }).count(), 0);
  await check(dsl.page, 'concern-acknowledged');
  await dsl.context.close();
});

journey('school staff raise a concern by look-up: the receipt is the same for a made-up child as for a known one', { timeout: 400_000 }, async () => {
  // A child the service knows (as a therapist sees them): their name and date of birth.
  const therapist = await signedIn('demo-therapist-1');
  await therapist.page.goto(`${base}/children?mine=yes`);
  const row = therapist.page.getByRole('region', { name: 'Children' }).locator('tbody tr').first();
  const knownName = (await row.locator('td').first().getByRole('link').textContent()).trim();
  const knownBorn = (await row.locator('td').nth(1).textContent()).trim().slice(0, 10);
  assert.match(knownBorn, /^\d{2}\/\d{2}\/\d{4}$/);
  await therapist.context.close();

  const { context, page } = await signedIn('demo-staff');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Safeguarding' }).click();
  await page.getByRole('heading', { name: 'If a child is in immediate danger, call 999 now' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'The safeguarding queue' }).count(), 0, 'staff have no queue');
  await check(page, 'safeguarding-hub-staff');

  const receipts = [];
  for (const [n, child] of [
    { name: 'Zebedee Quartermain', born: '14/03/2016', school: 'Nowhere Primary' },
    { name: knownName, born: knownBorn, school: 'Their school' },
  ].entries()) {
    await page.goto(`${base}/safeguarding`);
    await page.getByRole('link', { name: 'Raise a concern about a child' }).click();
    await page.getByRole('heading', { name: 'Raise a concern about a child' }).waitFor();
    if (n === 0) {
      // A look-up needs a name and a date of birth.
      await page.getByRole('button', { name: 'Start writing the concern' }).click();
      await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
      await check(page, 'concern-lookup-refused');
    }
    await page.getByLabel('The child\'s name').fill(child.name);
    await page.getByLabel('Date of birth').fill(child.born);
    await page.getByLabel('School (optional)').fill(child.school);
    await page.getByRole('button', { name: 'Start writing the concern' }).click();
    await page.waitForURL(/\/concerns\/[0-9a-f-]+\/edit$/);
    const theChild = page.getByRole('group', { name: 'The child, as you know them' });
    assert.equal(await theChild.getByLabel('The child\'s name').inputValue(), child.name);
    assert.equal(await theChild.getByLabel('Date of birth').inputValue(), child.born);
    if (n === 0) await check(page, 'concern-lookup-draft');
    await page.getByRole('group', { name: 'Is the child in immediate danger?' }).getByLabel('No', { exact: true }).check();
    await page.getByLabel('The child\'s words, exactly as they said them, not your summary').fill('"There\'s never any food at home and I\'m hungry all the time"');
    await fillNeeded(page, { category: 'Neglect', schoolAnswer: 'Yes' });
    await page.getByLabel('If yes: by whom').fill('Me, at the end of the lunch break');
    await page.getByRole('button', { name: 'Submit to the DSL' }).click();
    await page.waitForURL(/\/concerns\/[0-9a-f-]+\?submitted=1/);
    await page.getByRole('definition').filter({ hasText: `${child.name} (as you entered them)` }).waitFor();
    await page.getByRole('region', { name: 'What happens now' }).getByText('Passed to the DSL and the deputies.').waitFor();
    if (n === 0) await check(page, 'concern-lookup-receipt');
    receipts.push(await receiptOf(page));
  }
  assert.deepEqual(receipts[1], receipts[0], 'the receipt never says whether the child is known');
  await context.close();
});

journey('the administrator puts the DSL on today\'s rota and the safeguarding page shows them on duty', { timeout: 300_000 }, async () => {
  const { context, page } = await signedIn('demo-admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Safeguarding' }).click();
  await page.getByRole('heading', { name: 'On duty now' }).waitFor();
  await page.getByText('Nobody is on the rota at this hour.').waitFor();
  assert.equal(await page.getByRole('link', { name: 'Raise a concern about a child' }).count(), 0, 'an administrator has no part in concerns');
  await check(page, 'safeguarding-hub-admin');

  await page.getByRole('link', { name: 'The on-duty rota (change it)' }).click();
  await page.getByRole('heading', { name: 'The on-duty rota' }).waitFor();
  await check(page, 'safeguarding-rota');
  const today = london(0).weekday;
  const row = page.getByRole('group', { name: 'New stretch 1', exact: true });
  const person = row.getByLabel('Person');
  const dsl = await person.locator('option', { hasText: '(DSL' }).first();
  const dslName = (await dsl.textContent()).replace(/ \(.*\)$/, '').trim();
  await person.selectOption(await dsl.getAttribute('value'));
  await row.getByLabel('As', { exact: true }).selectOption({ label: 'DSL on duty' });
  await row.getByLabel('Day').selectOption({ label: today });
  // A time that is not one is named beside its field, the row kept.
  await row.getByLabel('Starts (HH:MM)').fill('24:30');
  await row.getByLabel('Ends (HH:MM)').fill('00:00');
  await page.getByRole('button', { name: 'Save the rota' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await page.getByText('Enter a time like 14:05').first().waitFor();
  const kept = page.getByRole('group', { name: 'Stretch 1', exact: true });
  assert.equal(await kept.getByLabel('Starts (HH:MM)').inputValue(), '24:30', 'nothing typed is lost');
  await check(page, 'safeguarding-rota-refused');
  await kept.getByLabel('Starts (HH:MM)').fill('00:00');
  await page.getByRole('button', { name: 'Save the rota' }).click();
  await page.getByRole('status').filter({ hasText: 'The rota is saved.' }).waitFor();
  await page.getByRole('listitem').filter({ hasText: `DSL on duty: ${dslName}` }).first().waitFor();

  await page.goto(`${base}/safeguarding`);
  await page.getByRole('region', { name: 'On duty now' }).getByText(`DSL on duty: ${dslName}`).waitFor();
  await check(page, 'safeguarding-hub-on-duty');

  await page.goto(`${base}/safeguarding/contacts`);
  await page.getByRole('heading', { name: 'Out-of-hours contacts' }).waitFor();
  assert.equal(await page.getByLabel('Name').first().inputValue(), 'Demo County emergency duty team');
  await check(page, 'safeguarding-contacts');

  // The rota as the demo had it, for whatever runs next.
  await page.goto(`${base}/safeguarding/rota`);
  await page.getByRole('group', { name: 'Stretch 1', exact: true }).getByLabel('Remove this stretch').check();
  await page.getByRole('button', { name: 'Save the rota' }).click();
  await page.getByRole('status').filter({ hasText: 'The rota is saved.' }).waitFor();
  await page.getByText('Nobody is on duty at this hour.').waitFor();
  await context.close();
});
