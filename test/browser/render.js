// render.js times the web UI's first render of a big list, for the scale
// benchmark (bench/scale -ui): it opens the daemon's UI n times in a fresh
// page and measures, from the start of each navigation, how long until the
// list holds every torrent and shows its first rows.
//
//   node render.js config.json
//
// The config names the chromium, a profile directory (userDataDir), the
// daemon's base URL, the number of torrents the list must hold (count),
// the number of navigations (runs) and the bound of every wait
// (timeoutMs). It prints one "RESULT {json}" line with the times in
// milliseconds (firstRenderMs), and exits 1 if a navigation fails.
'use strict';

const harness = require('./harness');

async function main() {
  const cfg = harness.readConfig(process.argv[2]);
  const { res, step } = harness.newResult();
  res.firstRenderMs = [];
  const ctx = await harness.launch(cfg);
  try {
    for (let i = 0; i < (cfg.runs || 5); i++) {
      const page = await harness.openPage(ctx, res, cfg.timeoutMs, () => true);
      await page.goto(cfg.base + '/');
      const h = await page.waitForFunction((n) => (window.gobitUI && window.gobitUI.view.length >= n &&
        document.querySelectorAll('.row').length > 0) ? performance.now() : false, cfg.count, { polling: 'raf', timeout: cfg.timeoutMs });
      res.firstRenderMs.push(await h.jsonValue());
      await page.close();
      step(`render ${i + 1}: ${res.firstRenderMs[i].toFixed(0)} ms`);
    }
  } finally {
    console.log('RESULT ' + JSON.stringify(res));
    await ctx.close();
  }
}

main().catch((e) => {
  console.error('render.js failed:', e);
  process.exit(1);
});
