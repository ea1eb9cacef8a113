// live.js drives headless chromium against two real gobit daemons (see
// live_test.go); nothing is faked with page.route. It runs in two modes:
//
//   node live.js record config.json   records a small VP8 WebM in the browser
//                                     (a canvas through MediaRecorder) and
//                                     writes it to cfg.out
//   node live.js run config.json      plays it through the leecher's stream
//                                     URL while it downloads, watches a second
//                                     torrent reach 100 % live, filters by
//                                     category and sets a file priority
//
// "run" prints one "RESULT {json}" line. Any failed step throws: the script
// exits 1 and live_test.go prints its output.
'use strict';

const fs = require('fs');
const harness = require('./harness');

const { res, step } = harness.newResult();

function launch(cfg) {
  return harness.launch(cfg, ['--autoplay-policy=no-user-gesture-required']);
}

// record draws a moving picture on a canvas for cfg.seconds and records it.
async function record(cfg) {
  const ctx = await launch(cfg);
  try {
    const page = await ctx.newPage();
    await page.setContent('<canvas id="c" width="160" height="120"></canvas>');
    const b64 = await page.evaluate(async ({ ms, bps }) => {
      const c = document.getElementById('c');
      const g = c.getContext('2d');
      let n = 0;
      const draw = () => {
        n++;
        g.fillStyle = `hsl(${(n * 7) % 360},80%,50%)`;
        g.fillRect(0, 0, 160, 120);
        // Noise in the lower half keeps VP8 near the asked bit rate, so
        // the clip spans enough pieces to be streamed in order.
        const img = g.createImageData(160, 60);
        const px = new Uint32Array(img.data.buffer);
        for (let i = 0; i < px.length; i++) px[i] = (Math.random() * 0x1000000) | 0xff000000;
        g.putImageData(img, 0, 60);
        g.fillStyle = '#fff';
        g.fillRect((n * 3) % 160, 40, 30, 30);
        g.font = '20px sans-serif';
        g.fillText(String(n), 10, 110);
      };
      draw();
      const timer = setInterval(draw, 1000 / 30);
      const mime = 'video/webm;codecs=vp8';
      if (!MediaRecorder.isTypeSupported(mime)) throw new Error(mime + ' is not supported by MediaRecorder');
      const rec = new MediaRecorder(c.captureStream(30), { mimeType: mime, videoBitsPerSecond: bps });
      const chunks = [];
      rec.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
      const stopped = new Promise((r) => { rec.onstop = r; });
      rec.start(250);
      await new Promise((r) => setTimeout(r, ms));
      rec.stop();
      await stopped;
      clearInterval(timer);
      const buf = new Uint8Array(await new Blob(chunks, { type: 'video/webm' }).arrayBuffer());
      let s = '';
      for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
      return btoa(s);
    }, { ms: cfg.seconds * 1000, bps: cfg.bitsPerSecond });
    const bytes = Buffer.from(b64, 'base64');
    fs.writeFileSync(cfg.out, bytes);
    console.log(`recorded ${bytes.length} bytes to ${cfg.out}`);
  } finally {
    await ctx.close();
  }
}

