// Journeys through the pages in a real browser (Debian's Chromium, headless, fresh profile).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { check, launch } from './support.mjs';

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

async function signIn(page, username) {
  await page.goto(`${base}/sign-in`);
  await check(page, 'sign-in');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
}

test('a wrong password is refused with the same message as an unknown user', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  for (const username of ['demo-admin', 'nobody-at-all']) {
    await page.goto(`${base}/sign-in`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The username or password is not right.').waitFor();
  }
  await check(page, 'sign-in-refused');
  await context.close();
});

test('an administrator signs in, sees the demo banner, and adds an account', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'demo-admin');
  await page.getByText('Demo service: every person and record here is made up').waitFor();
  const cookies = await context.cookies();
  assert.ok(cookies.some((c) => c.name === '__Host-alliance' && c.httpOnly && c.secure));

  await check(page, 'home-signed-in');
  await page.getByRole('link', { name: 'Staff accounts' }).click();
  await page.getByRole('cell', { name: 'demo-therapist-1' }).waitFor();
  await check(page, 'staff-accounts');
  await page.getByRole('link', { name: 'Add an account' }).click();
  await check(page, 'add-account');
  await page.getByLabel('Username').fill('new.counsellor');
  await page.getByLabel('First password').fill('short');
  await page.getByLabel('Name', { exact: true }).fill('Nia Counsellor');
  await page.getByLabel('Therapist').check();
  await page.getByRole('button', { name: 'Add the account' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await check(page, 'add-account-errors');
  assert.equal(await page.getByLabel('Username').inputValue(), 'new.counsellor', 'nothing typed is lost');

  await page.getByLabel('First password').fill('copper heather lagoon');
  await page.getByRole('button', { name: 'Add the account' }).click();
  await page.getByText('The account was created.').waitFor();
  await page.getByRole('heading', { name: 'Nia Counsellor' }).waitFor();
  await check(page, 'account-created');
  await page.getByRole('link', { name: 'Service' }).click();
  await check(page, 'service');
  await page.getByRole('link', { name: 'Your account' }).click();
  await check(page, 'your-account');
  await page.getByRole('link', { name: 'About' }).click();
  await check(page, 'about');
  await context.close();
});

test('the hide-screen key blanks the page and brings it back', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'demo-therapist-1');
  await page.getByRole('button', { name: 'Hide screen' }).click();
  await page.getByText('The screen is hidden.').waitFor();
  assert.equal(await page.title(), 'Alliance');
  await check(page, 'screen-hidden');
  await page.getByRole('button', { name: 'Show the screen' }).click();
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.getByText('The screen is hidden.').waitFor();
  await context.close();
});

test('signing out ends the session', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'demo-staff');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/sign-in/);
  await page.goto(`${base}/account`);
  await page.waitForURL(/\/sign-in\?next=/);
  await context.close();
});

test('the accessibility check itself finds a known violation', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/about`);
  // An image without a text alternative, added to the page: axe must object.
  await page.evaluate(() => {
    const img = document.createElement('img');
    img.src = '/static/none.png';
    document.querySelector('main').append(img);
  });
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  assert.ok(results.violations.some((v) => v.id === 'image-alt'), 'axe missed a missing alt text');
  await context.close();
});
