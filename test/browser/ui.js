// ui.js drives gobit's web UI in a headless Debian chromium (through
// playwright-core) and prints one "RESULT {json}" line with what it saw and
// the timings of the 2,000-torrent list. Any failed step throws: the script
// exits 1 and browser_test.go prints its output.
//
//   node ui.js config.json        (written by ui_test.go)
'use strict';

const fs = require('fs');
const path = require('path');
const harness = require('./harness');

const { res, step } = harness.newResult();
let expect401 = false;

async function main() {
  const cfg = harness.readConfig(process.argv[2]);
  const ctx = await harness.launch(cfg);
  const shot = harness.screenshots(cfg);
  try {
    // 404 of the event stream is expected until the daemon has one.
    // (the console message of a failed load does not name its URL; the
    // daemon's own 404s are the event stream and the DHT, both expected)
    // The token daemon answers 401 until the page has the token.
    const page = await harness.openPage(ctx, res, Math.min(cfg.timeoutMs, 30000),
      (text) => /status of 404/.test(text) || (expect401 && /status of 401/.test(text)));

    await page.goto(cfg.base + '/');
    await page.waitForFunction(() => window.gobitUI && window.gobitUI.torrents.size >= 4);
    await page.waitForSelector('#st-mode:has-text("live")');
    step('list loaded, live from the event stream');

    // Add: the dialog opens with "a"; a .torrent upload and a magnet.
    await page.locator('#viewport').focus();
    await page.keyboard.press('a');
    await page.waitForSelector('#add-dialog[open]');
    await page.setInputFiles('#add-files', cfg.torrentFile);
    await page.fill('#add-uris', 'magnet:?xt=urn:btih:' + '5'.repeat(40) + '&dn=ubuntu-26.04-desktop-amd64.iso');
    await shot(page, 'add-dialog');
    await page.fill('#add-uris', cfg.magnet);
    await page.click('#add-submit');
    await page.waitForSelector('#add-dialog:not([open])', { state: 'attached' });
    const row = page.locator(`.row[data-hash="${cfg.hash}"]`);
    await row.waitFor();
    step('added through the dialog');
    await page.waitForSelector(`.row[data-hash="${cfg.hash}"][data-state="seeding"]`);
    step('seeding');

    // The hostile magnet name shows as text.
    const mrow = page.locator(`.row[data-hash="${cfg.magnetHash}"]`);
    await mrow.waitFor();
    const shown = await mrow.locator('.cell.name').textContent();
    res.escaped = shown === cfg.hostile && (await page.locator('.row img').count()) === 0 &&
      !(await page.evaluate(() => window.__xss));
    step('hostile name escaped: ' + res.escaped);

    // Detail pane and its tabs.
    await row.click();
    await page.waitForSelector('#detail:not([hidden])');
    await page.waitForFunction((n) => document.getElementById('detail-name').textContent === n, cfg.name);
    await page.waitForSelector('#tab-general dd:has-text("seeding")');
    await shot(page, 'list');
    await page.click('#tabs button[data-tab="files"]');
    await page.waitForFunction((n) => document.querySelectorAll('#tab-files tr[data-index]').length === n, cfg.files);
    await page.waitForSelector('#tab-files td:has-text("artwork")');
    await shot(page, 'detail-files');
    await page.click('#tabs button[data-tab="trackers"]');
    await page.waitForSelector('#tab-trackers td:has-text("127.0.0.1:1/announce")');
    await page.click('#tabs button[data-tab="peers"]');
    await page.waitForSelector('#tab-peers p');
    await page.click('#tabs button[data-tab="speed"]');
    await page.waitForSelector('#graph');
    await page.click('#tabs button[data-tab="general"]');
    step('detail pane: general, files, trackers, peers, speed');

    // Pause with "p", resume with the toolbar.
    await page.locator('#viewport').focus();
    await page.keyboard.press('p');
    await page.waitForSelector(`.row[data-hash="${cfg.hash}"][data-state="paused"]`);
    step('paused with p');
    await page.click('#btn-resume');
    await page.waitForSelector(`.row[data-hash="${cfg.hash}"][data-state="seeding"]`);
    step('resumed');

    // Settings: set a download limit and see it in the status bar.
    await page.click('#btn-settings');
    await page.waitForSelector('#settings-dialog[open]');
    await page.fill('#set-down', '512');
    await page.click('#settings-submit');
    await page.waitForSelector('#st-limits:has-text("512 KiB/s")');
    step('session limit set');

    // Remove with Delete, confirm, keep the data.
    await row.click();
    await page.locator('#viewport').focus();
    await page.keyboard.press('Delete');
    await page.waitForSelector('#remove-dialog[open]');
    await page.waitForSelector(`#remove-names li:has-text("${cfg.name}")`);
    await page.click('#remove-submit');
    await row.waitFor({ state: 'detached' });
    await page.waitForSelector('#detail[hidden]', { state: 'attached' });
    step('removed');

    // Drop the .torrent file on the page: the add dialog opens with it;
    // added paused this time.
    await harness.dropTorrent(page, cfg.torrentFile);
    await page.waitForSelector(`#add-dropped li:has-text("${path.basename(cfg.torrentFile)}")`);
    await page.check('#add-paused');
    await page.click('#add-submit');
    await page.waitForSelector(`.row[data-hash="${cfg.hash}"][data-state="paused"]`);
    step('added paused by drag and drop');

    // Keyboard: "/" focuses the search box, arrows move the selection.
    await page.locator('#viewport').focus();
    await page.keyboard.press('/');
    if (await page.evaluate(() => document.activeElement.id) !== 'search') throw new Error('"/" did not focus the search box');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    const second = await page.evaluate(() => window.gobitUI.view[1].info_hash);
    await page.waitForSelector(`.row.selected.cursor[data-hash="${second}"]`);
    await page.keyboard.press('Shift+ArrowDown');
    await page.waitForFunction(() => window.gobitUI.selected.size === 2);
    step('keyboard selection');

    // Move the dropped torrent with "m".
    await page.locator(`.row[data-hash="${cfg.hash}"]`).click();
    await page.keyboard.press('m');
    await page.waitForSelector('#move-dialog[open]');
    await page.fill('#move-dir', cfg.moveDir);
    await page.click('#move-submit');
    await page.waitForFunction(async ({ base, hash, dir }) => {
      const r = await fetch(`${base}/api/v1/torrents/${hash}`);
      return r.ok && (await r.json()).save_dir === dir;
    }, { base: cfg.base, hash: cfg.hash, dir: cfg.moveDir }, { polling: 500 });
    step('moved');

    // 2,000 torrents, added the way a script would (multipart, paused).
    const names = fs.readdirSync(cfg.bulkDir).sort();
    const batches = [];
    for (let i = 0; i < names.length; i += 100) batches.push(names.slice(i, i + 100));
    const bulkStart = Date.now();
    const upload = async () => {
      for (let b; (b = batches.shift());) {
        const fd = new FormData();
        for (const n of b) fd.append('torrents', new Blob([fs.readFileSync(path.join(cfg.bulkDir, n))]), n);
        const r = await fetch(cfg.base + '/api/v1/torrents?paused=true', { method: 'POST', body: fd });
        if (r.status !== 201) throw new Error(`bulk add: ${r.status} ${await r.text()}`);
      }
    };
    await Promise.all([upload(), upload(), upload(), upload()]);
    const total = names.length + 6;
    res.bulkAddSeconds = (Date.now() - bulkStart) / 1000;
    step(`bulk added ${names.length} in ${res.bulkAddSeconds.toFixed(1)} s`);

    // First render after navigation.
    await page.goto(cfg.base + '/');
    const h = await page.waitForFunction((n) => (window.gobitUI && window.gobitUI.view.length === n &&
      document.querySelectorAll('.row').length > 0) ? performance.now() : false, total, { polling: 'raf' });
    res.firstRender = await h.jsonValue();
    res.bulk = await page.evaluate(() => window.gobitUI.view.length);
    // Filter, sort and draw the whole list, as each poll does.
    res.rerender = await page.evaluate(() => {
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) window.gobitUI.rerender();
      return (performance.now() - t0) / 20;
    });
    // A header click re-sorts and redraws.
    res.sortClick = await page.evaluate(() => new Promise((resolve) => {
      const t0 = performance.now();
      document.querySelector('#thead button[data-key="name"]').click();
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
    }));
    // Scroll from top to bottom in steps, one step per frame.
    const sc = await page.evaluate(() => new Promise((resolve) => {
      const vp = document.getElementById('viewport');
      const frames = [];
      let rows = 0, i = 0, last = performance.now();
      const steps = 120, maxTop = vp.scrollHeight - vp.clientHeight;
      const tick = () => {
        const now = performance.now();
        if (i > 0) frames.push(now - last);
        last = now;
        rows = Math.max(rows, document.querySelectorAll('#viewport .row').length);
        if (i > steps) {
          const v = window.gobitUI.view;
          const lastHash = v[v.length - 1].info_hash;
          resolve({ avg: frames.reduce((a, b) => a + b, 0) / frames.length, max: Math.max(...frames), rows,
            lastShown: !!document.querySelector(`.row[data-hash="${lastHash}"]`) });
          return;
        }
        vp.scrollTop = Math.min(maxTop, (maxTop * i) / steps);
        i++;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }));
    Object.assign(res, { scrollAvg: sc.avg, scrollMax: sc.max, scrollRows: sc.rows, lastShown: sc.lastShown });
    step(`list of ${res.bulk}: first render ${res.firstRender.toFixed(0)} ms, scroll ${sc.avg.toFixed(1)} ms/frame`);

    // Screenshots of the big list: light, dark, a phone.
    await page.evaluate(() => { document.getElementById('viewport').scrollTop = 0; });
    await page.fill('#search', 'debian');
    await page.locator('.row').first().click();
    await page.waitForSelector('#detail:not([hidden])');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.locator('#viewport').focus();
    await page.keyboard.press('Escape');
    await page.waitForSelector('#detail[hidden]', { state: 'attached' });
    await page.fill('#search', '');
    await page.setViewportSize({ width: 390, height: 760 });
    await shot(page, 'phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    step('screenshots');

    // A scripted event stream (faked, so the test controls every event):
    // the page applies the snapshot and the changes after it.
    const fake = 'f'.repeat(40);
    await page.route(cfg.base + '/api/v1/events', (route) => route.fulfill({
      status: 200, contentType: 'text/event-stream',
      body: ': hello\n\n' +
        'retry: 3000\n\nid: 7\nevent: snapshot\ndata: ' + JSON.stringify({ torrents: [{ info_hash: fake, name: 'from the stream', state: 'downloading', progress: 0.25, total_size: 1 << 20 }], stats: { torrents: 1 } }) + '\n\n' +
        'event: torrent-progress\ndata: ' + JSON.stringify({ info_hash: fake, progress: 0.5, download_rate: 4096 }) + '\n\n' +
        'event: torrent-removed\ndata: ' + JSON.stringify({ info_hash: fake }) + '\n\n',
    }));
    await page.goto(cfg.base + '/');
    await page.waitForFunction(() => window.gobitUI && window.gobitUI.eventsSeen >= 3);
    // The snapshot's totals were kept, and its torrent removed again.
    res.eventsApplied = await page.evaluate((h) => !window.gobitUI.torrents.has(h) &&
      window.gobitUI.sessionStats && window.gobitUI.sessionStats.torrents === 1, fake);
    // The fake stream ended: the page polls until it reconnects.
    await page.waitForFunction((n) => window.gobitUI.torrents.size === n, total);
    await page.unroute(cfg.base + '/api/v1/events');
    step('followed an event stream');

    // Categories and tags, with the daemon's answers rewritten so the test
    // controls them exactly: the list grows Category and Tags columns and
    // filters, and "c" sets a category. The event stream is answered 404
    // here, so the page polls the rewritten list instead of following the
    // real stream.
    await page.route(cfg.base + '/api/v1/events', (route) => route.fulfill({ status: 404, json: { error: 'not found' } }));
    const patches = [];
    const addPosts = [];
    await page.route(cfg.base + '/api/v1/torrents', async (route) => {
      if (route.request().method() === 'POST') {
        addPosts.push(route.request().postDataJSON());
        return route.fulfill({ status: 201, json: { info_hash: 'e'.repeat(40), name: 'with a selection', state: 'paused', progress: 0, category: 'linux', tags: [] } });
      }
      const r = await route.fetch();
      const list = (await r.json()).map((t) => ({ ...t, category: t.name.includes('debian') ? 'linux' : '', tags: t.name.includes('ubuntu') ? ['iso'] : [] }));
      await route.fulfill({ response: r, json: list });
    });
    await page.route(cfg.base + '/api/v1/categories', (route) => route.fulfill({ json: [{ name: 'linux', save_path: '/srv/linux' }] }));
    const filePatches = [];
    const withPrio = (d) => ({ ...d, files: d.files.map((f, i) => ({ ...f, index: i, priority: 'normal' })) });
    await page.route(cfg.base + '/api/v1/torrents/*/pieces', async (route) => {
      const r = await route.fetch({ url: cfg.base + '/api/v1/torrents/' + cfg.hash });
      const d = await r.json();
      const bytes = Buffer.alloc(Math.ceil(d.pieces / 8), 0xaa); // every other piece
      await route.fulfill({ json: { pieces: d.pieces, have: bytes.toString('base64') } });
    });
    await page.route(cfg.base + '/api/v1/torrents/*/files', async (route) => {
      filePatches.push(route.request().postDataJSON());
      const r = await route.fetch({ url: cfg.base + '/api/v1/torrents/' + cfg.hash, method: 'GET' });
      await route.fulfill({ json: withPrio(await r.json()) });
    });
    await page.route(cfg.base + '/api/v1/torrents/*', async (route) => {
      const req = route.request();
      if (req.method() === 'GET' && req.url().endsWith(cfg.hash)) {
        const r = await route.fetch();
        return route.fulfill({ response: r, json: withPrio(await r.json()) });
      }
      if (req.method() !== 'PATCH') return route.continue();
      patches.push({ url: req.url(), body: req.postDataJSON() });
      const hash = req.url().split('/').pop();
      await route.fulfill({ json: { ...(await page.evaluate((h) => window.gobitUI.torrents.get(h), hash)), category: req.postDataJSON().category } });
    });
    await page.goto(cfg.base + '/');
    await page.waitForSelector('#cat-filter:not([hidden])');
    await page.waitForSelector('#thead button[data-key="category"]');
    await page.selectOption('#cat-filter', 'linux');
    await page.waitForFunction(() => window.gobitUI.view.length > 0 && window.gobitUI.view.every((t) => t.category === 'linux'));
    await page.selectOption('#tag-filter', 'iso');
    await page.waitForFunction(() => window.gobitUI.view.length === 0);
    await page.selectOption('#cat-filter', '');
    await page.waitForFunction(() => window.gobitUI.view.length > 0 && window.gobitUI.view.every((t) => t.category === '' && t.tags.includes('iso')));
    await page.locator('.row').first().click();
    await page.waitForSelector('#btn-category:not([hidden])');
    await page.locator('#viewport').focus();
    await page.keyboard.press('c');
    await page.waitForSelector('#category-dialog[open]');
    await page.selectOption('#category-select', 'linux');
    await page.click('#category-submit');
    await page.waitForFunction(() => document.querySelector('#category-dialog').open === false);
    const deadline = Date.now() + 10000;
    while (!patches.length && Date.now() < deadline) await page.waitForTimeout(100);
    res.categorySet = patches.length === 1 && patches[0].body.category === 'linux';

    // File priorities, play links and the pieces map (answers rewritten the same way).
    await page.selectOption('#cat-filter', '\u0000any');
    await page.selectOption('#tag-filter', '\u0000any');
    await page.fill('#search', cfg.name);
    await page.locator(`.row[data-hash="${cfg.hash}"]`).click();
    await page.waitForSelector('#tab-general canvas.pieces');
    await page.click('#tabs button[data-tab="files"]');
    await page.waitForFunction((n) => document.querySelectorAll('#tab-files select.prio').length === n, cfg.files);
    const href = await page.locator('#tab-files a').first().getAttribute('href');
    res.playLink = /^\/api\/v1\/torrents\/[0-9a-f]{40}\/files\/\d+\/stream$/.test(href || '');
    await page.locator('#tab-files select.prio').first().selectOption('skip');
    const deadline2 = Date.now() + 10000;
    while (!filePatches.length && Date.now() < deadline2) await page.waitForTimeout(100);
    res.prioritySet = filePatches.length === 1 && Object.values(filePatches[0].priorities || {})[0] === 'skip';
    await page.fill('#search', '');
    await page.keyboard.press('Escape');

    // The add dialog offers a single .torrent's files and the categories,
    // and sends the selection in the JSON form.
    await page.locator('#viewport').focus();
    await page.keyboard.press('a');
    await page.waitForSelector('#add-dialog[open]');
    await page.setInputFiles('#add-files', cfg.torrentFile);
    await page.waitForFunction((n) => document.querySelectorAll('#add-file-list input[type=checkbox]').length === n, cfg.files);
    await page.waitForSelector('#add-org:not([hidden])');
    await page.selectOption('#add-category', 'linux');
    await page.fill('#add-tags', 'field, audio');
    await page.locator('#add-file-list label', { hasText: 'notes.txt' }).locator('input').uncheck();
    await shot(page, 'add-files');
    await page.click('#add-submit');
    await page.waitForSelector('#add-dialog:not([open])', { state: 'attached' });
    const p = addPosts[0] || {};
    res.addSelection = addPosts.length === 1 && typeof p.torrent === 'string' && Array.isArray(p.only) &&
      p.only.length === cfg.files - 1 && p.category === 'linux' && JSON.stringify(p.tags) === '["field","audio"]';
    if (!res.addSelection) console.log('add bodies: ' + JSON.stringify(addPosts.map((b) => ({ ...b, torrent: typeof b.torrent }))));
    step('add with a file selection and a category');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    step('file priority, play link, pieces map');
    step('categories and tags: filters, set category');

    // A daemon with --api-token: the page asks for the token, then works.
    expect401 = true;
    await page.goto(cfg.tokenBase + '/');
    await page.waitForSelector('#token-dialog[open]');
    res.tokenAsked = true;
    await page.fill('#token-input', cfg.token);
    await page.click('#token-submit');
    await page.waitForSelector('#token-dialog:not([open])', { state: 'attached' });
    await page.waitForSelector('#empty:not([hidden])');
    await page.waitForSelector('#st-mode:has-text("live")');
    res.tokenListed = await page.evaluate(() => sessionStorage.getItem('gobit-token') !== null);
    step('token accepted');
  } finally {
    console.log('RESULT ' + JSON.stringify(res));
    await ctx.close();
  }
}

main().catch((e) => {
  console.error('ui.js failed:', e);
  process.exit(1);
});
