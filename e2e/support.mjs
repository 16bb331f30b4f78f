// Shared by the journeys: launching Debian's Chromium and checking each page.
import assert from 'node:assert/strict';
import { AxeBuilder } from '@axe-core/playwright';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const out = process.env.ALLIANCE_E2E_OUT ?? 'target/e2e';
mkdirSync(out, { recursive: true });
let step = 0;

export function launch(chromium) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Every page a journey reaches: a screenshot, its HTML, and axe-core's WCAG 2.2 A and AA
// checks, which must find nothing. The report gathers every file's pages.
export async function check(page, name) {
  step += 1;
  const stem = join(out, `${process.pid}-${String(step).padStart(3, '0')}-${name}`);
  await page.screenshot({ path: `${stem}.png`, fullPage: true });
  writeFileSync(`${stem}.html`, await page.content());
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  const reportFile = join(out, 'accessibility.json');
  const report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : [];
  report.push({ name, url: page.url(), violations: results.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })) });
  writeFileSync(reportFile, JSON.stringify(report, null, 2));
  assert.deepEqual(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `accessibility of ${name}`);
}
