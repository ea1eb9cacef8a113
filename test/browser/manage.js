// manage.js drives gobit's web UI against real daemons (see
// manage_test.go; nothing is faked with page.route): an add with a file
// selection and a save directory, the pieces map, the category manager,
// category and tag assignment and filters, the queue buttons, the status
// bar's free space, and playing a file through a stream ticket on a daemon
// with --api-token. It prints one "RESULT {json}" line; any failed step
// throws, and the script exits 1.
//
//   node manage.js config.json        (written by manage_test.go)
'use strict';

const harness = require('./harness');

const { res, step } = harness.newResult();
let expect401 = false;

async function main() {
  const cfg = harness.readConfig(process.argv[2]);
  const ctx = await harness.launch(cfg, ['--autoplay-policy=no-user-gesture-required']);
  const shot = harness.screenshots(cfg);
  try {
    // The DHT is off (404); the token daemon answers 401 until the page
    // has the token, and the test's own probes of refused URLs are 401s.
    const page = await harness.openPage(ctx, res, Math.min(cfg.timeoutMs, 30000),
      (text) => /status of 404/.test(text) || (expect401 && /status of 401/.test(text)));
    const api = (p, opts) => page.evaluate(async ({ p, opts }) => {
      const r = await fetch(p, opts);
      return r.status === 204 ? null : r.json();
    }, { p, opts });
    const row = (h) => page.locator(`.row[data-hash="${h}"]`);
    const shownHashes = () => page.evaluate(() => window.gobitUI.view.map((t) => t.info_hash));

    await page.goto(cfg.base + '/');
    await page.waitForFunction(() => window.gobitUI && window.gobitUI.torrents.size >= 3);
    await page.waitForSelector('#st-mode:has-text("live")');
    step('list loaded');

    // The status bar shows the download directory's free space.
    await page.waitForFunction(() => / free of /.test(document.getElementById('st-free').textContent));
    res.freeText = await page.locator('#st-free').textContent();
    step('status bar: ' + res.freeText);

    // 1. Drop the album's .torrent on the page, untick two files, name a
    // save directory that holds some of the data, start it.
    await harness.dropTorrent(page, cfg.torrentFile);
    await page.waitForFunction((n) => document.querySelectorAll('#add-file-list input[type=checkbox]').length === n, cfg.files);
    for (const name of cfg.untick) await page.locator('#add-file-list label', { hasText: name }).locator('input').uncheck();
    await page.fill('#add-dir', cfg.saveDir);
    await page.waitForFunction(() => /free on that disk/.test(document.getElementById('add-free').textContent));
    res.addFree = await page.locator('#add-free').textContent();
    if (await page.isChecked('#add-paused')) throw new Error('"start paused" is ticked');
    await page.click('#add-submit');
    await page.waitForSelector('#add-dialog:not([open])', { state: 'attached' });
    await row(cfg.hash).waitFor();
    step('added by drag and drop with ' + cfg.untick.join(', ') + ' unticked');

    // 2. The pieces map of the real, partly present torrent.
    await page.waitForFunction(async ({ base, hash }) => {
      const d = await (await fetch(`${base}/api/v1/torrents/${hash}`)).json();
      return d.state !== 'checking' && d.state !== 'metadata' && d.completed > 0;
    }, { base: cfg.base, hash: cfg.hash }, { polling: 300 });
    await row(cfg.hash).click();
    await page.waitForSelector('#detail:not([hidden])');
    const pm = await api(`/api/v1/torrents/${cfg.hash}/pieces`);
    const bits = Buffer.from(pm.have, 'base64');
    let have = 0;
    for (let i = 0; i < pm.pieces; i++) have += (bits[i >> 3] >> (7 - (i & 7))) & 1;
    const filled = await page.waitForFunction(() => {
      const c = document.querySelector('#tab-general canvas.pieces');
      if (!c || !c.width) return false;
      const g = c.getContext('2d');
      const px = g.getImageData(0, 8, c.width, 1).data;
      // The background is the bar colour of the first column that is not
      // drawn; count the columns that differ from the most common colour
      // of the empty ones (the last column: the last file is missing).
      const bg = [px[(c.width - 1) * 4], px[(c.width - 1) * 4 + 1], px[(c.width - 1) * 4 + 2]];
      let n = 0;
      for (let x = 0; x < c.width; x++) {
        const d = Math.abs(px[x * 4] - bg[0]) + Math.abs(px[x * 4 + 1] - bg[1]) + Math.abs(px[x * 4 + 2] - bg[2]);
        if (d > 30) n++;
      }
      return n > 0 ? { filled: n / c.width, columns: c.width } : false;
    });
    const f = await filled.jsonValue();
    res.pieces = { pieces: pm.pieces, have, filled: f.filled, columns: f.columns };
    step(`pieces map: ${have} of ${pm.pieces} pieces had, ${(f.filled * 100).toFixed(0)} % of ${f.columns} columns drawn`);

    // 3. Categories: create two, rename one, delete the other.
    await page.click('#btn-categories');
    await page.waitForSelector('#categories-dialog[open]');
    await page.fill('#cat-new-name', 'audio');
    await page.fill('#cat-new-path', cfg.catDir);
    await page.click('#cat-create');
    await page.waitForSelector('#cat-rows tr[data-category="audio"]');
    await page.fill('#cat-new-name', 'spare');
    await page.fill('#cat-new-path', cfg.spareDir);
    await page.press('#cat-new-path', 'Enter');
    await page.waitForSelector('#cat-rows tr[data-category="spare"]');
    await page.fill('#cat-rows tr[data-category="audio"] input >> nth=0', 'music');
    await page.click('#cat-rows tr[data-category="audio"] button.cat-save');
    await page.waitForSelector('#cat-rows tr[data-category="music"]');
    await page.click('#cat-rows tr[data-category="spare"] button.cat-delete');
    await page.waitForSelector('#cat-rows tr[data-category="spare"] button.cat-delete:has-text("Really")');
    await shot(page, 'categories');
    await page.click('#cat-rows tr[data-category="spare"] button.cat-delete');
    await page.waitForSelector('#cat-rows tr[data-category="spare"]', { state: 'detached' });
    res.catRows = await page.evaluate(() => [...document.querySelectorAll('#cat-rows tr')].map((r) => [...r.querySelectorAll('input')].map((i) => i.value)));
    await page.click('#categories-dialog button[value="close"]');
    await page.waitForSelector('#categories-dialog:not([open])', { state: 'attached' });
    step('categories: created audio and spare, renamed audio to music, deleted spare');

    // Assign "music" to the album and queue-a, selected together.
    await row(cfg.hash).click();
    await row(cfg.queued['queue-a']).click({ modifiers: ['Control'] });
    await page.waitForFunction(() => window.gobitUI.selected.size === 2);
    await page.locator('#viewport').focus();
    await page.keyboard.press('c');
    await page.waitForSelector('#category-dialog[open]');
    await page.selectOption('#category-select', 'music');
    await page.click('#category-submit');
    await page.waitForFunction((hs) => hs.every((h) => window.gobitUI.torrents.get(h).category === 'music'), [cfg.hash, cfg.queued['queue-a']]);
    // Tags: both get "field, lossless".
    await page.click('#btn-tags');
    await page.waitForSelector('#tags-dialog[open]');
    await page.fill('#tags-add', 'field, lossless');
    await page.click('#tags-submit');
    await page.waitForFunction((hs) => hs.every((h) => (window.gobitUI.torrents.get(h).tags || []).length === 2), [cfg.hash, cfg.queued['queue-a']]);
    // The album alone loses "lossless".
    await row(cfg.hash).click();
    await page.waitForFunction(() => window.gobitUI.selected.size === 1);
    await page.locator('#viewport').focus();
    await page.keyboard.press('t');
    await page.waitForSelector('#tags-dialog[open]');
    await page.check('#tags-remove input[data-tag="lossless"]');
    await page.click('#tags-submit');
    await page.waitForFunction((h) => JSON.stringify(window.gobitUI.torrents.get(h).tags) === '["field"]', cfg.hash);
    step('category and tags assigned');
    // Filter by them.
    await page.waitForSelector('#cat-filter option[value="music"]', { state: 'attached' });
    await page.selectOption('#cat-filter', 'music');
    await page.waitForFunction(() => window.gobitUI.view.length === 2);
    res.catFilter = await shownHashes();
    await page.selectOption('#tag-filter', 'lossless');
    await page.waitForFunction(() => window.gobitUI.view.length === 1);
    res.tagFilter = await shownHashes();
    await page.selectOption('#cat-filter', '\u0000any');
    await page.selectOption('#tag-filter', '\u0000any');
    await page.waitForFunction((n) => window.gobitUI.view.length === n, 4);
    step('filtered by category and tag');

    // 4. The queue buttons; the positions are read back from the API.
    const names = { ...cfg.queued, album: cfg.hash };
    const positions = async () => {
      const list = await api('/api/v1/torrents');
      const out = {};
      for (const [n, h] of Object.entries(names)) out[n] = list.find((t) => t.info_hash === h).queue_position;
      return out;
    };
    res.queue = [];
    const queueStep = async (name, button) => {
      await row(names[name]).click();
      await page.waitForFunction((h) => window.gobitUI.selected.size === 1 && window.gobitUI.selected.has(h), names[name]);
      const before = JSON.stringify(await positions());
      await page.click('#' + button);
      const deadline = Date.now() + 10000;
      let now;
      while ((now = await positions()) && JSON.stringify(now) === before && Date.now() < deadline) await page.waitForTimeout(100);
      res.queue.push(now);
    };
    await queueStep('queue-c', 'btn-q-top');
    await queueStep('queue-c', 'btn-q-down');
    await queueStep('album', 'btn-q-up');
    await queueStep('queue-a', 'btn-q-bottom');
    await page.waitForFunction((h) => {
      const c = document.querySelector(`.row[data-hash="${h}"] .cell.num`);
      return c && c.textContent === String(window.gobitUI.torrents.get(h).queue_position) && window.gobitUI.torrents.get(h).queue_position === 4;
    }, cfg.queued['queue-a']);
    res.queueCell = await row(cfg.queued['queue-a']).locator('.cell.num').first().textContent();
    step('queue: ' + res.queue.map((q) => JSON.stringify(q)).join(' '));
    await row(cfg.queued['queue-b']).click();
    await page.click('#btn-force');
    await page.waitForFunction(async ({ base, h }) => (await (await fetch(`${base}/api/v1/torrents/${h}`)).json()).forced === true,
      { base: cfg.base, h: cfg.queued['queue-b'] }, { polling: 200 });
    step('force-started queue-b');
    // The album's detail: its real pieces map, category, tags and place.
    await row(cfg.hash).click();
    await page.waitForSelector('#tab-general canvas.pieces');
    await page.waitForSelector('#tab-general dd:has-text("music")');
    await shot(page, 'organize');

    // 5. A daemon with --api-token: the play button plays through a ticket.
    expect401 = true;
    await page.goto(cfg.tokenBase + '/');
    await page.waitForSelector('#token-dialog[open]');
    await page.fill('#token-input', cfg.token);
    await page.click('#token-submit');
    await page.waitForSelector('#token-dialog:not([open])', { state: 'attached' });
    await row(cfg.wavHash).waitFor();
    await row(cfg.wavHash).click();
    await page.click('#tabs button[data-tab="files"]');
    await page.click('#tab-files button.play');
    await page.waitForSelector('#player-dialog[open]');
    const media = await page.waitForFunction(() => {
      const m = document.getElementById('player-media');
      return m && m.readyState >= 1 && Number.isFinite(m.duration) ? m.duration : false;
    });
    res.play = await page.evaluate(async ({ h }) => {
      const link = document.getElementById('player-link').getAttribute('href');
      const r = await fetch(link); // no Authorization header: the ticket alone
      const buf = new Uint8Array(await r.arrayBuffer());
      let s = '';
      for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
      const noTicket = (await fetch(`/api/v1/torrents/${h}/files/0/stream`)).status;
      const otherFile = (await fetch(link.replace('/files/0/', '/files/1/'))).status;
      return { link, status: r.status, body: btoa(s), noTicket, otherFile };
    }, { h: cfg.wavHash });
    res.play.duration = await media.jsonValue();
    step(`played through a ticket: duration ${res.play.duration} s`);
    await page.click('#player-dialog button[value="close"]');
  } finally {
    console.log('RESULT ' + JSON.stringify(res));
    await ctx.close();
  }
}

main().catch((e) => {
  console.error('manage.js failed:', e);
  process.exit(1);
});
