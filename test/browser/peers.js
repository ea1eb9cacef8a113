// peers.js opens gobit's web UI on a leecher daemon connected to two real
// seeders (see peers_test.go), opens the torrent's peers tab, reads each
// row's transport, encryption and IP cells, and sorts the table by
// encryption both ways. It prints one "RESULT {json}" line; any failed
// step throws, and the script exits 1.
//
//   node peers.js config.json        (written by peers_test.go)
'use strict';

const harness = require('./harness');

const { res, step } = harness.newResult();

async function main() {
  const cfg = harness.readConfig(process.argv[2]);
  const ctx = await harness.launch(cfg);
  try {
    // The DHT is off: its status answers 404, which openPage expects.
    const page = await harness.openPage(ctx, res, Math.min(cfg.timeoutMs, 30000));

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
