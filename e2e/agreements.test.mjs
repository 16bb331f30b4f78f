// The therapy agreement, consent and assent, and the first-session checklist: the lead records
// how the limits of confidentiality were explained and sees it on the child's page; writes
// the agreement in the child's words; records a parent's consent and the child's assent and
// marks it active; prints it; sends a parent a consent link, which the parent opens without
// signing in, answers once, and cannot use again.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;
// Shared by the journeys of this file, which run in order.
const run = Date.now() % 100000;
const added = {
  surname: `Agreefield${run}`,
  childUrl: '',
  agreementUrl: '',
  link: '',
};
const parent = () => `Pat ${added.surname}`;
const stepParent = () => `Kim ${added.surname}`;

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

journey('an administrator adds a child with a parent and a step-parent, and opens a case', async () => {
  const { context, page } = await signedIn('demo-admin');
  await page.goto(`${base}/admin/users?q=demo-therapist-3`);
  const leadName = (await page.locator('tbody tr').first().getByRole('link').textContent()).trim();
  await page.goto(`${base}/children/new`);
  await page.getByLabel('Legal name').fill(`Ruby ${added.surname}`);
  await page.getByLabel('Date of birth').fill('10/05/2018');
  await page.getByLabel('Sex', { exact: true }).selectOption('female');
  await page.getByRole('button', { name: 'Add the child' }).click();
  await page.getByRole('heading', { name: `Ruby ${added.surname}`, exact: true }).waitFor();
  added.childUrl = new URL(page.url()).pathname;

  await page.getByRole('link', { name: 'Add a carer' }).click();
  await page.getByLabel('Name', { exact: true }).fill(parent());
  await page.getByLabel('Relationship to the child').fill('Mother');
  await page.getByLabel('Parental responsibility').selectOption('parent');
  await page.getByLabel('Looks after the child day to day').check();
  await page.getByRole('button', { name: 'Add the carer' }).click();
  await page.getByRole('heading', { name: new RegExp(parent()) }).waitFor();

  await page.getByRole('link', { name: 'Add a carer' }).click();
  await page.getByLabel('Name', { exact: true }).fill(stepParent());
  await page.getByLabel('Relationship to the child').fill('Stepfather');
  await page.getByLabel('Looks after the child day to day').check();
  await page.getByRole('button', { name: 'Add the carer' }).click();
  await page.getByRole('heading', { name: new RegExp(stepParent()) }).waitFor();

  await page.getByRole('link', { name: 'Open a case' }).click();
  await page.getByLabel('Referred by').selectOption('school');
  await page.getByLabel('Lead therapist').selectOption({ label: leadName });
  await page.getByRole('button', { name: 'Open the case' }).click();
  await page.getByText('Referred, not yet seen').first().waitFor();
  await context.close();
});

