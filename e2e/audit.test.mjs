// The audit pages (issue 15, policy section 1 row "audit trail"). (1) The service lead reads a
// child's trail, safeguarding rows among them, in words and London times, and filters it; the
// DSL reads it too; a therapist on the child's team has no link to it and is answered "not
// found". (2) The administrator's view: ids and actions, no safeguarding row, filters that
// name a bad date, and paging. (3) Each person's own activity, from their account.
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

journey('the service lead and the DSL read a child\'s trail; the child\'s therapist may not', { timeout: 240_000 }, async () => {
  // A child on a therapist's caseload.
  const therapist = await signedIn('demo-therapist-1');
  await therapist.page.goto(`${base}/children?mine=yes&status=active`);
  await therapist.page.getByRole('region', { name: 'Children' }).locator('tbody tr td:first-child a').first().click();
  await therapist.page.getByRole('heading', { name: 'Cases' }).waitFor();
  const childUrl = therapist.page.url();
  assert.equal(await therapist.page.getByRole('link', { name: 'The child\'s audit trail' }).count(), 0);
  const refused = await therapist.page.request.get(`${childUrl}/audit`);
  assert.equal(refused.status(), 404);

  const lead = await signedIn('demo-lead');
  const { page } = lead;
  await page.goto(childUrl);
  await page.getByRole('link', { name: 'The child\'s audit trail' }).click();
  await page.getByRole('heading', { name: 'The child\'s audit trail', level: 1 }).waitFor();
  const table = page.getByRole('region', { name: 'The child\'s audit trail' });
  await table.getByRole('cell', { name: 'Child\'s record opened' }).first().waitFor();
  // The refusal a moment ago is there, by the therapist, with a London time.
  const therapistName = (await therapist.page.locator('.signed-in-as').textContent()).trim();
  const refusal = table.locator('tbody tr').filter({ hasText: 'Refused' }).filter({ hasText: therapistName }).first();
  await refusal.waitFor();
  assert.match((await refusal.locator('td').first().textContent()).trim(), /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/);
  await check(page, 'audit-child-service-lead');
  await page.getByLabel('What').selectOption({ label: 'Child\'s record opened' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/action=child\.read/);
  const whats = await table.locator('tbody tr td:nth-child(3)').allTextContents();
  assert.ok(whats.length > 0 && whats.every((w) => w.trim().startsWith('Child\'s record opened')), whats.join(' | '));
  await page.getByLabel('From (like 31/12/2026)').fill('31/02/2026');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await check(page, 'audit-child-bad-filter');
  await lead.context.close();
  await therapist.context.close();

  const dsl = await signedIn('demo-dsl');
  await dsl.page.goto(`${childUrl}/audit`);
  await dsl.page.getByRole('heading', { name: 'The child\'s audit trail', level: 1 }).waitFor();
  await check(dsl.page, 'audit-child-dsl');
  await dsl.context.close();
});

journey('the administrator reads ids and actions, never a safeguarding row', { timeout: 240_000 }, async () => {
  const { context, page } = await signedIn('demo-admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit trail' }).click();
  await page.getByRole('heading', { name: 'Audit trail', level: 1 }).waitFor();
  const table = page.getByRole('region', { name: 'Audit trail' });
  await table.locator('tbody tr').first().waitFor();
  const text = await table.textContent();
  assert.ok(!/concern\./.test(text), 'no concern rows');
  await check(page, 'audit-administrators');
  await page.getByLabel('What').selectOption({ label: 'Safeguarding concern submitted' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByText('Nothing recorded matches.').waitFor();
  await page.getByLabel('What').selectOption({ label: 'Anything' });
  await page.getByLabel('To').fill('not a date');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await check(page, 'audit-administrators-bad-filter');
  await page.goto(`${base}/admin/audit`);
  await page.getByRole('link', { name: 'Older entries' }).click();
  await page.waitForURL(/after=\d+/);
  await table.locator('tbody tr').first().waitFor();
  await context.close();
});

journey('each person reads their own activity', { timeout: 120_000 }, async () => {
  const { context, page } = await signedIn('demo-therapist-2');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Your account' }).click();
  await page.getByRole('link', { name: 'Your activity: everything you have done in Alliance' }).click();
  await page.getByRole('heading', { name: 'Your activity', level: 1 }).waitFor();
  await page.getByRole('region', { name: 'Your activity' }).getByRole('cell', { name: 'Signed in' }).first().waitFor();
  await check(page, 'audit-own-activity');
  await context.close();
});
