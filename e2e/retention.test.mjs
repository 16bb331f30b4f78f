// Retention and destruction (issue 15). An administrator adds a child who died in 2014: after
// a death the clinical record is kept 10 years, so the report of records past their date lists
// it, and the child's retention page gives each class's date, the rule in plain words and its
// sources (the safeguarding records are not there for the administrator). The service lead
// sets a legal hold with its reason; the administrator then sees only "On hold", and cannot ask
// for a destruction. The hold lifted, the administrator asks for the clinical record to be
// destroyed and cannot approve it; the service lead approves it from the report; the child's
// page then says when it was destroyed. The DSL sees the safeguarding records' date and flags
// them for the 75-year rule; the retention rules are shown with their sources.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;

const holdReason = 'Solicitor\'s letter of 20/11/2026: a claim about the care given is expected';

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

/** Today as London shows it: 31/12/2026. */
function today() {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date());
}

/** The value beside a term of a `dl.facts` within `scope`. */
async function fact(scope, term) {
  return (await scope.locator('dl.facts dt', { hasText: term }).first().locator('xpath=following-sibling::dd[1]').textContent()).trim();
}

journey('a record past its date is held, released, asked for by the administrator and destroyed with the service lead\'s approval', { timeout: 300_000 }, async () => {
  // The administrator adds the child.
  const admin = await signedIn('demo-admin');
  let page = admin.page;
  await page.goto(`${base}/children/new`);
  const name = `Oliver Grant${Date.now() % 100000}`;
  await page.getByLabel('Legal name').fill(name);
  await page.getByLabel('Date of birth').fill('01/01/2005');
  await page.getByLabel('Sex', { exact: true }).selectOption('male');
  await page.getByLabel('Date of death, if it applies').fill('01/06/2014');
  await page.getByRole('button', { name: 'Add the child' }).click();
  await page.waitForURL(/\/children\/[0-9a-f-]+(\?.*)?$/);
  const retentionUrl = `${new URL(page.url()).pathname}/retention`;

  // The report lists its clinical record and process notes, past their date.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Retention' }).click();
  await page.getByRole('heading', { name: 'Records past their retention date' }).waitFor();
  const rows = page.getByRole('region', { name: 'Past their date' }).locator('tbody tr', { hasText: name });
  assert.equal(await rows.count(), 2, 'the clinical record and the process notes');
  assert.match(await rows.first().textContent(), /01\/06\/2024/);
  await check(page, 'retention-report-admin');
  await rows.first().getByRole('link', { name }).click();
  await page.getByRole('heading', { name: `How long ${name}'s records are kept` }).waitFor();
  const clinical = page.getByRole('region', { name: 'Clinical record' });
  assert.match(await fact(clinical, 'Kept until'), /^01\/06\/2024 past its date/);
  assert.equal(await fact(clinical, 'Rule'), 'After a death (rule e)');
  assert.match(await fact(clinical, 'Why'), /died on 01\/06\/2014/);
  assert.ok(await clinical.getByRole('link', { name: /Records Management Code of Practice/ }).count() > 0, 'its source');
  assert.equal(await page.getByRole('heading', { name: 'Safeguarding records' }).count(), 0, 'not for an administrator');
  assert.equal(await page.getByRole('heading', { name: 'Legal holds' }).count(), 0);
  await check(page, 'retention-child-admin');

  // The service lead sets a legal hold.
  const lead = await signedIn('demo-lead');
  await lead.page.goto(`${base}${retentionUrl}`);
  await lead.page.getByRole('button', { name: 'Set a legal hold' }).click();
  await lead.page.getByText('Give the reason (at least 10 characters)').first().waitFor();
  await check(lead.page, 'retention-hold-refused');
  await lead.page.getByLabel('Why the records must be kept (a legal hold)').fill(holdReason);
  await lead.page.getByRole('button', { name: 'Set a legal hold' }).click();
  await lead.page.getByText('The legal hold is set').waitFor();
  assert.equal(await fact(lead.page.locator('main'), 'Destruction'), 'A legal hold is set');
  assert.ok(await lead.page.getByText(holdReason).count() > 0, 'the service lead sees why');
  await check(lead.page, 'retention-child-held');

  // The administrator: "On hold", never why, and nothing to ask for.
  await page.reload();
  assert.equal(await fact(page.locator('main'), 'Destruction'), 'On hold');
  assert.equal(await page.getByText('Solicitor').count(), 0);
  assert.equal(await page.getByRole('button', { name: /Ask for the/ }).count(), 0);
  await check(page, 'retention-child-on-hold');

  // Lifted, with its reason.
  await lead.page.getByLabel('Why the legal hold can be lifted').fill('The claim was withdrawn on 25/11/2026');
  await lead.page.getByRole('button', { name: 'Lift the legal hold' }).click();
  await lead.page.getByText('The legal hold is lifted.').waitFor();

  // The administrator asks; they may not approve.
  await page.reload();
  assert.equal(await fact(page.locator('main'), 'Destruction'), 'Nothing holds it');
  await page.getByRole('button', { name: 'Ask for the clinical record to be destroyed' }).click();
  await page.waitForURL(/\/retention\/destructions\/[0-9a-f-]+\?saved=requested$/);
  assert.equal(await fact(page.locator('main'), 'Where it stands'), 'Awaiting approval');
  assert.equal(await page.getByRole('button', { name: 'Approve and destroy' }).count(), 0);
  await page.getByText('You cannot approve this: only the service lead or the DSL approves a destruction.').waitFor();
  const reference = (await page.locator('h1 .reference').textContent()).trim();
  assert.match(reference, /^DR-[0-9A-F]{8}$/);
  await check(page, 'destruction-requested');

  // The service lead approves it from the report.
  await lead.page.goto(`${base}/retention/report`);
  await lead.page.getByRole('region', { name: 'Destructions awaiting approval' }).getByRole('link', { name: reference }).click();
  await lead.page.getByRole('heading', { name: /Destruction of the clinical record/ }).waitFor();
  await check(lead.page, 'destruction-to-approve');
  await lead.page.getByRole('button', { name: 'Approve and destroy' }).click();
  await lead.page.waitForURL(/\?saved=destroyed$/);
  assert.equal(await fact(lead.page.locator('main'), 'Where it stands'), `Destroyed on ${today()} under the retention policy`);
  await check(lead.page, 'destruction-done');

  // The child's page says when; the report no longer lists it.
  await page.goto(`${base}${retentionUrl}`);
  await page.getByRole('region', { name: 'Clinical record' }).getByText(`Destroyed on ${today()} under the retention policy (${reference})`).waitFor();
  await check(page, 'retention-child-destroyed');
  await page.goto(`${base}/retention/report`);
  assert.equal(await page.locator('tbody tr', { hasText: name }).count(), 1, 'only the process notes are left');
  await admin.context.close();
  await lead.context.close();

  // The DSL sees the safeguarding records' date, and flags them for the 75-year rule.
  const dsl = await signedIn('demo-dsl');
  page = dsl.page;
  await page.goto(`${base}${retentionUrl}`);
  const safeguarding = page.getByRole('region', { name: 'Safeguarding records' });
  assert.equal(await fact(safeguarding, 'Kept until'), '01/01/2030 (then reviewed)');
  await check(page, 'retention-child-dsl');
  await page.getByRole('group', { name: 'Keep this child\'s safeguarding records for 75 years?' }).getByLabel('Yes: flag them for the 75-year rule').check();
  await page.getByRole('button', { name: 'Save the flag' }).click();
  await page.getByText('The flag is saved.').waitFor();
  assert.equal(await fact(page.getByRole('region', { name: 'Safeguarding records' }), 'Rule'), 'Child sexual abuse or exploitation (rule d)');

  // The rules and their sources.
  await page.goto(`${base}/retention/settings`);
  await page.getByRole('heading', { name: 'Retention rules' }).waitFor();
  assert.ok(await page.getByRole('link', { name: /retention of child protection information/ }).count() > 0);
  await check(page, 'retention-settings-dsl');
  await dsl.context.close();
});

journey('an administrator keeps the retention settings, refused field by field', { timeout: 120_000 }, async () => {
  const { context, page } = await signedIn('demo-admin');
  await page.goto(`${base}/retention/settings`);
  await check(page, 'retention-settings-admin');
  await page.getByLabel('Mental-health records: years kept after the end').fill('none');
  await page.getByRole('button', { name: 'Save the retention settings' }).click();
  await page.getByText('Enter a whole number').first().waitFor();
  assert.equal(await page.getByLabel('Mental-health records: years kept after the end').inputValue(), 'none', 'what was typed is kept');
  await check(page, 'retention-settings-refused');
  await page.getByLabel('Mental-health records: years kept after the end').fill('20');
  await page.getByRole('button', { name: 'Save the retention settings' }).click();
  await page.getByText('The retention settings are saved.').waitFor();
  await context.close();
});
