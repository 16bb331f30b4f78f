// The child's own goals and carers' feedback links (issue 17, helper C). (1) A therapist opens
// a child they lead, sets two goals in the child's words with the child, rates every open goal
// in one form (0-10 radio buttons, by keyboard and label, no dragging), and sees the first and
// latest ratings with the GBO attribution. (2) From the child's record they open Carers'
// feedback, make a link for a carer who may receive one, and the carer (another browser, no
// account) answers through it: the link moves on to /feedback with a page, the answers are
// sent, and the link then cannot be used again.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, journey, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;
const GBO = 'Goal Based Outcomes (GBO) (c) Duncan Law, CC BY-NC-SA 4.0';

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

/** The children whose case `page`'s therapist leads, as their record's links. */
async function ledChildren(page) {
  await page.goto(`${base}/children?mine=yes&status=active`);
  const links = page.getByRole('region', { name: 'Children' }).locator('tbody tr')
    .filter({ has: page.getByRole('cell', { name: /^Lead/ }) }).getByRole('link');
  const hrefs = [];
  for (const link of await links.all()) hrefs.push(await link.getAttribute('href'));
  return hrefs;
}

journey('a therapist sets two goals with the child and rates them; a carer answers through their link', { timeout: 300_000 }, async () => {
  const { context, page } = await signedIn('demo-therapist-1');
  // A child they lead whose case has room for two more goals.
  let childHref = '';
  for (const href of await ledChildren(page)) {
    await page.goto(`${base}${href}/goals`);
    if ((await page.locator('article.goal').count()) <= 1 && (await page.getByRole('heading', { name: 'Set a goal' }).count())) {
      childHref = href;
      break;
    }
  }
  assert.ok(childHref, 'a child with room for two goals');
  // Reached from the child's record.
  await page.goto(`${base}${childHref}`);
  await page.getByRole('link', { name: 'Goals', exact: true }).click();
  await page.waitForURL(`${base}${childHref}/goals`);
  await page.getByText(GBO).first().waitFor();
  await check(page, 'goals-page');

  // An empty goal is refused, and nothing typed elsewhere is lost.
  await page.getByRole('button', { name: 'Set the goal' }).click();
  await page.getByText("Write the goal in the child's own words").first().waitFor();
  await check(page, 'goals-refused');

  const goals = ['To play at break time without getting into fights', 'To tell Mum when I feel worried'];
  for (const words of goals) {
    const add = page.locator(`form[action="${childHref}/goals"]`);
    await add.getByLabel("The goal, in the child's own words").fill(words);
    await add.getByLabel('The child with the therapist').check();
    await add.getByRole('button', { name: 'Set the goal' }).click();
    await page.getByRole('heading', { name: words, level: 3 }).waitFor();
  }
  await check(page, 'goals-set');

  // Rate every open goal in one form: each goal a fieldset of 0-10 radio buttons.
  const form = page.locator('form[action$="/goals/rate"]');
  for (const [i, words] of goals.entries()) {
    const scale = form.getByRole('group', { name: words });
    await scale.getByLabel(i === 0 ? '3' : '5', { exact: true }).check();
  }
  await form.getByRole('button', { name: 'Save the ratings' }).click();
  await page.waitForURL(`${base}${childHref}/goals`);
  const card = page.locator('article.goal').filter({ has: page.getByRole('heading', { name: goals[1], level: 3 }) });
  await card.getByRole('table', { name: 'Ratings' }).waitFor();
  assert.equal((await card.locator('dd').nth(1).textContent()).trim(), '5');
  // Rated again (by keyboard: the radio's label, then space), the movement shows.
  const scale = page.locator('form[action$="/goals/rate"]').getByRole('group', { name: goals[1] });
  await scale.getByLabel('8', { exact: true }).focus();
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Save the ratings' }).click();
  await page.waitForURL(`${base}${childHref}/goals`);
  const again = page.locator('article.goal').filter({ has: page.getByRole('heading', { name: goals[1], level: 3 }) });
  assert.equal((await again.locator('dd').nth(3).textContent()).trim(), '+3');
  await check(page, 'goals-rated');

  // Carers' feedback, from the child's record.
  await page.goto(`${base}${childHref}`);
  await page.getByRole('link', { name: "Carers' feedback" }).click();
  await page.waitForURL(`${base}${childHref}/carer-feedback`);
  await check(page, 'carer-feedback');
  const make = page.getByRole('button', { name: /^Make a link for / }).first();
  assert.ok(await make.count(), 'a carer who may receive a link');
  await make.click();
  const url = (await page.locator('#new-link').textContent()).trim();
  assert.match(url, /\/feedback\/fb_[0-9a-f]{64}$/);
  await check(page, 'carer-feedback-link-made');

  // The carer: no account, another browser.
  const carerContext = await browser.newContext();
  const carer = await carerContext.newPage();
  await carer.goto(url);
  await carer.waitForURL(`${base}/feedback`);
  await carer.getByRole('button', { name: 'Send my answers' }).waitFor();
  await check(carer, 'carer-feedback-form');
  for (const question of await carer.locator('fieldset').all()) {
    await question.getByLabel('Mostly', { exact: true }).check();
  }
  await carer.getByRole('button', { name: 'Send my answers' }).click();
  await carer.getByRole('heading', { name: 'Thank you' }).waitFor();
  await check(carer, 'carer-feedback-thanks');
  // Used: the link cannot be used again.
  await carer.goto(url);
  await carer.getByRole('heading', { name: 'This link cannot be used' }).waitFor();
  await check(carer, 'carer-feedback-used');
  await carerContext.close();

  await page.reload();
  await page.getByRole('cell', { name: 'Answered' }).first().waitFor();
  await context.close();
});
