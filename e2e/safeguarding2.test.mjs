// Safeguarding 2 (issue 14): the DSL's work on a concern. (1) A therapist on the child's team
// raises a concern; the DSL acknowledges it, is refused a decision without one chosen (nothing
// typed lost), decides on a referral to children's social care with reasons, records the
// referral and its outcome, and shares one sentence with the therapist; the child's chronology
// shows it all in time order (and prints, and downloads as a PDF); the therapist, on the concern
// and on the child's page, sees the shared sentence and none of the DSL's reasons, referral or
// outcome. (2) Closing needs a decision: the DSL decides and closes a concern, re-opens it with
// new information, and a page still showing the closing form is refused ("Record a decision
// before closing"); the therapist, who did not raise it, sees only what was shared. (3) The
// transfer of the file to a new school: the deadline, the encrypted file with its passphrase
// shown once, and the receipt.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;

const words = '"Mum\'s boyfriend shouts at me and locks me in my room when she is at work"';
const reasons = 'Repeated disclosure, consistent with the school\'s log; the child is frightened to go home. Threshold for a referral met.';
const spokenTo = 'Jo Adams, duty social worker';
const cscReference = 'CSC-2026-04412';
const outcome = 'Strategy discussion held; a section 47 enquiry is opened and a social worker allocated.';
const sentence = 'Children\'s social care are involved: please tell me at once if she says anything more about home.';
// Shared by the journeys of this file, which run in order.
const known = { childUrl: '', therapist: '' };

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

