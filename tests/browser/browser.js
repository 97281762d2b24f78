// browser.js — the one way fteval's tests start headless Chromium and open a page.
//
// launch()       starts Debian's Chromium (CHROMIUM overrides the path) headless, sandbox off
//                (tests run as root in CI), no network beyond what the page itself asks for.
// openPage(b, f) opens file f and collects console errors, page errors and CSP violations into
//                page.fteErrors so a test can assert there were none.
// Errors: both reject; a test should catch, print and exit 1. A missing Chromium is the caller's
// to handle (tests/lib/skip.py decides skip vs fail).
'use strict';
const puppeteer = require('puppeteer-core');
const path = require('path');

async function launch() {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
  });
}

async function openPage(browser, file) {
  const page = await browser.newPage();
  page.fteErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.fteErrors.push('console: ' + m.text()); });
  page.on('pageerror', (e) => page.fteErrors.push('pageerror: ' + e.message));
  await page.goto('file://' + path.resolve(file), { waitUntil: 'load' });
  return page;
}

module.exports = { launch, openPage };
