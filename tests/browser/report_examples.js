// report_examples.js — drives one example browser (report.html or compare.html) in headless
// Chromium through browser.js and prints what a user would see, as JSON on stdout, for
// tests/report_examples_test.py to compare with ids it computes itself from the records.
//
// usage: node report_examples.js PAGE.html PLAN.json
//        node report_examples.js --canary DIR   proves the error check can see errors: opens a
//        page that logs console.error and throws, and a page whose inline script the CSP blocks,
//        and prints {"console_page": errors, "csp_page": errors}
// PLAN: {"section": CSS selector of the browser section, "screenshot": PNG path or null,
//        "steps": [{"name", "filter"?: "all"|"fixed"|..., "search"?: text, "slice"?: value,
//                   "cls"?: value}]}
// Each step applies its actions in that order (a missing action keeps the current state; a
// filter click resets the page to 1) and collects the ids of every page by clicking "next"
// until it is disabled. Output: {"errors": [...], "data": the section's JSON as the page parsed
// it, "initial": {...}, "steps": {name: {"ids", "pages", "status", "first_page"}},
// "cells": the rendered text of the first page's cells}. Exit 1 on a driver failure.
'use strict';
const fs = require('fs');
const { launch, openPage } = require('./browser.js');

async function collect(page, sec) {
  const pages = [];
  for (let guard = 0; guard < 10000; guard++) {
    pages.push(await page.$$eval(sec + ' tbody tr', (t) => t.map((r) => r.getAttribute('data-id'))));
    const more = await page.$eval(sec + ' .eb-next', (b) => !b.disabled);
    if (!more) break;
    await page.click(sec + ' .eb-next');
  }
  const status = await page.$eval(sec + ' .eb-status', (e) => e.textContent);
  const label = await page.$eval(sec + ' .eb-page', (e) => e.textContent);
  // back to page 1 so the next step starts there
  while (await page.$eval(sec + ' .eb-prev', (b) => !b.disabled)) await page.click(sec + ' .eb-prev');
  return { ids: [].concat(...pages), pages: pages.map((p) => p.length), status, last_label: label,
           first_page: pages[0] };
}

async function selectByText(page, sel, text) {
  const value = await page.$eval(sel, (s, t) => {
    const o = Array.from(s.options).find((x) => x.textContent === t);
    return o ? o.value : null;
  }, text);
  if (value === null) throw new Error(sel + ': no option ' + JSON.stringify(text));
  await page.select(sel, value);
}

async function canary(dir) {
  const a = dir + '/canary_console.html', b = dir + '/canary_csp.html';
  fs.writeFileSync(a, '<!DOCTYPE html><body><script>console.error("canary-console");' +
    'throw new Error("canary-throw")</script></body>');
  fs.writeFileSync(b, '<!DOCTYPE html><head><meta http-equiv="Content-Security-Policy" ' +
    'content="default-src \'none\'; script-src \'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\'">' +
    '</head><body><script>document.title = "ran"</script></body>');
  const browser = await launch();
  try {
    const out = {};
    for (const [k, f] of [['console_page', a], ['csp_page', b]]) {
      const page = await openPage(browser, f);
      await new Promise((r) => setTimeout(r, 300)); // let late console events arrive
      out[k] = page.fteErrors;
    }
    process.stdout.write(JSON.stringify(out));
  } finally {
    await browser.close();
  }
}

async function main() {
  if (process.argv[2] === '--canary') return canary(process.argv[3]);
  const [file, planFile] = process.argv.slice(2);
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
  const sec = plan.section;
  const browser = await launch();
  try {
    const page = await openPage(browser, file);
    await page.setViewport({ width: 1280, height: 900 });
    await page.waitForSelector(sec + '.eb-ready', { timeout: 20000 });
    const out = { steps: {} };
    out.data = await page.$eval(sec + ' script.eb-data', (e) => JSON.parse(e.textContent));
    out.buttons = await page.$$eval(sec + ' button[data-filter]',
      (t) => t.map((b) => [b.getAttribute('data-filter'), b.textContent]));
    out.cells = await page.$$eval(sec + ' tbody tr', (t) => t.map((r) =>
      Array.from(r.children).map((c) => (c.querySelector('.eb-t') || c).textContent)));
    out.initial = await collect(page, sec);
    for (const st of plan.steps) {
      if (st.filter) await page.click(sec + ' button[data-filter="' + st.filter + '"]');
      if ('search' in st) {
        await page.click(sec + ' .eb-q', { clickCount: 3 });
        await page.keyboard.press('Backspace');
        if (st.search) await page.type(sec + ' .eb-q', st.search);
      }
      if ('slice' in st) await selectByText(page, sec + ' .eb-slice', st.slice || 'every slice');
      if ('cls' in st) await selectByText(page, sec + ' .eb-class', st.cls || 'every class');
      out.steps[st.name] = await collect(page, sec);
    }
    if (plan.screenshot) {
      await page.click(sec + ' button[data-filter="all"]');
      await page.$eval(sec, (e) => e.scrollIntoView());
      const el = await page.$(sec);
      await el.screenshot({ path: plan.screenshot });
    }
    out.errors = page.fteErrors;
    process.stdout.write(JSON.stringify(out));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error('report_examples.js: ' + (e && e.stack || e)); process.exit(1); });
