// drive.js opens attacker pages in a headless Debian chromium (through
// playwright-core, which downloads no browser of its own) and prints what
// each page's script did, one "RESULT {json}" line per page.
//
//   node drive.js config.json
//
// config.json (written by browser_test.go):
//   chromium     path of the chromium binary
//   userDataDir  a fresh, empty directory for the browsers' profiles
//   hostRules    chromium's --host-resolver-rules (maps the test's names to
//                127.0.0.1; nothing leaves the machine)
//   timeoutMs    bound of every wait
//   pages        [{name, url, fulfillFrom, args}]: the page at url is opened,
//                in a browser of its own started with the extra args, and
//                its window.__results read once window.__done is true. With
//                fulfillFrom, the document at url is not fetched from url's
//                server but from fulfillFrom, as if url's DNS name had first
//                pointed at the attacker and then been rebound to 127.0.0.1:
//                the page's origin is url's, its requests go to 127.0.0.1.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const { chromiumArgs } = require('./harness');

async function main() {
  const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  // One browser per page, each with a fresh profile, so that nothing one
  // page did (cache, cookies, connections) helps the next.
  for (const [i, pg] of cfg.pages.entries()) {
    const ctx = await chromium.launchPersistentContext(path.join(cfg.userDataDir, String(i)), {
      executablePath: cfg.chromium,
      headless: true,
      timeout: cfg.timeoutMs,
      args: chromiumArgs.concat(['--disable-quic', '--host-resolver-rules=' + cfg.hostRules], pg.args || []),
    });
    try {
      const page = await ctx.newPage();
      page.on('console', (m) => console.log(`[${pg.name} console] ${m.text()}`));
      page.on('pageerror', (e) => console.log(`[${pg.name} page error] ${e}`));
      if (pg.fulfillFrom) {
        await page.route(pg.url, async (route) => {
          const r = await fetch(pg.fulfillFrom);
          await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: await r.text() });
        });
      }
      await page.goto(pg.url, { timeout: cfg.timeoutMs });
      await page.waitForFunction(() => window.__done === true, null, { timeout: cfg.timeoutMs, polling: 100 });
      const results = await page.evaluate(() => window.__results);
      console.log('RESULT ' + JSON.stringify({ page: pg.name, url: pg.url, results }));
    } finally {
      await ctx.close();
    }
  }
}

main().catch((e) => {
  console.error('drive.js failed:', e);
  process.exit(1);
});
