// rate_page.js — drives rate.html (fteval rate export) in headless Chromium the way a rater
// does: types a name, rates the first three items (A, B, tie for pairwise; 1, 3, 5 for a
// rubric), clicks "Download ratings (CSV)" and waits for the file. Downloads go to DIR through
// the DevTools protocol (Browser.setDownloadBehavior). Prints one JSON line: the rated item ids
// and choices, the downloaded file, the status texts and every console/page/CSP error.
//
// usage: node rate_page.js RATE_HTML DOWNLOAD_DIR RATER
'use strict';
const fs = require('fs');
const path = require('path');
const { launch, openPage } = require('./browser.js');

async function waitForFile(dir, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const done = fs.readdirSync(dir).filter((f) => !f.endsWith('.crdownload'));
    if (done.length) return path.join(dir, done[0]);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no download in ' + dir);
}

(async () => {
  const [html, dir, rater] = process.argv.slice(2);
  const browser = await launch();
  try {
    const page = await openPage(browser, html);
    page.on('requestfailed', (r) => page.fteErrors.push('request: ' + r.url()));
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir });
    const items = await page.$$eval('section.item', (els) =>
      els.map((e) => ({ id: e.id.slice('item-'.length),
                        values: Array.from(e.querySelectorAll('input[type=radio]')).map((r) => r.value) })));
    const picks = [];
    for (let k = 0; k < 3 && k < items.length; k++) {
      const v = items[k].values;
      const choice = v.length === 3 ? v[k] : v[[0, 2, 4][k] % v.length];
      await page.click(`input[name="r-${items[k].id}"][value="${choice}"]`);
      picks.push({ item: items[k].id, rating: choice });
    }
    const before = await page.$eval('#msg', (e) => e.textContent);
    await page.click('#download'); // no name yet: refused
    const refused = await page.$eval('#msg', (e) => e.textContent);
    await page.type('#rater', rater);
    await page.click('#download');
    const file = await waitForFile(dir, 15000);
    const count = await page.$eval('#count', (e) => e.textContent);
    const msg = await page.$eval('#msg', (e) => e.textContent);
    const done = await page.$$eval('section.item.done', (els) => els.length);
    console.log(JSON.stringify({ items: items.length, picks, file, count, msg, before, refused,
                                 done, errors: page.fteErrors }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error('FAIL: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
