// The inbox: the badge on every page, a task with its comments, and marking it done.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
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

test('a therapist sees the task badge, comments on a task and marks it done', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Username').fill('demo-therapist-1');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  // The demo's cases raised tasks when the server's scheduler first ran.
  const tasksLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Tasks/ });
  let badge = '';
  for (let i = 0; i < 50 && !/\d/.test(badge); i += 1) {
    await page.reload();
    badge = (await tasksLink.textContent()) ?? '';
    if (!/\d/.test(badge)) await page.waitForTimeout(200);
  }
  const before = Number((badge.match(/\d+/) ?? ['0'])[0]);
  assert.ok(before > 0, `the badge counts open tasks: "${badge}"`);
  await tasksLink.click();
  await page.getByRole('heading', { name: 'Tasks and notices' }).waitFor();
  await check(page, 'tasks');
  await page.getByRole('link', { name: /^Arrange the first session for case C\d+$/ }).first().click();
  await page.getByRole('button', { name: 'Mark as done' }).waitFor();
  await page.getByRole('button', { name: 'Add the comment' }).click();
  await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
  await check(page, 'task-comment-error');
  await page.getByLabel('Add a comment').fill('Rang the school: first session on Tuesday.');
  await page.getByRole('button', { name: 'Add the comment' }).click();
  await page.getByText('Rang the school: first session on Tuesday.').waitFor();
  await check(page, 'task');
  await page.getByRole('button', { name: 'Mark as done' }).click();
  await page.getByRole('heading', { name: 'Tasks and notices' }).waitFor();
  const after = Number(((await tasksLink.textContent()) ?? '').match(/\d+/)?.[0] ?? '0');
  assert.equal(after, before - 1, 'the badge goes down by one');
  await page.getByRole('link', { name: 'Show done and read ones too' }).click();
  await page.getByRole('cell', { name: 'Done' }).first().waitFor();
  await check(page, 'tasks-all');
  await context.close();
});
