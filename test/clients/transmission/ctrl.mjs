// Drives @ctrl/transmission against a Transmission RPC server (gobit or
// transmission-daemon); run by ctrl_test.go. Environment: RPC_URL,
// RPC_USER, RPC_PASS, SERVER_KIND, TORRENT_FILE, TORRENT_HASH, TORRENT_NAME,
// DOWNLOAD_DIR, MOVE_DIR. Prints OK at the end; a failed check exits 1.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Transmission } from '@ctrl/transmission';

const env = process.env;
const client = new Transmission({ baseUrl: env.RPC_URL, username: env.RPC_USER, password: env.RPC_PASS, timeout: 30000 });
const hash = env.TORRENT_HASH;
const magnetHash = 'c0ffee'.repeat(6) + 'c0ffee'.slice(0, 4);

function check(cond, what, detail) {
  if (!cond) {
    console.error('FAILED: ' + what + (detail === undefined ? '' : ': ' + JSON.stringify(detail)));
    process.exit(1);
  }
}
function ok(res, what) {
  check(res && res.result === 'success', what + ' succeeded', res);
  return res;
}
async function waitFor(what, cond) {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise(r => setTimeout(r, 200));
  }
  check(false, 'timed out waiting for ' + what);
}
const get = async id => (await client.listTorrents(id)).arguments.torrents[0];

const session = ok(await client.getSession(), 'getSession');
check(session.arguments['download-dir'] === env.DOWNLOAD_DIR, 'download-dir', session.arguments['download-dir']);
check(session.arguments['rpc-version'] >= 15, 'rpc-version', session.arguments['rpc-version']);
check(typeof session.arguments.version === 'string', 'version');

ok(await client.setSession({ 'speed-limit-up': 123, 'speed-limit-up-enabled': true }), 'setSession');
const s2 = ok(await client.getSession(), 'getSession');
check(s2.arguments['speed-limit-up'] === 123 && s2.arguments['speed-limit-up-enabled'] === true, 'speed-limit-up set', s2.arguments);
ok(await client.setSession({ 'speed-limit-up-enabled': false }), 'setSession off');

const added = ok(await client.addTorrent(readFileSync(env.TORRENT_FILE), { 'download-dir': env.DOWNLOAD_DIR }), 'addTorrent');
check(added.arguments['torrent-added'].hashString === hash, 'torrent-added hash', added.arguments);
const dup = ok(await client.addTorrent(readFileSync(env.TORRENT_FILE), { 'download-dir': env.DOWNLOAD_DIR }), 'addTorrent again');
check(dup.arguments['torrent-duplicate'] && dup.arguments['torrent-duplicate'].hashString === hash, 'torrent-duplicate', dup.arguments);
const mag = ok(await client.addMagnet('magnet:?xt=urn:btih:' + magnetHash + '&dn=ctrl-magnet', { 'download-dir': env.DOWNLOAD_DIR, paused: true }), 'addMagnet');
check(mag.arguments['torrent-added'].hashString === magnetHash, 'magnet added', mag.arguments);

await waitFor('the torrent to seed', async () => (await get(hash)).percentDone === 1 && [5, 6].includes((await get(hash)).status));
const raw = await get(hash);
for (const [k, type] of Object.entries({
  id: 'number', name: 'string', hashString: 'string', totalSize: 'number', sizeWhenDone: 'number', leftUntilDone: 'number',
  percentDone: 'number', status: 'number', eta: 'number', rateDownload: 'number', rateUpload: 'number', uploadRatio: 'number',
  downloadDir: 'string', addedDate: 'number', doneDate: 'number', activityDate: 'number', error: 'number', errorString: 'string',
  isFinished: 'boolean', isStalled: 'boolean', isPrivate: 'boolean', queuePosition: 'number', secondsSeeding: 'number',
  seedRatioLimit: 'number', seedRatioMode: 'number', peersConnected: 'number', magnetLink: 'string', 'peer-limit': 'number',
})) {
  check(typeof raw[k] === type, `field ${k} is a ${type}`, raw[k]);
}
check(raw.name === env.TORRENT_NAME && raw.leftUntilDone === 0 && raw.downloadDir === env.DOWNLOAD_DIR, 'torrent values', raw);
check(Array.isArray(raw.files) && raw.files.length === 2 && raw.fileStats.length === 2 && raw.wanted.length === 2 && raw.priorities.length === 2, 'files', raw.files);
check(Array.isArray(raw.labels) && Array.isArray(raw.peers) && Array.isArray(raw.trackers) && typeof raw.peersFrom === 'object', 'lists', raw);

