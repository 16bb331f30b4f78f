// First-run setup in a real browser: the code printed on the console, the first
// administrator, and their second factor set up from the page (the code computed here as an
// authenticator app would).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';
import { check, launch } from './support.mjs';

const base = process.env.ALLIANCE_FRESH_URL;
const code = process.env.ALLIANCE_SETUP_CODE;

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

function totp(secret, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}

test('first-run setup with the console code, then a second factor', async () => {
  assert.ok(base && code, 'run through e2e/run, which starts a fresh server');
  const browser = await launch(chromium);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base);
  await page.getByRole('link', { name: 'Set up Alliance' }).click();
  await check(page, 'setup');
  await page.getByLabel('One-time set-up code').fill(code);
  await page.getByLabel('Name of the service').fill('Riverside Play Therapy');
  await page.getByLabel('Nation whose rules apply').selectOption('wales');
  await page.getByLabel('Your name').fill('Ada Lovelace');
  await page.getByLabel('Username').fill('ada');
  await page.getByLabel(/^Password/).fill('lantern orchard pebble');
  await page.getByLabel('Service lead').check();
  await page.getByRole('button', { name: 'Create the account' }).click();

  await page.getByRole('heading', { name: 'Set up your second factor' }).waitFor();
  await check(page, 'second-factor');
  const secret = (await page.locator('code.reference').textContent()).trim();
  await page.getByLabel('The 6-digit code from the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on the second factor' }).click();
  await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
  await check(page, 'recovery-codes');
  assert.equal(await page.locator('ul.codes li').count(), 10);
  await page.getByRole('link', { name: /continue/ }).click();
  await page.getByText('Welcome, Ada Lovelace.').waitFor();
  await page.getByRole('heading', { name: 'Riverside Play Therapy' }).waitFor();
  // The setup page is gone once someone has an account.
  const again = await page.goto(`${base}/setup`);
  assert.equal(again.status(), 404);
  await browser.close();
});
