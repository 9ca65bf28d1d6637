#!/usr/bin/env node
// Drives Debian's headless chromium through warden's status page, as a person in the house
// would: the page loads and lists the devices; a wrong admin token is refused; the right one
// unlocks; quarantining a device from the page cuts it off (the probe command, e.g. a ping
// from the device's namespace, stops getting through: the data plane enforces it); releasing
// it restores it. A screenshot is taken while the device is in quarantine. At phone widths
// (360 and 375 px) nothing scrolls sideways (the document is no wider than the viewport),
// locked, unlocked and with a quarantine form open.
//
// Run by tests/integration/test_web.py inside a LAN device's network namespace:
//   node status_page.js --url http://198.18.0.1:8080/ --token-file FILE --mac MAC
//        --expect MAC,MAC,... --probe 'ip netns exec wdw-dev1 ping -c 2 -W 1 198.18.0.1'
//        --screenshot OUT.png [--phone-screenshot OUT.png] [--chromium /usr/bin/chromium]
// Prints one JSON object with what it saw; exits 0 when every step held, 1 when one did not.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

function args() {
  const out = { chromium: '/usr/bin/chromium' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error('usage: see the top of ' + __filename);
    out[argv[i].slice(2).replace(/-/g, '_')] = argv[i + 1];
  }
  for (const key of ['url', 'token_file', 'mac', 'expect', 'probe', 'screenshot'])
    if (!out[key]) throw new Error('missing --' + key.replace(/_/g, '-'));
  return out;
}

class Failed extends Error {}

function check(condition, message) {
  if (!condition) throw new Failed(message);
}

// True when the probe command succeeds (the device reaches what it pings).
function reachable(command) {
  try {
    execFileSync('/bin/sh', ['-c', command], { stdio: 'ignore', timeout: 15000 });
    return true;
  } catch (e) {
    return false;
  }
}

