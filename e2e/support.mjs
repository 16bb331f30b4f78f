// Shared by the journeys: launching Debian's Chromium, checking each page, and keeping the
// evidence of a failed journey.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { AxeBuilder } from '@axe-core/playwright';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const out = process.env.ALLIANCE_E2E_OUT ?? 'target/e2e';
mkdirSync(out, { recursive: true });
let step = 0;

// Every browser launched here and still running, so a failed journey can photograph its pages.
const browsers = new Set();

export async function launch(chromium) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  browsers.add(browser);
  browser.on('disconnected', () => browsers.delete(browser));
  return browser;
}

// A browser a failed journey left open would keep its test file from ever ending.
after(async () => {
  await Promise.all([...browsers].map((browser) => browser.close().catch(() => {})));
});

// A journey is node:test's `test` that, when its body throws, first saves a screenshot and the
// HTML of every page still open in every browser launched here, as
// `<pid>-FAILED-<name>-<n>.png` and `.html`, then fails with the original error.
//   journey(name, fn)            fn(t) is the test body, given node:test's TestContext
//   journey(name, options, fn)   options as node:test's `test` takes them (timeout, skip, ...)
export function journey(name, options, fn) {
  if (typeof options === 'function') [options, fn] = [{}, options];
  return test(name, options, async (t) => {
    try {
      return await fn(t);
    } catch (error) {
      await keepEvidence(name);
      throw error;
    }
  });
}

async function keepEvidence(name) {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'journey';
  let n = 0;
  for (const browser of browsers) {
    for (const context of browser.contexts()) {
      for (const page of context.pages()) {
        if (page.isClosed()) continue;
        n += 1;
        const stem = join(out, `${process.pid}-FAILED-${slug}-${n}`);
        try {
          writeFileSync(`${stem}.html`, `<!-- ${page.url().replace(/--/g, '%2D%2D')} -->\n${await page.content()}`);
        } catch (e) {
          writeFileSync(`${stem}.html`, `<!-- could not read the page: ${String(e.message).replace(/--/g, '- -')} -->\n`);
        }
        try {
          await page.screenshot({ path: `${stem}.png`, fullPage: true, timeout: 10_000 });
        } catch {
          // A page that cannot be photographed still has its HTML above.
        }
      }
    }
  }
}