journey('the lead records how confidentiality was explained and sees it on the child\'s page', async () => {
  assert.ok(added.childUrl, 'runs after the administrator\'s journey');
  const { context, page } = await signedIn('demo-therapist-3');
  await page.goto(`${base}${added.childUrl}`);
  await page.getByText('Limits of confidentiality last explained: Not recorded yet').waitFor();
  await page.getByRole('link', { name: /^First-session checklist for case C\d+$/ }).click();
  await page.getByRole('heading', { name: /^First-session checklist for case C\d+$/ }).waitFor();
  await check(page, 'checklist');

  // Nothing chosen: every problem named, what was typed kept.
  await page.getByLabel('What the child said back, in their own words (optional)').fill('If someone is hurting me you have to tell');
  await page.getByRole('button', { name: 'Record the explanation' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await page.getByText('Choose a topic from the library').first().waitFor();
  await page.getByText('Choose at least one way it was explained').first().waitFor();
  assert.equal(
    await page.getByLabel('What the child said back, in their own words (optional)').inputValue(),
    'If someone is hurting me you have to tell',
    'nothing typed is lost',
  );
  await check(page, 'checklist-errors');

  await page.getByLabel('Topic').selectOption('limits-of-confidentiality');
  const how = page.getByRole('group', { name: 'How it was explained' });
  await how.getByLabel('Spoken').check();
  await how.getByLabel('Handout').check();
  await page.getByRole('group', { name: 'To whom' }).getByLabel('The child and a parent or carer together').check();
  await page.getByRole('button', { name: 'Record the explanation' }).click();
  await page.getByText('Recorded.').waitFor();
  const items = page.getByRole('table', { name: /^Explained so far/ });
  await items.getByRole('cell', { name: 'If someone is hurting me you have to tell' }).waitFor();
  await items.getByRole('cell', { name: 'Spoken, Handout' }).waitFor();
  await check(page, 'checklist-recorded');

  await page.goto(`${base}${added.childUrl}`);
  const today = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London' }).format(new Date());
  await page.getByText(`Limits of confidentiality last explained: ${today}, spoken and handout, to the child and a parent or carer together`).waitFor();
  await check(page, 'child-confidentiality-explained');
  await context.close();
});

journey('the lead writes the agreement in the child\'s words, records consent and assent, marks it active and prints it', async () => {
  assert.ok(added.childUrl, 'runs after the administrator\'s journey');
  const { context, page } = await signedIn('demo-therapist-3');
  await page.goto(`${base}${added.childUrl}`);
  await page.getByRole('link', { name: /^Agreement and consent for case C\d+$/ }).click();
  await page.getByRole('heading', { name: /^Agreement and consent for case C\d+$/ }).waitFor();
  added.agreementUrl = new URL(page.url()).pathname;
  await page.getByText('No version is active yet.').waitFor();
  await check(page, 'agreement');

  // A version without what confidentiality means is refused; what was typed is kept.
  await page.getByLabel("Not hurting yourself, in the child's words").fill("No hurting me, Ruby (that's me)");
  await page.getByLabel('Rules you added together (one per line; optional)').fill('We tidy up together\nShoes off on the rug');
  await page.getByRole('button', { name: 'Save as a draft' }).click();
  await page.getByText('Write what confidentiality means for this child').first().waitFor();
  assert.equal(await page.getByLabel("Not hurting yourself, in the child's words").inputValue(), "No hurting me, Ruby (that's me)");
  await check(page, 'agreement-draft-errors');
  await page.getByLabel('What confidentiality means for this child, in words they understand')
    .fill('What you say here stays here.\nIf someone is hurting you, I have to tell someone whose job is to keep you safe.');
  await page.getByRole('button', { name: 'Save as a draft' }).click();
  await page.getByText('The new version is saved as a draft.').waitFor();
  await page.getByRole('heading', { name: 'Version 1, not yet agreed' }).waitFor();
  await page.getByText("No hurting me, Ruby (that's me)").first().waitFor();

  // Not yet: nothing is recorded, so marking it active is refused, with the reason.
  await page.getByRole('button', { name: 'Mark version 1 active' }).click();
  await page.getByText(/^The agreement cannot be active yet: /).first().waitFor();
  await check(page, 'agreement-activate-refused');

  // The parent's consent, in person, and the child's assent, in her words.
  await page.getByLabel('What is recorded').selectOption('parental-consent');
  await page.getByLabel('The parent or carer (for their consent or objection)').selectOption({ label: `${parent()} (Mother)` });
  await page.getByRole('button', { name: 'Record', exact: true }).click();
  await page.getByText('Recorded.').waitFor();
  await page.getByLabel('What is recorded').selectOption('assent');
  await page.getByLabel("The child's own words (optional)").fill('Yes. I like the rug rule.');
  await page.getByRole('button', { name: 'Record', exact: true }).click();
  await page.getByText('Recorded.').waitFor();
  const entries = page.getByRole('table', { name: /^Consent and assent recorded/ });
  await entries.getByRole('row', { name: /The child agrees \(assent\) \(version 1\)/ }).getByText('Yes. I like the rug rule.').waitFor();
  await page.getByText('Ready (for version 1): the agreement may be marked active.').waitFor();
  await check(page, 'agreement-ready');

  await page.getByRole('button', { name: 'Mark version 1 active' }).click();
  await page.getByText('The agreement is active.').waitFor();
  await page.getByRole('heading', { name: 'Version 1', exact: true }).waitFor();
  await check(page, 'agreement-active');

  // The child's copy to print, and as a PDF.
  await page.getByRole('link', { name: "Print the child's copy of version 1", exact: true }).click();
  await page.getByRole('heading', { name: 'Our agreement' }).waitFor();
  await page.getByText("No hurting me, Ruby (that's me)").waitFor();
  await page.getByText('What you say here stays here.').waitFor();
  await check(page, 'agreement-print');
  const pdf = await page.request.get(base + await page.getByRole('link', { name: 'Download as PDF' }).getAttribute('href'));
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');
  await context.close();
});

journey('the lead sends a consent link; the parent answers once without signing in', async () => {
  assert.ok(added.agreementUrl, 'runs after the agreement journey');
  const lead = await signedIn('demo-therapist-3');
  const { page } = lead;
  await page.goto(`${base}${added.agreementUrl}`);

  // The step-parent has no parental responsibility: no link for him, and the page says why.
  await page.getByLabel('For', { exact: true }).selectOption({ label: `${stepParent()} (Stepfather) (cannot receive a link)` });
  await page.getByRole('button', { name: 'Make a consent link' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await check(page, 'consent-link-refused');

  // A link made and withdrawn stops working.
  await page.getByLabel('For', { exact: true }).selectOption({ label: `${parent()} (Mother)` });
  await page.getByRole('button', { name: 'Make a consent link' }).click();
  const first = page.getByRole('status').filter({ hasText: 'It works once and expires on' });
  await first.waitFor();
  const withdrawn = (await first.locator('code').textContent()).trim();
  await page.goto(`${base}${added.agreementUrl}`);
  await page.getByRole('button', { name: new RegExp(`^Withdraw the link for ${parent()}`) }).click();
  await page.getByText('The link is withdrawn: it no longer works.').waitFor();

  await page.getByLabel('For', { exact: true }).selectOption({ label: `${parent()} (Mother)` });
  await page.getByLabel('Days it works for (1 to 28)').fill('7');
  await page.getByRole('button', { name: 'Make a consent link' }).click();
  const notice = page.getByRole('status').filter({ hasText: `Send this to ${parent()} (Mother). It works once and expires on` });
  await notice.waitFor();
  added.link = (await notice.locator('code').textContent()).trim();
  assert.match(added.link, /^http:\/\/127\.0\.0\.1:\d+\/consent\/ac_[0-9a-f]{64}$/);
  await check(page, 'consent-link-made');
  await page.goto(`${base}${added.agreementUrl}`);
  assert.equal(await page.getByText(added.link).count(), 0, 'the address is shown only once');

  // The parent, in a browser that has never signed in.
  const carer = await browser.newContext();
  const form = await carer.newPage();
  const gone = await form.goto(withdrawn);
  assert.equal(gone.status(), 404, 'a withdrawn link cannot be used');
  await form.getByText('This link cannot be used. It may have been used already or expired.').waitFor();
  // She clicks the link in her webmail: another site, so the browser holds back a
  // SameSite=Strict cookie on any redirect; the page moves on by itself instead.
  await carer.route('http://webmail.example/', (route) => route.fulfill({
    status: 200,
    contentType: 'text/html',
    body: `<!doctype html><title>Inbox</title><a href="${added.link}">Give consent</a>`,
  }));
  await form.goto('http://webmail.example/');
  const opened = form.waitForResponse((r) => r.url() === added.link);
  await form.getByRole('link', { name: 'Give consent' }).click();
  assert.equal((await opened).headers()['cache-control'], 'no-store');
  await form.waitForURL(`${base}/consent`);
  await form.getByRole('heading', { name: 'Consent for Ruby to have therapy' }).waitFor();
  assert.equal(new URL(form.url()).pathname, '/consent', 'the token leaves the address bar');
  const cookies = await carer.cookies();
  const cookie = cookies.find((c) => c.name === 'alliance_consent');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict' && cookie.path === '/consent', 'the token is kept in a strict cookie');
  await check(form, 'consent-form');

  await form.getByLabel('Type your full name to sign').fill(parent());
  await form.getByRole('button', { name: 'Send my answer' }).click();
  await form.getByText('Choose whether you agree to the therapy').first().waitFor();
  assert.equal(await form.getByLabel('Type your full name to sign').inputValue(), parent(), 'nothing typed is lost');
  await check(form, 'consent-form-errors');
  await form.getByLabel('I agree to Ruby having therapy').check();
  await form.getByRole('button', { name: 'Send my answer' }).click();
  await form.getByRole('heading', { name: 'Thank you' }).waitFor();
  await form.getByText('You have agreed to Ruby having therapy.').waitFor();
  assert.equal(await form.getByText(added.surname).count(), 0, 'no more of the child than her first name');
  await check(form, 'consent-thanks');

  const again = await form.goto(added.link);
  assert.equal(again.status(), 404);
  await form.getByText('This link cannot be used. It may have been used already or expired. Please contact the service that sent it.').waitFor();
  await check(form, 'consent-link-used');
  await carer.close();

  // Back on the case: the answer is recorded as given through the link, and the link is used.
  await page.goto(`${base}${added.agreementUrl}`);
  const entries = page.getByRole('table', { name: /^Consent and assent recorded/ });
  const answer = entries.getByRole('row', { name: new RegExp(`Signed: ${parent()}`) });
  await answer.getByRole('cell', { name: 'Through a consent link' }).waitFor();
  await answer.getByRole('cell', { name: 'The carer, through the link' }).waitFor();
  const links = page.getByRole('table', { name: /^Consent links/ });
  await links.getByRole('cell', { name: 'Used', exact: true }).waitFor();
  await links.getByRole('cell', { name: 'Withdrawn', exact: true }).waitFor();
  await check(page, 'agreement-after-link');
  await lead.context.close();
});

journey('the service lead reads the consent and may decide after an objection, but not read the checklist', async () => {
  assert.ok(added.agreementUrl, 'runs after the agreement journey');
  const { context, page } = await signedIn('demo-lead');
  const response = await page.goto(`${base}${added.agreementUrl}`);
  assert.equal(response.status(), 200);
  await page.getByRole('heading', { name: "The service lead's decision after an objection" }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Save as a draft' }).count(), 0, 'only the case team writes the agreement');
  // Nothing to decide: the reasoning is required, and the form says so.
  await page.getByRole('group', { name: 'Decision' }).getByLabel("Service lead's decision: the work may start").check();
  await page.getByRole('button', { name: 'Record the decision' }).click();
  await page.getByText(/^Write the reasoning/).first().waitFor();
  await check(page, 'agreement-service-lead');
  const checklist = await page.goto(`${base}${added.agreementUrl.replace(/agreement$/, 'checklist')}`);
  assert.equal(checklist.status(), 404, 'the checklist is the clinical record');
  await context.close();
});