// Polls the probe until it says `want` or time runs out; returns the seconds it took, or null.
async function waitReachable(command, want, seconds) {
  const started = Date.now();
  while (Date.now() - started < seconds * 1000) {
    if (reachable(command) === want) return (Date.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return null;
}

const PHONE_WIDTHS = [360, 375];
const DESKTOP = { width: 1100, height: 900 };

// At each phone width: whether the document is wider than the viewport, and if so which
// elements stick out (for the report). Returns the widths checked.
async function checkPhoneWidths(page, when) {
  const seen = [];
  for (const width of PHONE_WIDTHS) {
    await page.setViewportSize({ width, height: 780 });
    await page.waitForTimeout(100);
    const fit = await page.evaluate(() => {
      const inner = window.innerWidth;
      const wide = [];
      for (const e of document.querySelectorAll('body *')) {
        const r = e.getBoundingClientRect();
        if (r.width > 0 && r.right > inner + 0.5) wide.push((e.id ? '#' + e.id : e.tagName.toLowerCase()) + ' ' + Math.round(r.right));
      }
      return { scroll: document.documentElement.scrollWidth, inner, wide: wide.slice(0, 8) };
    });
    check(fit.scroll <= fit.inner, `${when}: at ${width} px the page is ${fit.scroll} px wide (${fit.wide.join(', ')})`);
    seen.push(width);
  }
  await page.setViewportSize(DESKTOP);
  return seen;
}

async function main() {
  const opt = args();
  const token = fs.readFileSync(opt.token_file, 'utf8').trim();
  const expected = opt.expect.split(',').filter(Boolean);
  const report = { steps: [] };
  const step = (name, detail = {}) => report.steps.push(Object.assign({ step: name }, detail));
  const problems = [];  // console errors and CSP violations: the page must have none

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: opt.chromium,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-sync'],  // the profile is a fresh --user-data-dir
      viewport: DESKTOP,
      timeout: 60000,
    });
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    page.on('console', (m) => {
      // The wrong token's 401 is expected (step 2); any other error is the page's fault.
      if (m.type() === 'error' && !m.text().includes('status of 401')) problems.push('console: ' + m.text());
    });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));

    // 1. The page loads and lists every device of the testbed.
    const response = await page.goto(opt.url, { waitUntil: 'domcontentloaded' });
    check(response && response.status() === 200, 'the page did not load: HTTP ' + (response && response.status()));
    const csp = response.headers()['content-security-policy'] || '';
    check(csp.includes("default-src 'self'"), 'no Content-Security-Policy on the page: ' + csp);
    for (const mac of expected) await page.waitForSelector(`#devices tr[data-mac="${mac}"]`);
    const rows = await page.$$eval('#devices tbody tr[data-mac]', (trs) => trs.map((tr) => tr.dataset.mac));
    step('loaded', { devices: rows });
    const shown = await page.$eval(`#devices tr[data-mac="${opt.mac}"]`, (tr) => tr.innerText);
    check(/OK/.test(shown), 'the device is not shown as OK before the test: ' + shown);
    step('phone widths, locked', { widths: await checkPhoneWidths(page, 'locked') });

    // 2. Without the token there is nothing to press; a wrong token is refused.
    check(await page.$('[data-action="quarantine"]') === null, 'quarantine buttons shown before unlocking');
    await page.fill('#token', 'f'.repeat(64));
    await page.click('#unlock-button');
    await page.waitForFunction(() => document.getElementById('message').textContent.includes('not the admin token'));
    check(await page.$('[data-action="quarantine"]') === null, 'a wrong token unlocked the page');
    step('wrong token refused');

    // 3. The right token unlocks.
    await page.fill('#token', token);
    await page.click('#unlock-button');
    await page.waitForSelector('#admin-on:not([hidden])');
    step('unlocked');
    await page.click(`#devices tr[data-mac="${opt.mac}"] [data-action="quarantine"]`);
    await page.waitForSelector(`tr.confirm-row[data-mac="${opt.mac}"]`);
    step('phone widths, unlocked with a form open', { widths: await checkPhoneWidths(page, 'unlocked, form open') });
    await page.click(`tr.confirm-row[data-mac="${opt.mac}"] button:not([data-action])`);  // Cancel

    check(await waitReachable(opt.probe, true, 10) !== null, 'the device cannot reach anything before the test');

    // 4. Quarantine from the page: the device is cut off.
    await page.click(`#devices tr[data-mac="${opt.mac}"] [data-action="quarantine"]`);
    await page.fill(`tr.confirm-row[data-mac="${opt.mac}"] [data-field="reason"]`, 'talking to strangers at night');
    await page.click(`tr.confirm-row[data-mac="${opt.mac}"] [data-action="confirm"]`);
    await page.waitForSelector(`#quarantine-list li[data-mac="${opt.mac}"]`);
    const cut = await waitReachable(opt.probe, false, 5);
    check(cut !== null, 'the device still gets through 5 s after the page quarantined it');
    step('quarantined', { cut_off_after_s: cut });
    const item = await page.$eval(`#quarantine-list li[data-mac="${opt.mac}"]`, (li) => li.innerText);
    check(item.includes('talking to strangers at night'), 'the quarantine does not show its reason: ' + item);
    await page.waitForFunction((mac) => {
      const row = document.querySelector(`#devices tr[data-mac="${mac}"]`);
      return row && row.innerText.includes('Isolated');
    }, opt.mac);

    // The picture for the README: the household's view with a device in quarantine.
    await page.evaluate(() => { document.getElementById('message').textContent = ''; });
    await page.screenshot({ path: opt.screenshot, fullPage: true });
    step('screenshot', { path: opt.screenshot });
    if (opt.phone_screenshot) {
      await page.setViewportSize({ width: 375, height: 780 });
      await page.waitForTimeout(100);
      await page.screenshot({ path: opt.phone_screenshot, fullPage: true });
      await page.setViewportSize(DESKTOP);
      step('phone screenshot', { path: opt.phone_screenshot });
    }

    // 5. Release from the page: the device is back.
    await page.click(`#quarantine-list li[data-mac="${opt.mac}"] [data-action="release"]`);
    await page.waitForSelector(`#quarantine-list li[data-mac="${opt.mac}"]`, { state: 'detached' });
    const back = await waitReachable(opt.probe, true, 10);
    check(back !== null, 'the device is still cut off 10 s after the page released it');
    step('released', { back_after_s: back });

    check(problems.length === 0, 'the page logged errors: ' + problems.join('; '));
    report.ok = true;
  } catch (e) {
    report.ok = false;
    report.error = e instanceof Failed ? e.message : String(e && e.stack || e);
    report.page_problems = problems;
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(report) + '\n');
  process.exit(report.ok ? 0 : 1);
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.stack || e) }) + '\n');
  process.exit(1);
});