// The WCAG 2.2 checks axe cannot make, run in the page. Self-contained (it is sent to the
// page as source): `phase` picks the check, and the helpers are shared between them.
function audit({ phase, width }) {
  const describe = (el) => {
    if (!el || el.nodeType !== 1) return String(el);
    let s = el.tagName.toLowerCase();
    if (el.id) s += `#${el.id}`;
    else if (el.classList.length) s += `.${[...el.classList].join('.')}`;
    else if (el.getAttribute('name')) s += `[name="${el.getAttribute('name')}"]`;
    // A name to recognise it by, never a typed value (it may be a password).
    const label = el.getAttribute('aria-label')
      || (el.labels && el.labels.length ? el.labels[0].textContent : '')
      || (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' ? '' : el.textContent)
      || '';
    const text = label.replace(/\s+/g, ' ').trim();
    if (text) s += ` "${text.length > 40 ? `${text.slice(0, 39)}…` : text}"`;
    return s;
  };
  const px = (n) => Math.round(n * 10) / 10;
  const targetSelector = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, '
    + '[role="button"], [tabindex]:not([tabindex^="-"])';
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({ visibilityProperty: true });
  };

  if (phase === 'static') {
    const found = { dragging: [], targetSize: [], paste: [] };

    // 2.5.7 Dragging movements: nothing is made draggable or listens for drags.
    for (const el of document.querySelectorAll('*')) {
      if (el.getAttribute('draggable') === 'true') found.dragging.push(`${describe(el)} is draggable`);
      const handlers = [...el.attributes].map((a) => a.name).filter((n) => /^on(drag|drop)/.test(n));
      if (handlers.length) found.dragging.push(`${describe(el)} listens for ${handlers.join(', ')}`);
    }

    // 2.5.8 Target size (minimum): 24 by 24 CSS px, unless inline in a sentence or spaced so
    // that a 24 px square centred on it touches no other target (nor another small target's
    // square).
    const targets = [...document.querySelectorAll(targetSelector)].filter(shown)
      .map((el) => ({ el, r: el.getBoundingClientRect() }));
    const small = (t) => t.r.width < 24 - 0.01 || t.r.height < 24 - 0.01;
    const square = (r) => {
      const cx = r.left + r.width / 2;
      const cy = r.top + r.height / 2;
      return { left: cx - 12, right: cx + 12, top: cy - 12, bottom: cy + 12 };
    };
    const meets = (a, b) => a.left < b.right - 0.01 && b.left < a.right - 0.01
      && a.top < b.bottom - 0.01 && b.top < a.bottom - 0.01;
    const blockOf = (el) => {
      let p = el.parentElement;
      while (p && p !== document.body && /^(inline|contents)/.test(getComputedStyle(p).display)) p = p.parentElement;
      return p;
    };
    const inSentence = (el) => {
      if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
      const block = blockOf(el);
      if (!block) return false;
      const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim()) continue;
        const owner = node.parentElement;
        if (owner.closest(targetSelector) && block.contains(owner.closest(targetSelector))) continue;
        if (!owner.checkVisibility({ visibilityProperty: true })) continue;
        return true;
      }
      return false;
    };
    for (const t of targets) {
      if (!small(t) || inSentence(t.el)) continue;
      const mine = square(t.r);
      const crowding = targets.filter((o) => o !== t && !o.el.contains(t.el) && !t.el.contains(o.el)
        && (meets(mine, o.r) || (small(o) && !inSentence(o.el) && meets(mine, square(o.r)))));
      if (crowding.length) {
        found.targetSize.push(`${describe(t.el)} is ${px(t.r.width)}×${px(t.r.height)} CSS px and too close to `
          + `${crowding.slice(0, 3).map((o) => describe(o.el)).join(', ')}`);
      }
    }

    // 3.3.8 Accessible authentication: passwords and codes may be pasted.
    const secrets = document.querySelectorAll('input[type="password"], input[autocomplete~="one-time-code"], '
      + 'input[name*="code" i]:not([type="hidden"]):not([type="checkbox"]):not([type="radio"]), '
      + 'input[id*="code" i]:not([type="hidden"]):not([type="checkbox"]):not([type="radio"])');
    for (const el of secrets) {
      const blocker = el.closest('[onpaste]');
      if (blocker) found.paste.push(`${describe(el)}: ${blocker === el ? 'it has' : `${describe(blocker)} has`} an onpaste attribute`);
      const paste = new ClipboardEvent('paste', { bubbles: true, cancelable: true, composed: true, clipboardData: new DataTransfer() });
      el.dispatchEvent(paste);
      if (paste.defaultPrevented) found.paste.push(`${describe(el)} refuses a paste (the paste event was cancelled)`);
    }
    return found;
  }

  if (phase === 'focus-start') {
    // Each Tab's keydown, before focus moves on, looks at the element the last Tab focused
    // (by then the browser has scrolled it into view); `focus-end` looks at the last one.
    const walk = { before: document.activeElement, x: scrollX, y: scrollY, seen: new Set(), problems: [], done: false };
    walk.look = () => {
      const el = document.activeElement;
      if (walk.done || el === walk.start) return;
      walk.start.remove();
      if (!el || el === document.body || el === document.documentElement || walk.seen.has(el)) {
        walk.done = true;
        return;
      }
      walk.seen.add(el);
      const r = el.getBoundingClientRect();
      const vw = document.documentElement.clientWidth;
      const vh = document.documentElement.clientHeight;
      // 2.4.11 Focus not obscured (minimum): some part of it shows, at one of a 3 by 3 grid
      // of points inside its box.
      const tops = [];
      let visible = false;
      for (const fx of [0.1, 0.5, 0.9]) {
        for (const fy of [0.1, 0.5, 0.9]) {
          const x = r.left + r.width * fx;
          const y = r.top + r.height * fy;
          if (x < 0 || y < 0 || x >= vw || y >= vh) continue;
          const top = document.elementsFromPoint(x, y)[0];
          if (top && (top === el || el.contains(top))) { visible = true; break; }
          if (top) tops.push(top);
        }
        if (visible) break;
      }
      if (!visible) {
        const stuck = (node) => {
          for (let p = node; p && p !== document.documentElement; p = p.parentElement) {
            const position = getComputedStyle(p).position;
            if (position === 'fixed' || position === 'sticky') return `${describe(p)} (position: ${position})`;
          }
          return null;
        };
        let why;
        if (r.width === 0 || r.height === 0) why = 'it has no size';
        else if (!tops.length) why = 'it is outside the viewport';
        else why = `it is hidden under ${[...new Set(tops)].slice(0, 3).map((c) => stuck(c) ?? describe(c)).join(', ')}`;
        walk.problems.push(`2.4.11 focus not obscured: ${describe(el)} has focus but cannot be seen: ${why}`);
      }
      // 2.4.7 Focus visible: an outline or a box shadow marks it.
      const style = getComputedStyle(el);
      const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
      const shadow = style.boxShadow && style.boxShadow !== 'none';
      if (!outline && !shadow) walk.problems.push(`2.4.7 focus visible: ${describe(el)} shows no focus indicator (no outline, no box shadow)`);
    };
    walk.listener = (event) => {
      if (event.key === 'Tab') walk.look();
    };
    window.addEventListener('keydown', walk.listener, true);
    window.__allianceFocusWalk = walk;
    // Tab from the very top: a throwaway element first in the page holds focus, so the first
    // Tab goes to the page's first focusable element.
    walk.start = document.createElement('span');
    walk.start.tabIndex = -1;
    walk.start.style.position = 'absolute';
    walk.start.style.top = '0';
    walk.start.style.left = '0';
    walk.start.style.visibility = 'visible';
    document.body.prepend(walk.start);
    walk.start.focus({ preventScroll: true });
    return document.activeElement === walk.start;
  }

  if (phase === 'focus-done') return window.__allianceFocusWalk.done;

  if (phase === 'focus-end') {
    const walk = window.__allianceFocusWalk;
    delete window.__allianceFocusWalk;
    walk.look();
    window.removeEventListener('keydown', walk.listener, true);
    // Put focus back as it was; with nothing focused before, focus the throwaway element
    // at the top again and remove it, so the next Tab starts from the top as on a fresh page.
    if (walk.before && walk.before !== document.body && walk.before.isConnected) {
      walk.before.focus({ preventScroll: true });
    } else {
      document.body.prepend(walk.start);
      walk.start.focus({ preventScroll: true });
      walk.start.remove();
      document.activeElement?.blur();
    }
    scrollTo(walk.x, walk.y);
    return { problems: walk.problems, count: walk.seen.size };
  }

  if (phase === 'reflow') {
    // 1.4.10 Reflow and 1.4.4 Resize text: nothing makes the page scroll sideways; a table may
    // scroll inside its own container if a keyboard can reach that container.
    const found = [];
    const root = document.documentElement;
    const vw = root.clientWidth;
    const scrollWidth = Math.max(root.scrollWidth, document.body.scrollWidth);
    const clipsX = (el) => getComputedStyle(el).overflowX !== 'visible';
    // Whether a box between it and the page clips it sideways: only the boxes on its chain of
    // containing blocks do (an absolutely placed element escapes an unpositioned scroller).
    const clipped = (el) => {
      let position = getComputedStyle(el).position;
      for (let p = el.parentElement; p && p !== document.body && p !== root; p = p.parentElement) {
        const style = getComputedStyle(p);
        const contains = position === 'fixed'
          ? style.transform !== 'none' || style.filter !== 'none' || /paint|layout|strict|content/.test(style.contain)
          : position !== 'absolute' || style.position !== 'static' || style.transform !== 'none';
        if (!contains) continue;
        if (style.overflowX !== 'visible') return true;
        position = style.position;
      }
      return false;
    };
    const over = (el) => el.getBoundingClientRect().right > vw + 1;
    const offenders = [];
    for (const el of document.body.querySelectorAll('*')) {
      if (!el.checkVisibility() || !over(el) || clipped(el)) continue;
      const parent = el.parentElement;
      if (parent && parent !== document.body && over(parent) && !clipsX(parent)) continue;
      offenders.push(el);
    }
    if (scrollWidth > vw + 1 || offenders.length) {
      found.push(`1.4.10 reflow at ${width} CSS px: the page is ${scrollWidth} px wide in a ${vw} px viewport`
        + (offenders.length
          ? `; too wide: ${offenders.slice(0, 5).map((el) => `${describe(el)} (to ${Math.round(el.getBoundingClientRect().right)} px)`).join(', ')}`
          : ''));
    }
    for (const el of document.body.querySelectorAll('*')) {
      if (!el.checkVisibility() || !/auto|scroll/.test(getComputedStyle(el).overflowX)) continue;
      if (el.scrollWidth <= el.clientWidth + 1) continue;
      if (!el.querySelector('table') && el.tagName !== 'TABLE') {
        found.push(`1.4.10 reflow at ${width} CSS px: ${describe(el)} scrolls sideways and holds no table`);
      } else if (el.tabIndex < 0) {
        found.push(`1.4.10 reflow at ${width} CSS px: ${describe(el)} scrolls sideways but a keyboard cannot reach it (tabindex="0")`);
      } else if (!el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) {
        found.push(`1.4.10 reflow at ${width} CSS px: ${describe(el)} scrolls sideways and takes focus but has no name`);
      }
    }
    return found;
  }
  throw new Error(`unknown audit phase ${phase}`);
}

