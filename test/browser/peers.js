// peers.js opens gobit's web UI on a leecher daemon connected to two real
// seeders (see peers_test.go), opens the torrent's peers tab, reads each
// row's transport, encryption and IP cells, and sorts the table by
// encryption both ways. It prints one "RESULT {json}" line; any failed
// step throws, and the script exits 1.
//
//   node peers.js config.json        (written by peers_test.go)
'use strict';

const fs = require('fs');
const { chromium } = require('playwright-core');

const res = { steps: [], pageErrors: [] };
const step = (s) => { res.steps.push(s); console.log('step: ' + s); };

async function main() {
  const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const T = cfg.timeoutMs;
  const ctx = await chromium.launchPersistentContext(cfg.userDataDir, {
    executablePath: cfg.chromium, headless: true, timeout: T,
    viewport: { width: 1280, height: 800 }, colorScheme: 'light',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-proxy-server'],
  });
  try {
    const page = await ctx.newPage();
    page.setDefaultTimeout(Math.min(T, 30000));
    page.on('pageerror', (e) => res.pageErrors.push('page error: ' + e));
    page.on('console', (m) => {
      console.log(`[console ${m.type()}] ${m.text()}`);
      // The DHT is off: its status answers 404.
      if (m.type() === 'error' && !/status of 404/.test(m.text())) res.pageErrors.push(m.text());
    });
    page.on('dialog', (d) => { res.pageErrors.push('unexpected dialog: ' + d.message()); d.dismiss(); });

    await page.goto(cfg.base + '/');
    const row = page.locator(`.row[data-hash="${cfg.hash}"]`);
    await row.waitFor();
    await row.click();
    await page.waitForSelector('#detail:not([hidden])');
    await page.click('#tabs button[data-tab="peers"]');
    await page.waitForFunction(() => document.querySelectorAll('#tab-peers tbody tr').length === 2);
    step('peers tab: two rows');

    res.rows = await page.evaluate(() => [...document.querySelectorAll('#tab-peers tbody tr')].map((tr) => {
      const enc = tr.querySelector('td.peer-encryption');
      return {
        addr: tr.dataset.addr,
        transport: tr.querySelector('td.peer-transport').textContent,
        encryption: enc.dataset.encryption,
        encryptionText: enc.textContent,
        encryptionTitle: enc.title,
        ip: tr.querySelector('td.peer-ip').textContent,
      };
    }));
    step('cells read');

    const order = () => page.evaluate(() => [...document.querySelectorAll('#tab-peers tbody tr')].map((tr) => tr.dataset.addr));
    const header = () => page.locator('#tab-peers th[data-key="encryption"]');
    res.ariaSort = [];
    await header().locator('button').click();
    await page.waitForSelector('#tab-peers th[data-key="encryption"][aria-sort="ascending"]');
    res.ascending = await order();
    res.ariaSort.push(await header().getAttribute('aria-sort'));
    await header().locator('button').click();
    await page.waitForSelector('#tab-peers th[data-key="encryption"][aria-sort="descending"]');
    res.descending = await order();
    res.ariaSort.push(await header().getAttribute('aria-sort'));
    step('sorted by encryption both ways');
  } finally {
    console.log('RESULT ' + JSON.stringify(res));
    await ctx.close();
  }
}

main().catch((e) => {
  console.error('peers.js failed:', e);
  process.exit(1);
});
