// Sessions and the keyboard: a form submitted after the session timed out is kept and saved
// after signing in again; and a journey done with the keyboard alone, focus always visible.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, launch } from './support.mjs';

const base = process.env.ALLIANCE_URL;
const short = process.env.ALLIANCE_SHORT_URL;
const password = process.env.ALLIANCE_DEMO_PASSWORD;
let browser;

before(async () => {
  assert.ok(base && short && password, 'run through e2e/run, which starts the servers');
  browser = await launch(chromium);
});

after(async () => {
  await browser?.close();
});

async function signIn(page, url, username) {
  await page.goto(`${url}/sign-in`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}/`);
}

test('a form submitted after the idle timeout is kept and saved after signing in again', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, short, 'demo-admin');
  await page.goto(`${short}/sites/new`);
  const name = `Timeout Clinic ${Date.now() % 100000}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Kind of site').selectOption('clinic');
  // This server signs people out after one idle minute.
  await page.waitForTimeout(62_000);
  await page.getByRole('button', { name: 'Add the site' }).click();
  await page.getByText('You were signed out before your changes were saved').waitFor();
  await check(page, 'sign-in-kept-form');
  await page.getByLabel('Username').fill('demo-admin');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Save your changes' }).waitFor();
  await page.getByText(name).first().waitFor();
  await check(page, 'resume-kept-form');
  await page.getByRole('button', { name: 'Save these changes' }).click();
  await page.getByRole('heading', { name }).waitFor();
  await page.getByText('Saved.').waitFor();
  await context.close();
});

/** Presses Tab until the focused element matches `test` (at most `limit` presses). */
async function tabTo(page, description, test, limit = 60) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    const found = await page.evaluate(test);
    if (found) {
      const visible = await page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
        return outline || (style.boxShadow && style.boxShadow !== 'none');
      });
      assert.ok(visible, `focus is visible on ${description}`);
      return;
    }
  }
  assert.fail(`Tab never reached ${description}`);
}

test('signing in, finding a child and opening their case by keyboard alone', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await tabTo(page, 'the username field', () => document.activeElement?.id === 'username');
  await page.keyboard.type('demo-therapist-1');
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/`);
  await tabTo(page, 'the Children link', () => document.activeElement?.textContent?.trim() === 'Children');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Children' }).waitFor();
  await check(page, 'children-by-keyboard');
  await tabTo(page, 'the first child', () => document.activeElement?.closest('tbody') !== null);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Cases' }).waitFor();
  await tabTo(page, 'a case link', () => /^(Manage case|Case) C\d+$/.test(document.activeElement?.textContent?.trim() ?? ''));
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: /^Case C\d+$/ }).waitFor();
  await check(page, 'case-by-keyboard');
  await tabTo(page, 'the Hide screen button', () => document.activeElement?.id === 'hide-screen');
  await context.close();
});