// 2.4.11 and 2.4.7: Tab from the top through up to 60 focusable elements; each must show at
// least in part, with a focus indicator. Only Tab is pressed, so nothing is activated. The Tabs
// go straight to Chromium ten at a time (the browser handles them in order), which is several
// times quicker than waiting for each key press in turn.
async function walkFocus(page) {
  const cdp = await page.context().newCDPSession(page);
  const tab = { key: 'Tab', code: 'Tab', windowsVirtualKeyCode: 9, nativeVirtualKeyCode: 9 };
  await page.evaluate(audit, { phase: 'focus-start' });
  let result;
  try {
    for (let pressed = 0; pressed < 60; pressed += 10) {
      const presses = [];
      for (let i = 0; i < 10; i += 1) {
        presses.push(cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', ...tab }));
        presses.push(cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', ...tab }));
      }
      await Promise.all(presses);
      if (await page.evaluate(audit, { phase: 'focus-done' })) break;
    }
  } finally {
    result = await page.evaluate(audit, { phase: 'focus-end' });
    await cdp.detach();
  }
  return result;
}

// 1.4.10 at 320 CSS px, and 1.4.4 as 200% zoom of a 1280 by 720 window (640 by 360 CSS px);
// a width is photographed only when it shows a problem (the evidence; photographing every
// page at every width cost minutes of CI's budget), then the original viewport restored.
async function checkReflow(page, stem) {
  const was = await page.evaluate(() => ({ width: innerWidth, height: innerHeight, x: scrollX, y: scrollY }));
  const original = page.viewportSize() ?? { width: was.width, height: was.height };
  const problems = [];
  try {
    for (const [width, height] of [[320, 720], [640, 360]]) {
      await page.setViewportSize({ width, height });
      const found = await page.evaluate(audit, { phase: 'reflow', width });
      if (found.length > 0) await page.screenshot({ path: `${stem}-${width}.png`, fullPage: true });
      problems.push(...found);
    }
  } finally {
    await page.setViewportSize(original);
    await page.evaluate(({ x, y }) => scrollTo(x, y), was);
  }
  return problems;
}

// Every page a journey reaches: a screenshot, its HTML, axe-core's WCAG 2.2 A and AA checks,
// and the WCAG 2.2 checks axe cannot make (dragging, target size, pasting into password and
// code fields, focus not obscured and visible, reflow at 320 px and at 200% zoom), which must
// all find nothing. The report gathers every file's pages.
export async function check(page, name) {
  const started = Date.now();
  step += 1;
  const stem = join(out, `${process.pid}-${String(step).padStart(3, '0')}-${name}`);
  await page.screenshot({ path: `${stem}.png`, fullPage: true });
  writeFileSync(`${stem}.html`, await page.content());
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  const violations = results.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));

  const found = await page.evaluate(audit, { phase: 'static' });
  const focus = await walkFocus(page);
  const reflow = await checkReflow(page, stem);
  const beyondAxe = {
    '2.5.7 dragging movements': found.dragging,
    '2.5.8 target size (minimum)': found.targetSize,
    '3.3.8 accessible authentication (minimum)': found.paste,
    '2.4.11 focus not obscured (minimum)': focus.problems.filter((p) => p.startsWith('2.4.11')),
    '2.4.7 focus visible': focus.problems.filter((p) => p.startsWith('2.4.7')),
    '1.4.10 reflow and 1.4.4 resize text': reflow,
  };

  const reportFile = join(out, 'accessibility.json');
  const report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : [];
  report.push({ name, url: page.url(), seconds: (Date.now() - started) / 1000, violations, focusable: focus.count, beyondAxe });
  writeFileSync(reportFile, JSON.stringify(report, null, 2));

  const problems = [
    ...violations.map((v) => `axe ${v.id}: ${v.nodes.join(', ')}`),
    ...Object.entries(beyondAxe).flatMap(([criterion, list]) => list.map((p) => (/^\d/.test(p) ? p : `${criterion}: ${p}`))),
  ];
  assert.deepEqual(problems, [], `accessibility of ${name} (${page.url()}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