/** A moment `minutesAgo` minutes ago as London shows it: its date (31/12/2026) and time (14:05). */
function london(minutesAgo = 5) {
  const at = new Date(Date.now() - minutesAgo * 60_000);
  const part = (options) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', ...options }).format(at);
  return {
    date: part({ day: '2-digit', month: '2-digit', year: 'numeric' }),
    time: part({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
  };
}

/** Waits for the clock's next minute: a time typed to the minute is then after what was just recorded. */
async function nextMinute() {
  const wait = 60_000 - (Date.now() % 60_000) + 1_000;
  await new Promise((resolve) => setTimeout(resolve, wait));
}

/** Raises and submits a concern (not urgent) from the child's page; answers its address and reference. */
async function raise(page, childUrl, childWords) {
  await page.goto(childUrl);
  await page.getByRole('button', { name: 'Raise a safeguarding concern' }).click();
  await page.waitForURL(/\/concerns\/[0-9a-f-]+\/edit$/);
  await page.getByRole('group', { name: 'Is the child in immediate danger?' }).getByLabel('No', { exact: true }).check();
  await page.getByLabel('The child\'s words, exactly as they said them, not your summary').fill(childWords);
  const when = london();
  await page.getByRole('group', { name: 'When it happened' }).getByLabel('Date').fill(when.date);
  await page.getByRole('group', { name: 'When it happened' }).getByLabel('Time').fill(when.time);
  await page.getByLabel('Where it happened').fill('Therapy room 1');
  await page.getByLabel('Who else was present').fill('Nobody');
  await page.getByLabel('What you said in reply').fill('I said I would have to tell the person whose job is to keep children safe.');
  await page.getByRole('group', { name: 'What kind of harm' }).getByLabel('Emotional abuse').check();
  await page.getByRole('group', { name: 'Has the school\'s own DSL been told?' }).getByLabel('Yes', { exact: true }).check();
  await page.getByLabel('If yes: by whom').fill('Me, at the end of the session');
  await page.getByRole('button', { name: 'Submit to the DSL' }).click();
  await page.waitForURL(/\/concerns\/[0-9a-f-]+\?submitted=1/);
  const reference = (await page.locator('h1 .reference').textContent()).trim();
  assert.match(reference, /^SG-[0-9A-F]{8}$/);
  return { url: page.url().split('?')[0], reference };
}

/** One of the DSL's forms on the concern, opened. */
async function work(page, id) {
  const form = page.locator(`#${id}-step`);
  if (!(await form.evaluate((el) => el.open))) await form.locator('summary').click();
  return form;
}

/** The "where it stands" of the concern's facts. */
async function stage(page) {
  return (await page.locator('dl.facts dt', { hasText: 'Where it stands' }).locator('xpath=following-sibling::dd[1]').textContent()).trim();
}

journey('the DSL acknowledges, decides, refers, records the outcome and shares; the chronology is in order; the therapist sees only what was shared', { timeout: 400_000 }, async () => {
  // A therapist on the child's team raises it.
  const therapist = await signedIn('demo-therapist-1');
  known.therapist = (await therapist.page.locator('.signed-in-as').textContent()).trim();
  await therapist.page.goto(`${base}/children?mine=yes&status=active`);
  await therapist.page.getByRole('region', { name: 'Children' }).locator('tbody tr td:first-child a').first().click();
  await therapist.page.getByRole('heading', { name: 'Safeguarding', exact: true }).waitFor();
  known.childUrl = therapist.page.url();
  const raised = await raise(therapist.page, known.childUrl, words);
  await therapist.context.close();

  // The DSL: awaiting acknowledgement, then a decision with its deadline.
  const dsl = await signedIn('demo-dsl');
  const { page } = dsl;
  await page.goto(raised.url);
  assert.equal(await stage(page), 'Awaiting acknowledgement');
  assert.equal(await page.locator('#close-step').count(), 0, 'nothing to close before a decision');
  assert.equal(await page.locator('#chase-step').count(), 0, 'nothing to chase before a referral');
  await check(page, 'concern-dsl-work');
  await page.getByRole('button', { name: 'Acknowledge: I have this' }).click();
  await page.getByRole('status').filter({ hasText: 'Acknowledged.' }).waitFor();
  assert.equal(await stage(page), 'Awaiting a decision');
  await page.getByText(/^Decide by \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/).waitFor();

  await page.goto(`${base}/safeguarding`);
  const open = page.getByRole('region', { name: 'Awaiting a decision, or open' });
  const row = open.locator('tbody tr').filter({ has: page.getByRole('link', { name: raised.reference }) });
  await row.getByText(/^Awaiting a decision, due by \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/).waitFor();
  await check(page, 'safeguarding-queue-open');
  await row.getByRole('link', { name: raised.reference }).click();

  // A decision needs its choice and its reasons: refused, what was typed kept.
  let decide = await work(page, 'decide');
  await decide.getByLabel('Review date (for monitor)').fill('not a date');
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && /\/steps$/.test(r.url())),
    decide.getByRole('button', { name: 'Record the decision' }).click(),
  ]);
  assert.equal(refused.status(), 422);
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  decide = page.locator('#decide-step');
  await decide.getByText('Choose the decision').waitFor();
  await decide.getByText('Give the reasons for the decision').waitFor();
  await check(page, 'concern-decision-refused');
  await decide.getByRole('group', { name: 'The decision' }).getByLabel('Referral to children\'s social care').check();
  await decide.getByLabel('Your reasons').fill(reasons);
  await decide.getByLabel('Review date (for monitor)').fill('');
  await decide.getByRole('button', { name: 'Record the decision' }).click();
  await page.getByRole('status').filter({ hasText: 'The decision is recorded.' }).waitFor();
  assert.equal(await stage(page), 'Open');
  const steps = page.getByRole('region', { name: 'What has been done' });
  await steps.getByText('Decision: Referral to children\'s social care').waitFor();
  await steps.getByText(`Reasons: ${reasons}`).waitFor();

  // The referral: made after the decision, to the minute.
  await nextMinute();
  const made = london(0);
  const referral = await work(page, 'referral');
  await referral.getByRole('group', { name: 'Referred to' }).getByLabel('Children\'s social care').check();
  await referral.getByLabel('Whom you spoke to').fill(spokenTo);
  await referral.getByLabel('Their reference (optional)').fill(cscReference);
  const when = referral.getByRole('group', { name: 'When the referral was made' });
  await when.getByLabel('Date').fill(made.date);
  await when.getByLabel('Time').fill(made.time);
  await referral.getByRole('button', { name: 'Record the referral' }).click();
  await page.getByRole('status').filter({ hasText: 'The referral is recorded.' }).waitFor();
  await steps.getByText(`Spoken to: ${spokenTo}`).waitFor();
  await steps.getByText(`When: ${made.date} ${made.time}`).waitFor();

  const outcomeForm = await work(page, 'outcome');
  await outcomeForm.getByLabel('The feedback and the outcome').fill(outcome);
  await outcomeForm.getByRole('button', { name: 'Record the outcome' }).click();
  await page.getByRole('status').filter({ hasText: 'The feedback and outcome are recorded.' }).waitFor();

  const share = await work(page, 'team');
  await share.getByRole('group', { name: 'Share with' }).getByLabel(`${known.therapist} (`, { exact: false }).first().check();
  await share.getByLabel('What you share with them').fill(sentence);
  await check(page, 'concern-share-form');
  await share.getByRole('button', { name: 'Share with the therapist' }).click();
  await page.getByRole('status').filter({ hasText: 'Shared with the therapist: they are told.' }).waitFor();
  await steps.getByText(`What was shared: ${sentence}`).waitFor();
  await check(page, 'concern-dsl-worked');

  // The chronology: everything about the concern, in the order it happened.
  await page.goto(`${known.childUrl}/chronology`);
  await page.getByRole('heading', { name: 'Safeguarding chronology', level: 1 }).waitFor();
  assert.ok(!(await page.title()).includes(known.therapist), 'no names in the title');
  const rows = page.getByRole('region', { name: 'The chronology' }).locator('tbody tr');
  const seen = [];
  for (const r of await rows.all()) {
    const cells = await r.locator('td').allTextContents();
    if (cells[1].trim() === raised.reference) seen.push(cells[2].trim());
  }
  assert.deepEqual(seen, ['Concern raised', 'Acknowledged', 'Decision', 'Referral made', 'Feedback and outcome', 'Shared with the therapist']);
  await check(page, 'chronology');
  const pdf = await page.request.get(`${known.childUrl}/chronology.pdf`);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.ok(!pdf.headers()['content-disposition'].includes(known.therapist));
  assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');
  await page.getByRole('link', { name: 'Print', exact: true }).click();
  await page.waitForURL(/\/chronology\?print=1$/);
  assert.equal(await page.getByRole('button').filter({ hasText: /transfer/i }).count(), 0, 'no forms on the printed page');
  await page.emulateMedia({ media: 'print' });
  assert.ok(!(await page.getByRole('navigation', { name: 'Main' }).isVisible()), 'the navigation is not printed');
  await page.emulateMedia({ media: 'screen' });
  await check(page, 'chronology-print');
  await dsl.context.close();

  // The therapist: the shared sentence, and none of the DSL's reasons, referral or outcome.
  const back = await signedIn('demo-therapist-1');
  await back.page.goto(raised.url);
  const shared = back.page.getByRole('region', { name: 'What the DSL shared with you' });
  await shared.getByText(sentence).waitFor();
  const text = await back.page.locator('main').textContent();
  for (const hidden of [reasons, spokenTo, cscReference, outcome]) {
    assert.ok(!text.includes(hidden), `the therapist does not see "${hidden}"`);
  }
  assert.equal(await back.page.locator('#work').count(), 0, 'nor the DSL\'s forms');
  await check(back.page, 'concern-therapist-shared');
  await back.page.goto(known.childUrl);
  const panel = back.page.locator('#child-safeguarding');
  await panel.getByRole('heading', { name: 'Shared with you by the DSL' }).waitFor();
  await panel.getByText(sentence).waitFor();
  assert.equal(await panel.getByRole('link', { name: 'Safeguarding chronology' }).count(), 0, 'a therapist has no chronology');
  assert.ok(!(await back.page.locator('main').textContent()).includes(reasons));
  await check(back.page, 'child-shared-with-you');
  const refusedChronology = await back.page.request.get(`${known.childUrl}/chronology`);
  assert.equal(refusedChronology.status(), 404, 'the chronology is not found for a therapist');
  await back.context.close();
});