async function run(cfg) {
  const ctx = await launch(cfg);
  try {
    // The daemons run without DHT: its endpoint answers 404, which
    // openPage expects.
    const page = await harness.openPage(ctx, res, Math.min(cfg.timeoutMs, 45000));
    // The ranges the <video> asks the stream for, for the test's log.
    res.streamRequests = [];
    const t0 = Date.now();
    page.on('request', (r) => {
      if (r.url().includes('/stream')) res.streamRequests.push(`${r.headers().range || 'no range'}@${Date.now() - t0}ms`);
    });

    await page.goto(cfg.base + '/');
    await page.waitForFunction((n) => window.gobitUI && window.gobitUI.torrents.size >= n, 2);
    await page.waitForSelector('#st-mode:has-text("● live")');
    step('UI loaded, live from the event stream');
    // A marker that a reload would lose.
    await page.evaluate(() => { window.__notReloaded = true; });

    // Sample the progress torrent's row as the page draws it.
    await page.evaluate((h) => {
      window.__samples = [];
      window.__modes = new Set();
      const t0 = performance.now();
      window.__sampler = setInterval(() => {
        window.__modes.add(document.getElementById('st-mode').textContent);
        const row = document.querySelector(`.row[data-hash="${h}"]`);
        if (!row) return;
        const pct = row.querySelector('.pct').textContent;
        const last = window.__samples[window.__samples.length - 1];
        if (!last || last.pct !== pct || last.state !== row.dataset.state) {
          window.__samples.push({ ms: Math.round(performance.now() - t0), pct, state: row.dataset.state });
        }
      }, 50);
    }, cfg.progressHash);

    // Both torrents were added paused; resume them as the UI's own origin.
    for (const h of [cfg.videoHash, cfg.progressHash]) {
      const status = await page.evaluate(async (h) => (await fetch(`/api/v1/torrents/${h}/resume`, { method: 'POST' })).status, h);
      if (status !== 204) throw new Error(`resume ${h}: ${status}`);
    }
    step('resumed both torrents');

    // 1. Play the video through the stream URL while it downloads.
    const play = await page.evaluate(async ({ h, timeoutMs }) => {
      const t0 = performance.now();
      // The stream needs the metadata: wait for the file list.
      for (;;) {
        const r = await fetch(`/api/v1/torrents/${h}`);
        const d = await r.json();
        if (Array.isArray(d.files) && d.files.length > 0) break;
        if (performance.now() - t0 > timeoutMs) throw new Error('no metadata for the video torrent');
        await new Promise((r) => setTimeout(r, 100));
      }
      const meta = performance.now() - t0;
      const progressAtStart = (await (await fetch(`/api/v1/torrents/${h}`)).json()).progress;
      const v = document.createElement('video');
      v.muted = true;
      v.id = 'live-video';
      document.body.append(v);
      const out = { meta, progressAtStart, events: [] };
      const t1 = performance.now();
      for (const ev of ['loadedmetadata', 'loadeddata', 'playing', 'waiting', 'error', 'stalled']) {
        v.addEventListener(ev, () => out.events.push(`${ev}@${Math.round(performance.now() - t1)}`));
      }
      // Which pieces the daemon had when the first frame showed, as 0/1.
      const havePieces = async () => {
        const m = await (await fetch(`/api/v1/torrents/${h}/pieces`)).json();
        const bits = atob(m.have || '');
        let s = '';
        for (let i = 0; i < m.pieces; i++) s += (bits.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
        return s;
      };
      const firstFrame = new Promise((r) => v.addEventListener('loadeddata', () => r(performance.now() - t1), { once: true }));
      const piecesAtFirstFrame = new Promise((r) => v.addEventListener('loadeddata', () => havePieces().then(r, (e) => r(String(e))), { once: true }));
      // A fetch of the same stream beside the <video>: when its bytes
      // arrive, to tell the daemon's delivery from the player's buffering.
      out.fetched = [];
      const probe = (async () => {
        const r = await fetch(`/api/v1/torrents/${h}/files/0/stream`);
        const rd = r.body.getReader();
        let n = 0, mark = 64 << 10;
        for (;;) {
          const { done, value } = await rd.read();
          if (done) break;
          n += value.length;
          while (n >= mark) { out.fetched.push(`${mark >> 10}KiB@${Math.round(performance.now() - t1)}`); mark *= 2; }
        }
        out.fetched.push(`${n >> 10}KiB(all)@${Math.round(performance.now() - t1)}`);
      })().catch((e) => out.fetched.push(String(e)));
      // How many pieces the daemon has, over time (when the count changes).
      out.haveTimeline = [];
      let polling = true;
      const poller = (async () => {
        let last = -1;
        while (polling) {
          const have = await havePieces();
          const n = have.split('').filter((c) => c === '1').length;
          if (n !== last) { out.haveTimeline.push(`${n}@${Math.round(performance.now() - t1)}`); last = n; }
          await new Promise((r) => setTimeout(r, 100));
        }
      })().catch((e) => out.haveTimeline.push(String(e)));
      v.src = `/api/v1/torrents/${h}/files/0/stream`;
      await v.play();
      out.firstFrame = await firstFrame;
      out.piecesAtFirstFrame = await piecesAtFirstFrame;
      for (;;) {
        if (v.error) throw new Error(`video error ${v.error.code}: ${v.error.message}`);
        if (v.currentTime > 1) break;
        if (performance.now() - t1 > timeoutMs) throw new Error(`currentTime ${v.currentTime} after ${timeoutMs} ms; events ${out.events}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      out.oneSecond = performance.now() - t1;
      out.currentTime = v.currentTime;
      out.progressAtOneSecond = (await (await fetch(`/api/v1/torrents/${h}`)).json()).progress;
      await probe;
      polling = false;
      await poller;
      out.width = v.videoWidth;
      v.pause();
      v.removeAttribute('src');
      v.load();
      v.remove();
      return out;
    }, { h: cfg.videoHash, timeoutMs: 30000 });
    res.play = play;
    step(`video played to ${play.currentTime.toFixed(2)} s (first frame ${play.firstFrame.toFixed(0)} ms, >1 s at ${play.oneSecond.toFixed(0)} ms, progress at start ${play.progressAtStart})`);

    // 2. The progress torrent reaches 100 % and seeding without a reload.
    await page.waitForFunction((h) => {
      const row = document.querySelector(`.row[data-hash="${h}"]`);
      return row && row.dataset.state === 'seeding' && row.querySelector('.pct').textContent.startsWith('100');
    }, cfg.progressHash, { timeout: 60000 });
    await page.waitForTimeout(200);
    res.samples = await page.evaluate(() => { clearInterval(window.__sampler); return window.__samples; });
    res.modes = await page.evaluate(() => [...window.__modes]);
    res.notReloaded = await page.evaluate(() => window.__notReloaded === true);
    step(`progress torrent seeding after ${res.samples.length} distinct row states`);

    // 3. Filter by the category the test created, then set a file priority.
    await page.waitForFunction(() => !document.getElementById('cat-filter').hidden);
    await page.waitForSelector(`#cat-filter option[value="${cfg.category}"]`, { state: 'attached' });
    await page.selectOption('#cat-filter', cfg.category);
    await page.waitForFunction(({ v, p }) => document.querySelector(`.row[data-hash="${v}"]`) && !document.querySelector(`.row[data-hash="${p}"]`),
      { v: cfg.videoHash, p: cfg.progressHash });
    res.filtered = await page.evaluate(() => [...document.querySelectorAll('.row[data-hash]')].map((r) => r.dataset.hash).filter(Boolean));
    step(`category filter "${cfg.category}" shows ${res.filtered.length} row(s)`);

    await page.locator(`.row[data-hash="${cfg.videoHash}"]`).dblclick();
    await page.click('#tabs button[data-tab="files"]');
    await page.waitForSelector('#tab-files select.prio');
    await page.selectOption('#tab-files select.prio', 'high');
    step('set the file priority to high in the Files tab');
  } finally {
    await ctx.close();
  }
}

async function main() {
  const [mode, cfgPath] = process.argv.slice(2);
  const cfg = harness.readConfig(cfgPath);
  if (mode === 'record') return record(cfg);
  await run(cfg);
  console.log('RESULT ' + JSON.stringify(res));
}

main().catch((e) => {
  console.error('FAILED: ' + (e && e.stack || e));
  console.log('RESULT ' + JSON.stringify(res));
  process.exit(1);
});
