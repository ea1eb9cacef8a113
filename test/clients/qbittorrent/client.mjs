// Drives @ctrl/qbittorrent against a server (gobit or qbittorrent-nox)
// through every route the library exposes that gobit serves. Usage:
//   node client.mjs config.json
// config: {baseUrl, username, password, single: {torrent (base64), hash,
// dataDir, file}, multi: {torrent, hash}, magnet, magnetHash, moveDir,
// catDir, gobit}. Prints "OK <step>" per step; exits 1 on the first failure.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QBittorrent } from '@ctrl/qbittorrent';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const client = new QBittorrent({ baseUrl: cfg.baseUrl, username: cfg.username, password: cfg.password, timeout: 15000 });
const single = cfg.single.hash;
const multi = cfg.multi.hash;
const mag = cfg.magnetHash;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, cond, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      if (await cond()) return;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? ': ' + last : ''}`);
}
async function step(name, fn) {
  try {
    await fn();
    console.log(`OK ${name}`);
  } catch (e) {
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  }
}
const byHash = async (hash) => (await client.listTorrents({ hashes: hash }))[0];

await step('login and version', async () => {
  assert.equal(await client.login(), true);
  const v = await client.getAppVersion();
  assert.match(v, /^v4\.\d+\.\d+/);
  const api = await client.getApiVersion();
  assert.match(api, /^2\.\d+(\.\d+)?$/);
  const bi = await client.getBuildInfo();
  assert.equal(typeof bi.bitness, 'number');
  const dsp = await client.getDefaultSavePath();
  assert.ok(dsp.startsWith('/'), dsp);
});

await step('preferences', async () => {
  const p = await client.getPreferences();
  for (const [k, type] of Object.entries({
    save_path: 'string', temp_path_enabled: 'boolean', max_ratio_enabled: 'boolean', max_ratio: 'number',
    max_ratio_act: 'number', max_seeding_time_enabled: 'boolean', max_seeding_time: 'number',
    queueing_enabled: 'boolean', max_active_downloads: 'number', max_active_torrents: 'number',
    max_active_uploads: 'number', dht: 'boolean', listen_port: 'number', dl_limit: 'number', up_limit: 'number',
  })) {
    assert.equal(typeof p[k], type, `preference ${k}: ${JSON.stringify(p[k])}`);
  }
  await client.setPreferences({ max_ratio_enabled: true, max_ratio: 3.5, dl_limit: 2048000 });
  const q = await client.getPreferences();
  assert.equal(q.max_ratio_enabled, true);
  assert.equal(q.max_ratio, 3.5);
  assert.equal(q.dl_limit, 2048000);
  await client.setPreferences({ max_ratio_enabled: false, dl_limit: 0 });
  const r = await client.getPreferences();
  assert.equal(r.max_ratio_enabled, false);
  assert.equal(r.dl_limit, 0);
});

await step('categories', async () => {
  await client.createCategory('qcat', cfg.catDir);
  let cats = await client.getCategories();
  assert.equal(cats.qcat.name, 'qcat');
  assert.equal(cats.qcat.savePath, cfg.catDir);
  await client.editCategory('qcat', cfg.catDir + '2');
  cats = await client.getCategories();
  assert.equal(cats.qcat.savePath, cfg.catDir + '2');
  await client.createCategory('gone');
  await client.removeCategory('gone');
  cats = await client.getCategories();
  assert.equal(cats.gone, undefined);
});

await step('addTorrent (complete data)', async () => {
  await client.addTorrent(cfg.single.torrent, { savepath: cfg.single.dataDir, category: 'qcat', tags: 'x,y' });
  await waitFor('the torrent to seed', async () => {
    const t = await client.getTorrent(single);
    return t.state === 'seeding' && t.isCompleted;
  });
  const raw = await byHash(single);
  assert.equal(raw.category, 'qcat');
  assert.deepEqual(raw.tags.split(', ').sort(), ['x', 'y']);
  assert.equal(raw.save_path, cfg.single.dataDir);
  assert.equal(raw.progress, 1);
  assert.equal(raw.amount_left, 0);
  assert.equal(raw.total_size, cfg.single.size);
  assert.equal(raw.size, cfg.single.size);
  assert.equal(raw.content_path, join(cfg.single.dataDir, cfg.single.file));
  assert.ok(raw.added_on > 1.5e9 && raw.added_on < 1e10, `added_on ${raw.added_on} in unix seconds`);
  assert.match(raw.magnet_uri, new RegExp(`^magnet:\\?xt=urn:btih:${single}`, 'i'));
  assert.ok(['stalledUP', 'uploading'].includes(raw.state), raw.state);
  assert.equal(raw.eta, 8640000);
});

await step('addMagnet (paused)', async () => {
  await client.addMagnet(cfg.magnet, { paused: 'true' });
  await waitFor('the magnet to be listed', async () => (await byHash(mag))?.state === 'pausedDL');
  const raw = await byHash(mag);
  assert.equal(raw.progress, 0);
});

await step('addTorrent (paused, no data) and files', async () => {
  await client.addTorrent(cfg.multi.torrent, { paused: 'true' });
  await waitFor('the torrent to be listed', async () => (await byHash(multi))?.state === 'pausedDL');
  const files = await client.torrentFiles(multi);
  assert.equal(files.length, 2);
  assert.deepEqual(files.map((f) => f.index), [0, 1]);
  assert.ok(files.every((f) => f.priority === 1 && f.progress === 0 && Array.isArray(f.piece_range)));
  assert.deepEqual(files.map((f) => f.name).sort(), cfg.multi.files.slice().sort());
  await client.setFilePriority(multi, [1], 0);
  await client.setFilePriority(multi, [0], 6);
  const after = await client.torrentFiles(multi);
  assert.equal(after[1].priority, 0);
  assert.equal(after[0].priority, 6);
  // qBittorrent counts the wanted files' bytes, gobit the wanted pieces'.
  const raw = await byHash(multi);
  assert.ok(raw.size >= after[0].size && raw.size <= raw.total_size, `size ${raw.size}`);
});

await step('listTorrents filters', async () => {
  const hashes = async (opts) => (await client.listTorrents(opts)).map((t) => t.hash).filter((h) => [single, multi, mag].includes(h)).sort();
  assert.deepEqual(await hashes({}), [single, multi, mag].sort());
  assert.deepEqual(await hashes({ filter: 'paused' }), [multi, mag].sort());
  assert.deepEqual(await hashes({ filter: 'resumed' }), [single]);
  assert.deepEqual(await hashes({ filter: 'completed' }), [single]);
  assert.deepEqual(await hashes({ filter: 'seeding' }), [single]);
  assert.deepEqual(await hashes({ filter: 'downloading' }), [multi, mag].sort());
  assert.deepEqual(await hashes({ category: 'qcat' }), [single]);
  assert.deepEqual(await hashes({ tag: 'x' }), [single]);
  assert.deepEqual(await hashes({ hashes: [single, mag] }), [single, mag].sort());
  const sorted = (await client.listTorrents({ sort: 'name' })).map((t) => t.name);
  assert.deepEqual(sorted, sorted.slice().sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  const rev = (await client.listTorrents({ sort: 'name', reverse: true })).map((t) => t.name);
  assert.deepEqual(rev, sorted.slice().reverse());
  const page = await client.listTorrents({ sort: 'name', limit: 1, offset: 1 });
  assert.equal(page.length, 1);
  assert.equal(page[0].name, sorted[1]);
});

await step('getAllData and getTorrent', async () => {
  const all = await client.getAllData();
  assert.ok(all.torrents.length >= 3);
  assert.ok(all.labels.some((l) => l.id === 'qcat' && l.count === 1));
  const t = await client.getTorrent(multi);
  assert.equal(t.state, 'paused');
  assert.equal(t.id, multi);
});

await step('properties, trackers, pieces', async () => {
  const p = await client.torrentProperties(single);
  assert.equal(p.save_path, cfg.single.dataDir);
  assert.equal(p.total_size, cfg.single.size);
  assert.equal(p.piece_size, cfg.single.pieceLength);
  assert.equal(p.pieces_num, cfg.single.pieces);
  assert.equal(p.pieces_have, cfg.single.pieces);
  assert.equal(p.comment, 'gobit test');
  assert.ok(p.addition_date > 1.5e9);
  const tr = await client.torrentTrackers(single);
  assert.deepEqual(tr.slice(0, 3).map((x) => x.url), ['** [DHT] **', '** [PeX] **', '** [LSD] **']);
  assert.equal(tr[3].url, cfg.tracker);
  assert.equal(tr[3].tier, 0);
  const ps = await client.torrentPieceStates(single);
  assert.equal(ps.length, cfg.single.pieces);
  assert.ok(ps.every((s) => s === 2));
  const ph = await client.torrentPieceHashes(single);
  assert.deepEqual(ph, cfg.single.pieceHashes);
});

await step('pause and resume', async () => {
  await client.pauseTorrent(single);
  await waitFor('pausedUP', async () => (await byHash(single)).state === 'pausedUP');
  await client.resumeTorrent(single);
  await waitFor('seeding again', async () => ['stalledUP', 'uploading'].includes((await byHash(single)).state));
  await client.pauseTorrent('all');
  await waitFor('all paused', async () => (await client.listTorrents({ filter: 'resumed' })).length === 0);
  await client.resumeTorrent([single]);
  await waitFor('seeding again', async () => ['stalledUP', 'uploading'].includes((await byHash(single)).state));
});

await step('tags', async () => {
  await client.createTags('made');
  assert.ok((await client.getTags()).includes('made'));
  await client.addTorrentTags(single, 'z');
  assert.deepEqual((await byHash(single)).tags.split(', ').sort(), ['x', 'y', 'z']);
  await client.removeTorrentTags(single, 'x');
  assert.deepEqual((await byHash(single)).tags.split(', ').sort(), ['y', 'z']);
  const tags = await client.getTags();
  assert.ok(tags.includes('z') && tags.includes('made'), JSON.stringify(tags));
  await client.deleteTags('made');
  assert.ok(!(await client.getTags()).includes('made'));
});

await step('setTorrentCategory', async () => {
  await client.setTorrentCategory(mag, 'qcat');
  assert.equal((await byHash(mag)).category, 'qcat');
  await client.resetTorrentCategory(mag);
  assert.equal((await byHash(mag)).category, '');
});

await step('limits', async () => {
  await client.setTorrentDownloadLimit(single, 512000);
  await client.setTorrentUploadLimit(single, 256000);
  assert.equal((await client.getTorrentDownloadLimit(single))[single], 512000);
  assert.equal((await client.getTorrentUploadLimit(single))[single], 256000);
  const raw = await byHash(single);
  assert.equal(raw.dl_limit, 512000);
  assert.equal(raw.up_limit, 256000);
  await client.setTorrentDownloadLimit(single, 0);
  assert.equal((await client.getTorrentDownloadLimit(single))[single], 0);
});

await step('queue', async () => {
  await client.setPreferences({ queueing_enabled: true, max_active_downloads: 3, max_active_torrents: 5, max_active_uploads: 3 });
  assert.equal((await client.getPreferences()).queueing_enabled, true);
  const prio = async (h) => (await byHash(h)).priority;
  const before = async () => (await prio(multi)) > 0 && (await prio(multi)) < (await prio(mag));
  const after = async () => (await prio(multi)) > (await prio(mag));
  await client.topPriority(multi);
  await waitFor('top', before, 10000);
  await client.bottomPriority(multi);
  await waitFor('bottom', after, 10000);
  await client.queueUp(multi);
  await waitFor('up', before, 10000);
  await client.queueDown(multi);
  await waitFor('down', after, 10000);
  await client.setPreferences({ queueing_enabled: false });
  assert.equal((await client.getPreferences()).queueing_enabled, false);
});

await step('sync maindata', async () => {
  const full = await client.getSyncMainData(0);
  assert.equal(full.full_update, true);
  assert.ok(full.torrents[multi], 'the torrent in the full update');
  assert.equal(full.categories.qcat.name, 'qcat');
  assert.equal(typeof full.server_state.dl_info_speed, 'number');
  await client.addTorrentTags(multi, 'synced');
  let seen;
  await waitFor('the change in an incremental update', async () => {
    const inc = await client.getSyncMainData(full.rid);
    assert.ok(!inc.full_update, 'incremental');
    seen = inc.torrents?.[multi];
    return seen?.tags === 'synced';
  });
  assert.equal(seen.name, undefined, 'only changed fields');
  await client.removeTorrentTags(multi, 'synced');
});

await step('recheck and reannounce', async () => {
  await client.recheckTorrent(single);
  await client.reannounceTorrent(single);
  await waitFor('seeding after the recheck', async () => {
    const t = await byHash(single);
    return t.progress === 1 && ['stalledUP', 'uploading'].includes(t.state);
  });
});

await step('setTorrentLocation', async () => {
  await client.setTorrentLocation(single, cfg.moveDir);
  await waitFor('the move', async () => (await byHash(single)).save_path === cfg.moveDir && existsSync(join(cfg.moveDir, cfg.single.file)));
});

await step('renameFile, renameFolder, setTorrentName', async () => {
  const renamed = join(cfg.moveDir, 'renamed', cfg.single.file);
  await client.renameFile(single, cfg.single.file, 'renamed/' + cfg.single.file);
  await waitFor('the renamed file', async () => (await client.torrentFiles(single))[0].name === 'renamed/' + cfg.single.file &&
    existsSync(renamed) && !existsSync(join(cfg.moveDir, cfg.single.file)));
  await waitFor('content_path at the new place', async () => (await byHash(single)).content_path === renamed);
  assert.equal((await byHash(single)).progress, 1);
  if (cfg.gobit) {
    // qBittorrent 4.6 accepts this one; gobit never lets a name leave the
    // save directory.
    await assert.rejects(client.renameFile(single, 'renamed/' + cfg.single.file, '../escape.bin'), 'a path leaving the save path');
  }
  await assert.rejects(client.renameFile(single, 'no-such-file', 'x'), 'a file the torrent has not');

  await client.renameFolder(multi, 'album', 'disc');
  await waitFor('the renamed folder', async () => (await client.torrentFiles(multi)).map((f) => f.name).sort().join() === 'disc/a.flac,disc/b.txt');

  await client.setTorrentName(single, 'Shown name');
  await waitFor('the new name', async () => (await byHash(single)).name === 'Shown name');
  assert.equal((await client.torrentFiles(single))[0].name, 'renamed/' + cfg.single.file);
});

await step('removeTorrent', async () => {
  await client.removeTorrent(mag, false);
  await client.removeTorrent(single, true);
  await waitFor('the torrents gone', async () => (await client.listTorrents({ hashes: [single, mag] })).length === 0);
  await waitFor('the data deleted', async () => !existsSync(join(cfg.moveDir, 'renamed', cfg.single.file)));
  await client.removeTorrent(multi, false);
  await client.removeCategory('qcat');
  assert.equal((await client.getCategories()).qcat, undefined);
});

console.log('DONE');