journey('closing needs a decision: decided, closed, re-opened, and a stale closing form is refused; the therapist sees only what was shared', { timeout: 400_000 }, async () => {
  assert.ok(known.childUrl, 'runs after the first journey');
  const dsl = await signedIn('demo-dsl');
  const { page } = dsl;
  const raised = await raise(page, known.childUrl, '"I don\'t want to go home tonight"');
  const decide = await work(page, 'decide');
  await decide.getByRole('group', { name: 'The decision' }).getByLabel('No further action').check();
  await decide.getByLabel('Your reasons').fill('Explained by a family argument, now resolved; mother spoken to.');
  await decide.getByRole('button', { name: 'Record the decision' }).click();
  await page.getByRole('status').filter({ hasText: 'The decision is recorded.' }).waitFor();

  // A second page, left showing the closing form.
  const stale = await dsl.context.newPage();
  await stale.goto(raised.url);
  await stale.locator('#close-step').waitFor();

  const close = await work(page, 'close');
  await close.getByLabel('A summary for the closure').fill('No further action; nothing more is needed now.');
  await close.getByRole('button', { name: 'Close the concern' }).click();
  await page.getByRole('status').filter({ hasText: 'Closed.' }).waitFor();
  assert.equal(await stage(page), 'Closed');
  assert.equal(await page.locator('#decide-step').count(), 0, 'a closed concern takes no decision');
  await check(page, 'concern-closed');

  const reopen = await work(page, 'reopen');
  await reopen.getByLabel('The new information').fill('The school reports she arrived hungry and upset three days running.');
  await reopen.getByRole('button', { name: 'Re-open the concern' }).click();
  await page.getByRole('status').filter({ hasText: 'Re-opened: a fresh decision is due.' }).waitFor();
  assert.equal(await stage(page), 'Awaiting a decision');
  await page.getByText(/^Decide by \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/).waitFor();

  const staleClose = await work(stale, 'close');
  const typed = 'Closing again: nothing more needed.';
  await staleClose.getByLabel('A summary for the closure').fill(typed);
  const [refused] = await Promise.all([
    stale.waitForResponse((r) => r.request().method() === 'POST' && /\/steps$/.test(r.url())),
    staleClose.getByRole('button', { name: 'Close the concern' }).click(),
  ]);
  assert.equal(refused.status(), 409);
  await stale.getByRole('heading', { name: 'There is a problem' }).waitFor();
  const refusedClose = stale.locator('#close-step');
  await refusedClose.getByRole('alert').filter({ hasText: 'Record a decision before closing' }).waitFor();
  assert.equal(await refusedClose.getByLabel('A summary for the closure').inputValue(), typed, 'nothing typed is lost');
  assert.equal(await stage(stale), 'Awaiting a decision');
  await check(stale, 'concern-close-refused');
  await stale.close();

  const share = await work(page, 'team');
  const secret = 'Re-opened: she may be hungry on Mondays; there is fruit in the office.';
  await share.getByRole('group', { name: 'Share with' }).getByLabel(`${known.therapist} (`, { exact: false }).first().check();
  await share.getByLabel('What you share with them').fill(secret);
  await share.getByRole('button', { name: 'Share with the therapist' }).click();
  await page.getByRole('status').filter({ hasText: 'Shared with the therapist: they are told.' }).waitFor();
  await dsl.context.close();

  // The therapist did not raise it: they see its reference, the child and what was shared.
  const therapist = await signedIn('demo-therapist-1');
  await therapist.page.goto(raised.url);
  await therapist.page.getByRole('heading', { name: 'What the DSL shared with you' }).waitFor();
  await therapist.page.getByText(secret).waitFor();
  const text = await therapist.page.locator('main').textContent();
  assert.ok(text.includes(raised.reference));
  for (const hidden of ['I don\'t want to go home tonight', 'family argument', 'arrived hungry and upset', 'The record as submitted']) {
    assert.ok(!text.includes(hidden), `the therapist does not see "${hidden}"`);
  }
  await check(therapist.page, 'concern-shared-only');
  await therapist.context.close();
});

