// open.js — opens a report.html with an example browser in headless Chromium (tests/browser/
// browser.js) and prints timings as JSON: load (navigation to the load event), ready (to the
// browser's first page rendered: section.eb-ready), a filter click, a search (one 'input' event)
// and a page turn, each measured inside the page (performance.now) around the synchronous work,
// the JS heap after load, and the console/page errors seen.
// usage: node open.js REPORT.html [REPEATS]
'use strict';
const path = require('path');
const { launch, openPage } = require(path.join(__dirname, '../../tests/browser/browser.js'));

async function once(browser, file) {
  const t0 = Date.now();
  const page = await openPage(browser, file);
  await page.waitForSelector('section.eb.eb-ready', { timeout: 120000 });
  const wall = Date.now() - t0;
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    return { load_ms: n.loadEventEnd, dom_ms: n.domContentLoadedEventEnd };
  });
  const act = await page.evaluate(() => {
    const sec = document.querySelector('section.eb');
    const time = (f) => { const t = performance.now(); f(); return performance.now() - t; };
    const q = sec.querySelector('.eb-q');
    return {
      filter_ms: time(() => sec.querySelector('button[data-filter="fixed"]').click()),
      all_ms: time(() => sec.querySelector('button[data-filter="all"]').click()),
      search_first_ms: time(() => { q.value = 'refund'; q.dispatchEvent(new Event('input')); }),
      search_next_ms: time(() => { q.value = 'refunds'; q.dispatchEvent(new Event('input')); }),
      clear_ms: time(() => { q.value = ''; q.dispatchEvent(new Event('input')); }),
      next_page_ms: time(() => sec.querySelector('.eb-next').click()),
      rows: sec.querySelectorAll('tbody tr').length,
      status: sec.querySelector('.eb-status').textContent,
    };
  });
  const m = await page.metrics();
  const out = Object.assign({ wall_ready_ms: wall, heap_mb: m.JSHeapUsedSize / 1048576 }, nav, act,
                            { errors: page.fteErrors });
  await page.close();
  return out;
}

async function main() {
  const file = process.argv[2], repeats = Number(process.argv[3] || 3);
  const browser = await launch();
  try {
    const runs = [];
    for (let i = 0; i < repeats; i++) runs.push(await once(browser, file));
    process.stdout.write(JSON.stringify(runs));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
