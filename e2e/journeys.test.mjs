// Journeys through the pages in a real browser (Debian's Chromium, headless, fresh profile).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const base = process.env.ALLIANCE_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;

before(async () => {
  assert.ok(base && password, 'run through e2e/run, which starts the server');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

async function signIn(page, username) {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
}

test('a wrong password is refused with the same message as an unknown user', async () => {
  const page = await browser.newPage();
  for (const username of ['demo-admin', 'nobody-at-all']) {
    await page.goto(`${base}/sign-in`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The username or password is not right.').waitFor();
  }
  await page.close();
});

test('an administrator signs in, sees the demo banner, and adds an account', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'demo-admin');
  await page.getByText('Demo service: every person and record here is made up').waitFor();
  const cookies = await context.cookies();
  assert.ok(cookies.some((c) => c.name === '__Host-alliance' && c.httpOnly && c.secure));

  await page.getByRole('link', { name: 'Staff accounts' }).click();
  await page.getByRole('cell', { name: 'demo-therapist-1' }).waitFor();
  await page.getByRole('link', { name: 'Add an account' }).click();
  await page.getByLabel('Username').fill('new.counsellor');
  await page.getByLabel('First password').fill('short');
  await page.getByLabel('Name', { exact: true }).fill('Nia Counsellor');
  await page.getByLabel('Therapist').check();
  await page.getByRole('button', { name: 'Add the account' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  assert.equal(await page.getByLabel('Username').inputValue(), 'new.counsellor', 'nothing typed is lost');

  await page.getByLabel('First password').fill('copper heather lagoon');
  await page.getByRole('button', { name: 'Add the account' }).click();
  await page.getByText('The account was created.').waitFor();
  await page.getByRole('heading', { name: 'Nia Counsellor' }).waitFor();
  await context.close();
});

test('the hide-screen key blanks the page and brings it back', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'demo-therapist-1');
  await page.getByRole('button', { name: 'Hide screen' }).click();
  await page.getByText('The screen is hidden.').waitFor();
  assert.equal(await page.title(), 'Alliance');
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