journey('the file goes to a new school: the deadline, the encrypted file with its passphrase shown once, the receipt', { timeout: 300_000 }, async () => {
  assert.ok(known.childUrl, 'runs after the first journey');
  const { context, page } = await signedIn('demo-dsl');
  await page.goto(`${known.childUrl}/chronology`);
  await page.getByRole('button', { name: 'Start the transfer' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await check(page, 'transfer-refused');
  await page.getByLabel('The new school or service').fill('Hillside Academy');
  await page.getByLabel('Their DSL\'s name').fill('R. Patel');
  await page.getByLabel('How to reach them (telephone or secure email; optional)').fill('0113 496 0123');
  await page.getByLabel('The child\'s first day there').fill(london(0).date);
  await page.getByRole('button', { name: 'Start the transfer' }).click();
  await page.waitForURL(/\/transfers\/[0-9a-f-]+\?saved=started$/);
  const facts = page.locator('dl.facts');
  await facts.getByText(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2} \((\d+ school days? in .+'s term calendar|working days: no term calendar for the child's school)\)/).waitFor();
  await facts.getByText('Not sent yet').waitFor();
  await check(page, 'transfer');
  const transferUrl = page.url().split('?')[0];
  const reference = (await page.locator('h1 .reference').textContent()).trim();
  assert.match(reference, /^TR-[0-9A-F]{8}$/);

  await page.getByRole('button', { name: 'Make the encrypted file' }).click();
  await page.getByRole('heading', { name: 'The encrypted file is made' }).waitFor();
  const passphrase = (await page.locator('.passphrase code').textContent()).trim();
  assert.match(passphrase, /^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){5}$/);
  await page.getByText('Give this passphrase to R. Patel separately, by telephone; never in the same email as the file.').waitFor();
  await check(page, 'transfer-passphrase');
  const file = await page.request.get(`${transferUrl}/file`);
  assert.equal(file.status(), 200);
  assert.equal(file.headers()['content-type'], 'application/zip');
  assert.equal(file.headers()['content-disposition'], `attachment; filename="safeguarding-file-${reference}.zip"`);
  const zip = await file.body();
  assert.equal(zip.subarray(0, 2).toString(), 'PK');
  assert.ok(!zip.includes(Buffer.from(passphrase)), 'the passphrase is not in the file');

  await page.goto(transferUrl);
  assert.equal(await page.locator('.passphrase').count(), 0, 'the passphrase is shown only once');
  await page.locator('dl.facts').getByText(/^Sent by .+ on \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/).waitFor();
  await page.getByLabel('Their confirmation').fill('R. Patel confirmed by telephone that the file opened.');
  await page.getByRole('button', { name: 'Record receipt' }).click();
  await page.getByRole('status').filter({ hasText: 'The receipt is recorded.' }).waitFor();
  await page.locator('dl.facts').getByText(/^Receipt confirmed, recorded by .+ on /).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Make the encrypted file' }).count(), 0);
  await check(page, 'transfer-received');

  await page.goto(`${known.childUrl}/chronology`);
  const transfers = page.getByRole('region', { name: 'Transfers of the file' });
  await transfers.getByRole('link', { name: reference }).waitFor();
  const whats = await page.getByRole('region', { name: 'The chronology' }).locator('tbody tr td:nth-child(3)').allTextContents();
  assert.ok(whats.includes('File sent to the new school') && whats.includes('Receipt confirmed'));
  await context.close();
});
