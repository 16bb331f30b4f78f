// The measure library (issue 17). (1) An administrator opens the library, pastes a new version
// of Alliance's teenage check-in with a mistake (refused, every problem listed by its path,
// nothing lost from the text area), fixes it and sees the new version's page; opens the page
// to load a licensed measure's wording. (2) A therapist reads the library and a licensed
// measure's page (structure only, "licensed wording, not shipped"), and cannot add.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;
const seen = { version: 0 };

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

const shipped = readFileSync(new URL('../crates/alliance-core/data/measures/alliance-checkin-teen.toml', import.meta.url), 'utf8');

journey('an administrator adds a new version of a measure, refused first with its problems by path', { timeout: 240_000 }, async () => {
  const { context, page } = await signedIn('demo-admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Measures' }).click();
  await page.getByRole('heading', { name: 'Measures', level: 1 }).waitFor();
  const table = page.getByRole('table', { name: 'Measures' });
  await table.getByRole('link', { name: 'Session Rating Scale (SRS), version 1' }).waitFor();
  // The newest version of the teenage check-in so far (a rerun against the same data adds the next).
  const names = await table.getByRole('link', { name: /^Alliance check-in \(10 and over\), version \d+$/ }).allTextContents();
  seen.version = Math.max(...names.map((n) => Number(n.match(/version (\d+)$/)[1]))) + 1;
  await check(page, 'measures-list-admin');

  await page.getByRole('link', { name: 'Add a definition' }).click();
  await page.getByRole('heading', { name: 'Add a measure definition', level: 1 }).waitFor();
  await check(page, 'measures-new');
  const mistaken = shipped
    .replace('version = 1', `version = ${seen.version}`)
    .replace('total_max = 20', 'total_max = 30')
    .replace('id = "say"', 'id = "myself"');
  await page.getByLabel('The definition').fill(mistaken);
  await page.getByRole('button', { name: 'Add the definition' }).click();
  const problems = page.getByRole('alert');
  await problems.getByText('There is a problem: the file was not added').waitFor();
  await problems.getByText('scoring.total_min', { exact: true }).waitFor();
  await problems.getByText('items[4].id', { exact: true }).waitFor();
  assert.equal(await page.getByLabel('The definition').inputValue(), mistaken.replace(/\r\n/g, '\n'), 'nothing pasted is lost');
  await check(page, 'measures-new-refused');

  await page.getByLabel('The definition').fill(shipped.replace('version = 1', `version = ${seen.version}`));
  await page.getByRole('button', { name: 'Add the definition' }).click();
  await page.waitForURL(new RegExp(`/measures/alliance-checkin-teen/${seen.version}\\?done=added$`));
  await page.getByRole('status').getByText('The definition was added.').waitFor();
  await page.getByRole('heading', { name: `Alliance check-in (10 and over), version ${seen.version}`, level: 1 }).waitFor();
  await page.getByText('Not validated: this measure has no published psychometric validation.').waitFor();
  await page.getByText('No cut-off: a rule that needs one is off for this measure.').waitFor();
  await check(page, 'measures-detail-added');

  // A licensed measure: structure only, and the page to load its wording.
  await page.goto(`${base}/measures/ors/1`);
  await page.getByText('Licensed wording, not shipped: a licensed service loads it from its own file.').first().waitFor();
  const cutoffs = page.getByRole('table', { name: 'Cut-offs' });
  await cutoffs.getByRole('row').filter({ hasText: 'Ages 13 to 17' }).filter({ hasText: 'Flagged below 28' }).waitFor();
  await cutoffs.getByRole('row').filter({ hasText: 'Ages 18 and over' }).filter({ hasText: 'Flagged below 25' }).waitFor();
  await check(page, 'measures-detail-ors-admin');
  await page.getByRole('link', { name: 'Load the wording' }).first().click();
  await page.getByRole('heading', { name: 'Load the wording: Outcome Rating Scale (ORS), version 1', level: 1 }).waitFor();
  await check(page, 'measures-wording');
  await page.getByLabel('The wording').fill('measure = "ors"\nversion = 1\n[items]\nindividual = "x"\n');
  await page.getByRole('button', { name: 'Load the wording' }).click();
  await page.getByRole('alert').getByText('items.overall', { exact: true }).waitFor();
  await check(page, 'measures-wording-refused');
  await context.close();
});

journey('a therapist reads the measure library and cannot add to it', { timeout: 180_000 }, async () => {
  const { context, page } = await signedIn('demo-therapist-1');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Measures' }).click();
  const table = page.getByRole('table', { name: 'Measures' });
  await table.getByRole('link', { name: 'Goal-Based Outcomes (GBO), version 1' }).waitFor();
  if (seen.version) {
    await table.getByRole('link', { name: `Alliance check-in (10 and over), version ${seen.version}` }).waitFor();
  }
  assert.equal(await page.getByRole('link', { name: 'Add a definition' }).count(), 0);
  await check(page, 'measures-list-therapist');
  await table.getByRole('link', { name: 'Goal-Based Outcomes (GBO), version 1' }).click();
  await page.getByText('Goal Based Outcomes (GBO) (c) Duncan Law, CC BY-NC-SA 4.0').first().waitFor();
  await check(page, 'measures-detail-gbo');
  await page.goto(`${base}/measures/srs/1`);
  await page.getByText('Licensed wording, not shipped: a licensed service loads it from its own file.').first().waitFor();
  assert.equal(await page.getByRole('link', { name: 'Load the wording' }).count(), 0);
  await check(page, 'measures-detail-srs-therapist');
  const refused = await page.goto(`${base}/measures/new`);
  assert.equal(refused.status(), 403);
  await context.close();
});
