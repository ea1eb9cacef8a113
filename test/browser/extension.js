// extension.js drives the daemons from where --api-allowed-origins is
// meant for: a browser extension's service worker (its origin is
// chrome-extension://<id>) and a web UI served by another origin.
//
//   node extension.js config.json
//
// The config names the unpacked extension's directory (ext), the daemons
// (daemons: [{name, base}]), the API token, the magnets each caller adds
// (one per caller and daemon) and the web UI page's URL (uiPage). It
// prints a RESULT line with, per caller and daemon, the status and body
// the caller could read, or the error fetch gave it.
'use strict';

const harness = require('./harness');
const { chromium } = require('playwright-core');

// addFrom runs in the extension's service worker or the web UI's page:
// one add through the API, as such a caller would write it.
async function addFrom({ base, token, magnet }) {
  try {
    const r = await fetch(base + '/api/v1/torrents', {
      method: 'POST',
      headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'text/plain' },
      body: magnet,
    });
    return { status: r.status, body: await r.text() };
  } catch (e) {
    return { error: String(e) };
  }
}

async function main() {
  const cfg = harness.readConfig(process.argv[2]);
  const { res, step } = harness.newResult();
  res.calls = [];
  const ctx = await chromium.launchPersistentContext(cfg.userDataDir, {
    executablePath: cfg.chromium, headless: true, timeout: cfg.timeoutMs,
    ignoreDefaultArgs: ['--disable-extensions'],
    args: harness.chromiumArgs.concat([`--disable-extensions-except=${cfg.ext}`, `--load-extension=${cfg.ext}`]),
  });
  try {
    let [sw] = ctx.serviceWorkers();
    if (!sw) sw = await ctx.waitForEvent('serviceworker', { timeout: cfg.timeoutMs });
    res.extensionURL = sw.url();
    step('extension loaded');
    for (const d of cfg.daemons) {
      const out = await sw.evaluate(addFrom, { base: d.base, token: cfg.token, magnet: cfg.magnets['extension-' + d.name] });
      res.calls.push(Object.assign({ caller: 'extension', daemon: d.name }, out));
    }
    step('extension added');
    const page = await harness.openPage(ctx, res, cfg.timeoutMs, () => true);
    await page.goto(cfg.uiPage);
    for (const d of cfg.daemons) {
      const out = await page.evaluate(addFrom, { base: d.base, token: cfg.token, magnet: cfg.magnets['ui-' + d.name] });
      res.calls.push(Object.assign({ caller: 'ui', daemon: d.name }, out));
    }
    step('web UI added');
  } finally {
    console.log('RESULT ' + JSON.stringify(res));
    await ctx.close();
  }
}

main().catch((e) => {
  console.error('extension.js failed:', e);
  process.exit(1);
});