const t = await client.getTorrent(hash);
check(t.id === hash && t.name === env.TORRENT_NAME && t.progress === 1 && t.isCompleted === true, 'normalized torrent', t);
const all = await client.getAllData();
check(all.torrents.length === 2, 'getAllData has both torrents', all.torrents.map(x => x.id));

ok(await client.setTorrent(hash, { labels: ['ctrl'] }), 'setTorrent labels');
await waitFor('the label', async () => (await client.getTorrent(hash)).label === 'ctrl');
const labelled = await client.getAllData();
check(labelled.labels.some(l => l.id === 'ctrl' && l.count === 1), 'labels in getAllData', labelled.labels);

// Queue: the magnet was added second.
const pos = async h => (await get(h)).queuePosition;
ok(await client.queueTop(magnetHash), 'queueTop');
check(await pos(magnetHash) === 0 && await pos(hash) === 1, 'queue after top', [await pos(magnetHash), await pos(hash)]);
ok(await client.queueDown(magnetHash), 'queueDown');
check(await pos(magnetHash) === 1, 'queue after down');
ok(await client.queueUp(magnetHash), 'queueUp');
check(await pos(magnetHash) === 0, 'queue after up');
ok(await client.queueBottom(magnetHash), 'queueBottom');
check(await pos(magnetHash) === 1, 'queue after bottom');

ok(await client.pauseTorrent(hash), 'pauseTorrent');
await waitFor('stopped', async () => (await get(hash)).status === 0);
ok(await client.resumeTorrent(hash), 'resumeTorrent');
await waitFor('started', async () => (await get(hash)).status !== 0);
ok(await client.verifyTorrent(hash), 'verifyTorrent');
await waitFor('verified', async () => (await get(hash)).percentDone === 1 && [5, 6].includes((await get(hash)).status));
ok(await client.reannounceTorrent(hash), 'reannounceTorrent');

const free = ok(await client.freeSpace(env.DOWNLOAD_DIR), 'freeSpace');
check(free.arguments['size-bytes'] > 0 && free.arguments.path === env.DOWNLOAD_DIR, 'free space', free.arguments);

ok(await client.moveTorrent(hash, env.MOVE_DIR), 'moveTorrent');
await waitFor('moved', async () => (await get(hash)).downloadDir === env.MOVE_DIR && existsSync(join(env.MOVE_DIR, env.TORRENT_NAME, 'a.bin')));

const renamed = ok(await client.renamePath(hash, { path: env.TORRENT_NAME + '/a.bin', name: 'renamed.bin' }), 'renamePath');
check(renamed.arguments.path === env.TORRENT_NAME + '/a.bin' && renamed.arguments.name === 'renamed.bin' && typeof renamed.arguments.id === 'number',
  'renamePath answer', renamed.arguments);
await waitFor('the renamed file', async () => (await get(hash)).files.some(f => f.name === env.TORRENT_NAME + '/renamed.bin') &&
  existsSync(join(env.MOVE_DIR, env.TORRENT_NAME, 'renamed.bin')) && !existsSync(join(env.MOVE_DIR, env.TORRENT_NAME, 'a.bin')));
check((await get(hash)).percentDone === 1, 'still complete after the rename', await get(hash));
// The torrent's top folder: the torrent takes its name.
ok(await client.renamePath(hash, { path: env.TORRENT_NAME, name: 'top-renamed' }), 'renamePath of the top folder');
await waitFor('the renamed torrent', async () => (await get(hash)).name === 'top-renamed' &&
  (await get(hash)).files.every(f => f.name.startsWith('top-renamed/')) && existsSync(join(env.MOVE_DIR, 'top-renamed', 'renamed.bin')));
const badRename = await client.renamePath(hash, { path: 'top-renamed/renamed.bin', name: '../escape.bin' }).catch(e => ({ result: String(e) }));
check(badRename.result !== 'success', 'a name with a slash is refused', badRename);

ok(await client.removeTorrent(magnetHash, false), 'removeTorrent');
ok(await client.removeTorrent(hash, true), 'removeTorrent with data');
await waitFor('both removed', async () => (await client.listTorrents()).arguments.torrents.length === 0);
const bogus = await client.request('no-such-method');
check(bogus._data.result === 'method name not recognized', 'unknown method', bogus._data);
console.log('OK');
