// The explanation library: a therapist opens the library and a text, edits it with the
// readability figures changing as they type, and saves a new version, which is kept as a
// draft with its content check shown; a member of staff reads but is not offered the editor.
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

const HARD = 'Notwithstanding the considerable organisational complexities inherent in '
  + 'multidisciplinary safeguarding arrangements, practitioners must communicate '
  + 'confidentiality limitations comprehensively, proportionately and appropriately, '
  + 'recognising the developmental heterogeneity of therapeutic populations.';

journey('a therapist edits a text of the library and sees its reading age as they type', async () => {
  const { context, page } = await signedIn('demo-therapist-1');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Library' }).click();
  await page.getByRole('heading', { name: 'Explanation library', level: 1 }).waitFor();
  const limits = page.getByRole('region', { name: 'When I have to tell someone: texts by audience' });
  const row = limits.getByRole('row', { name: /Young people aged 12 to 15/ });
  assert.ok(await row.getByText('Draft until reviewed by a named clinician').isVisible());
  await check(page, 'library');

  await row.getByRole('link').click();
  await page.waitForURL(`${base}/library/limits-of-confidentiality/12-15`);
  await page.getByRole('heading', { name: 'Readability' }).waitFor();
  assert.ok(await page.getByText('Flesch Reading Ease').isVisible());
  assert.ok(await page.getByText(/Within target/).isVisible());
  assert.ok(await page.getByRole('link', { name: 'Print or PDF' }).isVisible());
  await check(page, 'library-text');

  await page.getByRole('link', { name: 'Edit (save as a new version)' }).click();
  await page.getByRole('heading', { name: /^Edit:/ }).waitFor();
  await check(page, 'library-edit');
  const body = page.getByLabel(/The text/);
  const original = await body.inputValue();
  // Live: a long, complicated sentence is flagged while typing, without a button.
  await body.fill(HARD);
  await page.getByText(/Above target/).waitFor();
  assert.ok(await page.getByText('Under 100 words: formulas unreliable', { exact: false }).isVisible());
  await check(page, 'library-edit-live');

  // Without JavaScript's help too: the Measure button re-shows the page with the figures.
  await body.fill(`${original}\n\nDo not worry, it stays between us.`);
  await page.getByRole('button', { name: 'Measure' }).click();
  await page.getByText(/Within target/).waitFor();
  await check(page, 'library-edit-measured');

  // Saved as a draft, with the forbidden statement shown prominently.
  await page.getByRole('button', { name: 'Save as a new version' }).click();
  await page.waitForURL(/\/library\/limits-of-confidentiality\/12-15\?saved=/);
  await page.getByText(/saved as a draft/).waitFor();
  assert.ok(await page.getByRole('alert').getByText('“between us”').first().isVisible());
  const versions = page.getByRole('region', { name: 'Versions of this text' });
  assert.ok(await versions.getByText('Not published').first().isVisible());
  // A therapist does not publish.
  assert.equal(await page.getByRole('button', { name: /^Publish/ }).count(), 0);
  await check(page, 'library-saved');
  await context.close();
});

journey('a therapist chooses handouts for a child and prints them', async () => {
  const { context, page } = await signedIn('demo-therapist-1');
  await page.getByRole('link', { name: 'Children' }).click();
  await page.getByLabel('Only my caseload').check();
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.locator('tbody tr', { hasText: 'Lead therapist' }).first().getByRole('link').click();
  await page.getByRole('heading', { name: 'Cases' }).waitFor();
  await page.getByRole('link', { name: 'Handouts from the explanation library' }).click();
  await page.getByRole('heading', { name: 'Handouts', exact: true }).waitFor();
  await check(page, 'child-handouts-form');
  // Nothing chosen: a clear error, nothing printed.
  await page.getByRole('button', { name: 'Show the handouts' }).click();
  await page.getByText('Choose at least one topic').first().waitFor();
  await page.getByLabel('When I have to tell someone').check();
  await page.getByLabel('Whose copy').selectOption({ index: 0 });
  await page.getByRole('button', { name: 'Show the handouts' }).click();
  await page.getByText(/^For /).first().waitFor();
  assert.ok(await page.locator('article.handout').count() === 1, 'one handout shown');
  await check(page, 'child-handouts');
  const href = await page.getByRole('link', { name: 'Download these handouts as a PDF' }).getAttribute('href');
  const pdf = await page.request.get(base + href);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');
  await context.close();
});
