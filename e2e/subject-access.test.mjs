// Subject access (issue 15, policy section 5): a request end to end in the browser. The
// administrator logs a young person's request for a child and records the identity check;
// the due date shows how it was reached. The administrator names a therapist as reviewer;
// the therapist finds the task, opens the file (the child's whole record for this request),
// removes a passage from one item, discloses the rest and finishes the review; the DSL
// reviews any safeguarding material; the service lead reads what the bundle holds, releases
// it, and downloads it as a PDF and as JSON, the removed passage in neither.
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
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  return { context, page };
}

/** Today as London shows it (31/12/2026). */
function today() {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date());
}

/** The value of one of the request's facts. */
async function fact(page, label) {
  return (await page.locator('dl.facts dt', { hasText: label }).first().locator('xpath=following-sibling::dd[1]').textContent()).trim();
}

/** Discloses every item still to decide on the file page, one form at a time. */
async function discloseTheRest(page) {
  for (;;) {
    const article = page.locator('article.sar-item', { hasText: 'Not decided yet.' }).filter({ has: page.locator('form') }).first();
    if (await article.count() === 0) return;
    await article.getByLabel('Disclose', { exact: true }).check();
    // The address stays the same from one decision to the next: wait for the new page itself.
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      article.getByRole('button', { name: /Record the decision/ }).click(),
    ]);
    assert.match(page.url(), /\/file\?saved=decided/);
  }
}

