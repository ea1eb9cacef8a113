// harness.js holds what the web UI scripts (ui.js, manage.js, peers.js,
// live.js) share: reading the config the Go test wrote, the RESULT object
// with its steps and page errors, starting chromium with the flags every
// run uses, opening a page that records its errors, dropping a .torrent on
// the page, and screenshots.
//
//   const harness = require('./harness');
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

// chromiumArgs are the flags every run starts chromium with: headless,
// without the sandbox (containers have none) and without anything that
// talks to the network on its own or through a proxy.
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-proxy-server'];

// readConfig returns the JSON config the Go test wrote to file.
function readConfig(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// newResult returns the object a script prints as its "RESULT {json}" line,
// with the steps done and the page's errors, and step, which records one
// step there and logs it.
function newResult() {
  const res = { steps: [], pageErrors: [] };
  const step = (s) => { res.steps.push(s); console.log('step: ' + s); };
  return { res, step };
}

// launch starts chromium (cfg.chromium) with a persistent profile in
// cfg.userDataDir, every wait bounded by cfg.timeoutMs, and extraArgs
// after the common flags.
function launch(cfg, extraArgs = []) {
  return chromium.launchPersistentContext(cfg.userDataDir, {
    executablePath: cfg.chromium, headless: true, timeout: cfg.timeoutMs,
    viewport: { width: 1280, height: 800 }, colorScheme: 'light',
    args: chromiumArgs.concat(extraArgs),
  });
}

// openPage opens a page in ctx whose waits last at most timeoutMs. It logs
// the page's console and records in res.pageErrors its uncaught errors,
// every dialog (dismissed: a script handles the ones it expects itself)
// and its console errors but those expected(text) accepts; by default
// failed loads answered 404 (the DHT is off in the tests' daemons).
async function openPage(ctx, res, timeoutMs, expected = (text) => /status of 404/.test(text)) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.on('pageerror', (e) => res.pageErrors.push('page error: ' + e));
  page.on('console', (m) => {
    console.log(`[console ${m.type()}] ${m.text()}`);
    if (m.type() === 'error' && !expected(m.text())) res.pageErrors.push(m.text());
  });
  page.on('dialog', (d) => { res.pageErrors.push('unexpected dialog: ' + d.message()); d.dismiss(); });
  return page;
}

// dropTorrent drags the .torrent file at file onto the web UI's torrent
// list, as a user would from a file manager, drops it once the page shows
// its drop zone, and waits for the add dialog to open.
async function dropTorrent(page, file) {
  const b64 = fs.readFileSync(file).toString('base64');
  const dt = await page.evaluateHandle(({ b64, name }) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const d = new DataTransfer();
    d.items.add(new File([bin], name, { type: 'application/x-bittorrent' }));
    return d;
  }, { b64, name: path.basename(file) });
  await page.dispatchEvent('#list', 'dragenter', { dataTransfer: dt });
  await page.waitForSelector('#dropzone:not([hidden])');
  await page.dispatchEvent('#list', 'drop', { dataTransfer: dt });
  await page.waitForSelector('#add-dialog[open]');
}

// screenshots returns shot(page, name), which saves a screenshot of page
// as name.png in cfg.screenshots, and does nothing without that directory.
function screenshots(cfg) {
  return async (page, name) => {
    if (!cfg.screenshots) return;
    await page.waitForTimeout(300); // let the last frame settle
    await page.screenshot({ path: path.join(cfg.screenshots, name + '.png') });
  };
}

module.exports = { chromiumArgs, readConfig, newResult, launch, openPage, dropTorrent, screenshots };