journey('a subject access request from logging to release, a passage removed from the bundle', { timeout: 600_000 }, async () => {
  // The reviewer-to-be: a therapist, by name.
  const reviewer = await signedIn('demo-therapist-2');
  const reviewerName = (await reviewer.page.locator('.signed-in-as').textContent()).trim();

  // The administrator logs the request.
  const admin = await signedIn('demo-admin');
  let page = admin.page;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Subject access' }).click();
  await page.waitForURL(`${base}/subject-access`);
  await check(page, 'sar-list');
  await page.getByRole('link', { name: 'Log a request' }).click();
  await page.goto(`${base}/children`);
  const childName = (await page.getByRole('region', { name: 'Children' }).locator('tbody tr td:first-child a').first().textContent()).trim();
  await page.goto(`${base}/subject-access/new`);
  await page.getByLabel('Name, NHS number or UPN').fill(childName.split(' ')[0]);
  await page.getByRole('button', { name: 'Find the child' }).click();
  await check(page, 'sar-choose-child');
  await page.locator('main ul a').first().click();
  await page.waitForURL(/\/children\/[0-9a-f-]+\/subject-access\/new$/);
  // Nothing chosen: refused, with the fields named.
  await page.getByRole('button', { name: 'Log the request' }).click();
  await page.locator('.error-summary').waitFor();
  await check(page, 'sar-new-errors');
  await page.getByLabel('The young person, for themselves').check();
  await page.getByLabel('The day it was received').fill(today());
  await page.getByLabel('How it arrived (letter, email, in person)').fill('Letter handed in at reception');
  await page.getByRole('button', { name: 'Log the request' }).click();
  await page.waitForURL(/\/subject-access\/[0-9a-f-]+\?saved=logged$/);
  const requestUrl = page.url().split('?')[0];
  const reference = (await page.locator('h1 .reference').textContent()).trim();
  assert.match(reference, /^SAR-[0-9A-F]{8}$/);
  assert.match(await fact(page, 'Where it stands'), /^Logged/);
  assert.match(await fact(page, 'Due'), /^\d{2}\/\d{2}\/\d{4}$/);
  await check(page, 'sar-request-logged');
  await page.getByLabel('How their identity was checked').fill('School ID card seen at reception');
  await page.getByLabel('On what day (31/12/2026)').fill(today());
  await page.getByRole('button', { name: 'Record the checks' }).click();
  await page.waitForURL(/\?saved=checks$/);
  await page.getByLabel('Reviewer', { exact: true }).selectOption({ label: reviewerName });
  await page.getByRole('button', { name: 'Name the reviewer' }).click();
  await page.waitForURL(/\?saved=reviewer$/);
  assert.match(await fact(page, 'Reviewer'), new RegExp(`^${reviewerName}, reading until`));
  // The administrator never opens the record.
  assert.equal(await page.getByRole('link', { name: /Open the file/ }).count(), 0);
  const refused = await page.goto(`${requestUrl}/file`);
  assert.equal(refused.status(), 404);
  await admin.context.close();

  // The reviewer finds the task, reads the record and decides each item.
  page = reviewer.page;
  // The scheduler raises the task within its interval (30 seconds).
  const task = page.getByRole('link', { name: `Review the record for the subject access request ${reference}` });
  for (let tries = 0; tries < 40; tries += 1) {
    await page.goto(`${base}/tasks`);
    if (await task.count() > 0) break;
    await page.waitForTimeout(2_000);
  }
  await task.click();
  await page.getByRole('link', { name: 'Open the record this is about' }).click();
  await page.waitForURL(requestUrl);
  await page.getByRole('link', { name: /Open the file/ }).click();
  await page.waitForURL(`${requestUrl}/file`);
  await check(page, 'sar-file-reviewer');
  // A passage to remove: a part of an item other than the child's and carers' details, found
  // once on the page.
  const chosen = await page.evaluate(() => {
    const all = document.querySelector('main').innerText;
    for (const article of document.querySelectorAll('article.sar-item')) {
      const kind = article.querySelector('.hint')?.textContent ?? '';
      if (/child's details|carer's details/i.test(kind)) continue;
      for (const dd of article.querySelectorAll('dd')) {
        const text = dd.textContent.trim();
        const words = text.split(/\s+/).slice(0, 4).join(' ');
        if (words.length >= 10 && all.split(words).length === 2) {
          return { anchor: article.querySelector('h3').id, passage: words };
        }
      }
    }
    return null;
  });
  assert.ok(chosen, 'an item with a passage to remove');
  const item = page.locator(`article.sar-item:has(h3#${chosen.anchor})`);
  await item.getByLabel('Disclose with passages removed').check();
  await item.getByLabel('Reason (to redact or withhold)').selectOption('third-party');
  await item.getByLabel('Passages to remove, one a line, copied exactly').fill(chosen.passage);
  await item.getByRole('button', { name: /Record the decision/ }).click();
  await page.waitForURL(/\/file\?saved=decided/);
  await check(page, 'sar-file-decided');
  await discloseTheRest(page);
  await page.getByRole('button', { name: 'Finish the review' }).click();
  await page.waitForURL(/\?saved=review-finished$/);
  const stands = await fact(page, 'Where it stands');
  await reviewer.context.close();

  // Any safeguarding material goes to the DSL first.
  const dsl = await signedIn('demo-dsl');
  await dsl.page.goto(requestUrl);
  if (/safeguarding/i.test(await fact(dsl.page, 'Where it stands'))) {
    await dsl.page.getByRole('link', { name: /Open the file/ }).click();
    await check(dsl.page, 'sar-file-dsl');
    await discloseTheRest(dsl.page);
    await dsl.page.getByRole('button', { name: 'Finish the safeguarding review' }).click();
    await dsl.page.waitForURL(/\?saved=dsl-finished$/);
  } else {
    assert.equal(stands, 'Ready to release');
  }
  await dsl.context.close();

  // The service lead reads what the bundle holds, releases it and downloads it.
  const lead = await signedIn('demo-lead');
  page = lead.page;
  await page.goto(requestUrl);
  assert.equal(await fact(page, 'Where it stands'), 'Ready to release');
  await page.getByRole('link', { name: /Open the file/ }).click();
  await check(page, 'sar-file-service-lead');
  const held = await page.locator('main').innerText();
  assert.ok(held.includes('[redacted]'), 'the passage shows as removed');
  assert.ok(!held.includes(chosen.passage), 'the passage is not shown');
  await page.goto(requestUrl);
  await page.getByRole('button', { name: 'Release the bundle to the requester' }).click();
  await page.waitForURL(/\?saved=released$/);
  assert.equal(await fact(page, 'Where it stands'), 'Released');
  await check(page, 'sar-request-released');
  const [pdf] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /Download the bundle as a PDF/ }).click(),
  ]);
  assert.equal(pdf.suggestedFilename(), `subject-access-bundle-${reference}.pdf`);
  const json = await page.request.get(`${requestUrl}/bundle.json`);
  assert.equal(json.status(), 200);
  const text = await json.text();
  assert.ok(text.includes('[redacted]'), 'the JSON shows the removal');
  assert.ok(!text.includes(chosen.passage), 'the passage is not in the JSON');
  await lead.context.close();
});
