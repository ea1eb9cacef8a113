// gobit web UI: the torrent list, dialogs, keyboard shortcuts, live data.
import { $, el, clear, progressBar, pct, bytes, rate, eta, duration, when } from './dom.js';
import * as api from './api.js';
import { Detail } from './detail.js';
import { torrentFiles } from './bencode.js';
import { Organizer, splitTags } from './organize.js';

const POLL_MS = 2000;       // list refresh while there is no event stream
const HISTORY = 150;        // speed samples kept (5 minutes at 2 s)

// ---- state ---------------------------------------------------------------

const torrents = new Map(); // info_hash → status
let view = [];              // the filtered, sorted statuses shown
const selected = new Set(); // info hashes
let cursor = null;          // the focused torrent (keyboard, detail pane)
let anchor = null;          // start of a shift-range
let sortKey = localStorage.getItem('gobit-sort') || 'added_at';
let sortDir = Number(localStorage.getItem('gobit-sort-dir')) || 1;
let stateFilter = 'all';
let catFilter = null;       // null: any category; '': none
let tagFilter = null;       // null: any tag
let search = '';
let settings = null;
let categories = null;      // GET /api/v1/categories; null when the daemon has none
let mode = 'connecting';
const history = new Map();  // info_hash → [{d, u}] and '' → totals
let dropped = [];           // files dropped or picked for the add dialog

// ---- columns -------------------------------------------------------------

const stateOrder = { downloading: 0, metadata: 1, checking: 2, queued: 3, seeding: 4, paused: 5, error: 6 };
const columns = [
  // The queue position, when the daemon has queues (col-org, as below).
  { key: 'queue_position', label: '#', width: '44px', cls: 'num hide-narrow col-org', fmt: (t) => (t.queue_position > 0 ? String(t.queue_position) : ''),
    sort: (t) => (t.queue_position > 0 ? t.queue_position : Infinity) },
  { key: 'name', label: 'Name', width: 'minmax(140px, 3fr)', cls: 'name', sort: (t) => t.name.toLowerCase() },
  { key: 'total_size', label: 'Size', width: '80px', cls: 'num hide-narrow', fmt: (t) => t.total_size ? bytes(t.total_size) : '?' },
  { key: 'progress', label: 'Progress', width: 'minmax(90px, 1.3fr)', cls: 'progress-cell' },
  { key: 'state', label: 'State', width: '104px', cls: 'hide-narrow', sort: (t) => stateOrder[t.state] ?? 9 },
  { key: 'download_rate', label: 'Down', width: '86px', cls: 'num', fmt: (t) => rate(t.download_rate) },
  { key: 'upload_rate', label: 'Up', width: '86px', cls: 'num hide-narrow', fmt: (t) => rate(t.upload_rate) },
  { key: 'peers', label: 'Peers', width: '58px', cls: 'num hide-narrow', fmt: (t) => t.peers ? `${t.peers} (${t.seeds || 0})` : '' },
  { key: 'ratio', label: 'Ratio', width: '52px', cls: 'num hide-narrow', fmt: (t) => (t.ratio || 0).toFixed(2) },
  { key: 'eta', label: 'ETA', width: '64px', cls: 'num hide-narrow', fmt: (t) => eta(t.eta, t.state),
    sort: (t) => (t.eta < 0 ? Infinity : t.eta) },
  // Shown when the daemon has categories and tags (the statuses carry them).
  { key: 'category', label: 'Category', width: 'minmax(60px, .8fr)', cls: 'hide-narrow col-org', fmt: (t) => t.category || '',
    sort: (t) => (t.category || '').toLowerCase() },
  { key: 'tags', label: 'Tags', width: 'minmax(60px, .8fr)', cls: 'hide-narrow col-org', fmt: (t) => (Array.isArray(t.tags) ? t.tags.join(', ') : ''),
    sort: (t) => (Array.isArray(t.tags) ? t.tags.join(',').toLowerCase() : '') },
];
let hasOrg = false; // the statuses carry category and tags
let applyColumns = () => {};
const sortFn = (key) => {
  const c = columns.find((c) => c.key === key);
  return c?.sort || ((t) => t[key] ?? 0);
};

// ---- list ----------------------------------------------------------------

const list = $('list'), viewport = $('viewport'), spacer = $('spacer'), thead = $('thead');
let rowH = 34;
const pool = []; // row elements, reused
let renderQueued = false, viewDirty = true;

function setupColumns() {
  // Narrow screens hide some columns; the grid template must match.
  const narrow = matchMedia('(max-width: 760px)');
  const apply = () => {
    const shown = columns.filter((c) => !(narrow.matches && (c.cls || '').includes('hide-narrow')) &&
      (hasOrg || !(c.cls || '').includes('col-org')));
    list.classList.toggle('no-org', !hasOrg);
    list.style.setProperty('--cols', shown.map((c) => c.width).join(' '));
    rowH = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row-h')) || 34;
    viewDirty = true; queueRender();
  };
  narrow.addEventListener('change', apply);
  applyColumns = apply;
  for (const c of columns) {
    const b = el('button', { class: (c.cls || '').replace('name', '').replace('progress-cell', ''), 'data-key': c.key, title: 'Sort by ' + c.label.toLowerCase(), text: c.label });
    b.addEventListener('click', () => {
      if (sortKey === c.key) sortDir = -sortDir; else { sortKey = c.key; sortDir = c.key === 'name' ? 1 : -1; }
      localStorage.setItem('gobit-sort', sortKey); localStorage.setItem('gobit-sort-dir', String(sortDir));
      viewDirty = true; queueRender();
    });
    thead.append(b);
  }
  apply();
}

function updateHeader() {
  for (const b of thead.children) {
    b.setAttribute('aria-sort', b.dataset.key === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
  }
}

function rebuildView() {
  const q = search.trim().toLowerCase();
  const f = sortFn(sortKey);
  const rows = [];
  for (const t of torrents.values()) {
    if (stateFilter === 'active') { if (!(t.download_rate > 0 || t.upload_rate > 0)) continue; }
    else if (stateFilter !== 'all' && t.state !== stateFilter) continue;
    if (q && !t.name.toLowerCase().includes(q) && !t.info_hash.startsWith(q)) continue;
    if (catFilter !== null && (t.category || '') !== catFilter) continue;
    if (tagFilter !== null && !(Array.isArray(t.tags) && t.tags.includes(tagFilter))) continue;
    rows.push(t);
  }
  const keyed = rows.map((t) => [f(t), t]);
  keyed.sort((a, b) => (a[0] < b[0] ? -sortDir : a[0] > b[0] ? sortDir : a[1].info_hash < b[1].info_hash ? -1 : 1));
  view = keyed.map((k) => k[1]);
  updateHeader();
  updateFilterCounts();
}

function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; render(); });
}

/** render draws the rows in sight (and a few more), reusing row elements. */
function render() {
  if (viewDirty) { rebuildView(); viewDirty = false; }
  const org = [...torrents.values()].some((t) => 'category' in t);
  if (org !== hasOrg) { hasOrg = org; applyColumns(); }
  spacer.style.height = view.length * rowH + 'px';
  // Line the header up with the rows, whatever the scrollbar takes.
  thead.style.paddingRight = (parseFloat(getComputedStyle(thead).paddingLeft) || 0) + (viewport.offsetWidth - viewport.clientWidth) + 'px';
  $('empty').hidden = torrents.size > 0;
  const top = viewport.scrollTop, h = viewport.clientHeight || 600;
  const first = Math.max(0, Math.floor(top / rowH) - 5);
  const last = Math.min(view.length, Math.ceil((top + h) / rowH) + 5);
  const need = last - first;
  while (pool.length < need) pool.push(makeRow());
  for (let i = 0; i < pool.length; i++) {
    const r = pool[i];
    if (i < need) {
      fillRow(r, view[first + i], first + i);
      if (!r.isConnected) viewport.append(r);
    } else if (r.isConnected) r.remove();
  }
  updateButtons();
  updateStatus();
}

function makeRow() {
  const r = el('div', { class: 'row', role: 'row' });
  r.cells = {};
  for (const c of columns) {
    const cell = el('div', { class: 'cell ' + (c.cls || ''), role: 'gridcell' });
    if (c.key === 'progress') {
      const fill = el('div', { class: 'fill' });
      const p = el('span', { class: 'pct' });
      cell.append(el('div', { class: 'progress' }, el('div', { class: 'bar' }, fill), p));
      cell.fill = fill; cell.pct = p;
    } else if (c.key === 'state') {
      cell.badge = el('span', { class: 'state' });
      cell.append(cell.badge);
    }
    r.cells[c.key] = cell;
    r.append(cell);
  }
  r.addEventListener('click', (e) => onRowClick(r.hash, e));
  r.addEventListener('dblclick', () => openDetail(r.hash));
  return r;
}

function fillRow(r, t, i) {
  r.hash = t.info_hash;
  r.style.transform = `translateY(${i * rowH}px)`;
  r.style.height = rowH + 'px';
  r.classList.toggle('selected', selected.has(t.info_hash));
  r.classList.toggle('cursor', cursor === t.info_hash);
  r.setAttribute('aria-selected', selected.has(t.info_hash) ? 'true' : 'false');
  r.dataset.hash = t.info_hash;
  r.dataset.state = t.state;
  for (const c of columns) {
    const cell = r.cells[c.key];
    if (c.key === 'progress') {
      cell.fill.style.width = (Math.max(0, Math.min(1, t.progress || 0)) * 100).toFixed(1) + '%';
      cell.fill.className = 'fill' + (t.state === 'error' ? ' error' : t.state === 'paused' ? ' paused' : t.progress >= 1 ? ' done' : '');
      cell.pct.textContent = pct(t.progress || 0);
    } else if (c.key === 'state') {
      cell.badge.className = 'state st-' + t.state;
      cell.badge.textContent = t.state === 'paused' && t.finished ? 'finished' : t.state;
      cell.title = t.error || '';
    } else {
      const v = c.fmt ? c.fmt(t) : String(t[c.key] ?? '');
      if (cell.textContent !== v) cell.textContent = v;
      if (c.key === 'name') cell.title = t.name;
    }
  }
}

function onRowClick(hash, e) {
  if (!hash) return;
  if (e.shiftKey && anchor) {
    selectRange(anchor, hash, e.ctrlKey || e.metaKey);
  } else if (e.ctrlKey || e.metaKey) {
    if (selected.has(hash)) selected.delete(hash); else selected.add(hash);
    anchor = hash;
  } else {
    selected.clear(); selected.add(hash); anchor = hash;
    openDetail(hash);
  }
  cursor = hash;
  viewport.focus({ preventScroll: true });
  queueRender();
}

function selectRange(from, to, add) {
  const a = view.findIndex((t) => t.info_hash === from), b = view.findIndex((t) => t.info_hash === to);
  if (a < 0 || b < 0) return;
  if (!add) selected.clear();
  for (let i = Math.min(a, b); i <= Math.max(a, b); i++) selected.add(view[i].info_hash);
}

function moveCursor(delta, extend) {
  const i = view.findIndex((t) => t.info_hash === cursor);
  moveTo(i < 0 ? (delta > 0 ? 0 : view.length - 1) : i + delta, extend);
}

/** moveTo puts the cursor (and the selection) on row i of the view. */
function moveTo(i, extend) {
  if (!view.length) return;
  i = Math.max(0, Math.min(view.length - 1, i));
  const h = view[i].info_hash;
  if (extend && anchor) selectRange(anchor, h, false);
  else { selected.clear(); selected.add(h); anchor = h; }
  cursor = h;
  // Keep the cursor in sight.
  const y = i * rowH;
  if (y < viewport.scrollTop) viewport.scrollTop = y;
  else if (y + rowH > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = y + rowH - viewport.clientHeight;
  if (detail.open) detail.show(h);
  queueRender();
}

function selection() {
  return [...selected].filter((h) => torrents.has(h));
}

function updateButtons() {
  const sel = selection().map((h) => torrents.get(h));
  const n = sel.length;
  $('btn-pause').disabled = !sel.some((t) => t.state !== 'paused');
  $('btn-resume').disabled = !sel.some((t) => t.state === 'paused' || t.state === 'error');
  for (const id of ['btn-recheck', 'btn-move', 'btn-remove', 'btn-category']) $(id).disabled = n === 0;
  $('btn-category').hidden = categories === null;
  organizer.update();
}

// ---- filters and status bar ---------------------------------------------

const filterStates = ['all', 'active', 'downloading', 'seeding', 'paused', 'queued', 'checking', 'metadata', 'error'];
function setupFilters() {
  const sel = $('state-filter');
  for (const s of filterStates) sel.append(el('option', { value: s, text: s }));
  sel.addEventListener('change', () => { stateFilter = sel.value; viewDirty = true; queueRender(); });
  $('cat-filter').addEventListener('change', (e) => { catFilter = e.target.value === '\u0000any' ? null : e.target.value; viewDirty = true; queueRender(); });
  $('tag-filter').addEventListener('change', (e) => { tagFilter = e.target.value === '\u0000any' ? null : e.target.value; viewDirty = true; queueRender(); });
  $('search').addEventListener('input', (e) => { search = e.target.value; viewDirty = true; queueRender(); });
}

/** fillSelect sets a filter's options to any, then values, keeping the choice. */
function fillSelect(sel, anyLabel, values, noneLabel) {
  const want = [['\u0000any', anyLabel]];
  if (noneLabel) want.push(['', noneLabel]);
  for (const v of values) want.push([v, v]);
  const same = sel.options.length === want.length && want.every(([v, l], i) => sel.options[i].value === v && sel.options[i].textContent === l);
  if (same) return;
  const cur = sel.options.length ? sel.value : '\u0000any'; // an empty select's value is '', "none"
  clear(sel);
  for (const [v, l] of want) sel.append(el('option', { value: v, text: l }));
  sel.value = want.some(([v]) => v === cur) ? cur : '\u0000any';
}

function updateOrgFilters() {
  $('cat-filter').hidden = $('tag-filter').hidden = !hasOrg;
  if (!hasOrg) return;
  const cats = new Set(), tags = new Set();
  for (const c of categories || []) cats.add(c.name);
  for (const t of torrents.values()) {
    if (t.category) cats.add(t.category);
    if (Array.isArray(t.tags)) for (const g of t.tags) tags.add(g);
  }
  fillSelect($('cat-filter'), 'Any category', [...cats].sort(), 'No category');
  fillSelect($('tag-filter'), 'Any tag', [...tags].sort());
}

function updateFilterCounts() {
  updateOrgFilters();
  const counts = { all: torrents.size, active: 0 };
  for (const t of torrents.values()) {
    counts[t.state] = (counts[t.state] || 0) + 1;
    if (t.download_rate > 0 || t.upload_rate > 0) counts.active++;
  }
  for (const o of $('state-filter').options) {
    const label = `${o.value[0].toUpperCase()}${o.value.slice(1)} (${counts[o.value] || 0})`;
    if (o.textContent !== label) o.textContent = label;
  }
}

function totals() {
  let d = 0, u = 0;
  for (const t of torrents.values()) { d += t.download_rate || 0; u += t.upload_rate || 0; }
  return { d, u };
}

function updateStatus() {
  const { d, u } = totals();
  $('st-down').textContent = '↓ ' + (rate(d) || '0 B/s');
  $('st-up').textContent = '↑ ' + (rate(u) || '0 B/s');
  const shown = view.length === torrents.size ? `${torrents.size} torrents` : `${view.length} of ${torrents.size} torrents`;
  $('st-count').textContent = selected.size ? `${shown}, ${selection().length} selected` : shown;
  if (settings) {
    const lim = (n) => (n > 0 ? bytes(n) + '/s' : '∞');
    $('st-limits').textContent = `limits ↓ ${lim(settings.download_limit)} ↑ ${lim(settings.upload_limit)}`;
    const free = $('st-free');
    if (settings.total_space > 0) {
      free.textContent = `${bytes(settings.free_space)} free of ${bytes(settings.total_space)}`;
      free.title = 'Free space in ' + (settings.download_dir || 'the download directory');
      free.classList.toggle('low', settings.free_space < Math.min(settings.total_space * 0.05, 5 * 2 ** 30));
    } else if (settings.free_space_error) {
      free.textContent = 'free space unknown';
      free.title = settings.free_space_error;
    }
  }
  $('st-mode').textContent = mode === 'live' ? '● live' : mode === 'polling' ? '○ polling' : mode;
}

// ---- data ----------------------------------------------------------------

function setAll(list) {
  if (!Array.isArray(list)) return;
  torrents.clear();
  for (const t of list) if (t && typeof t.info_hash === 'string') torrents.set(t.info_hash, normalise(t));
  for (const h of selected) if (!torrents.has(h)) selected.delete(h);
  viewDirty = true; queueRender();
  detail.refreshStatus();
}

function normalise(t) {
  if (typeof t.name !== 'string') t.name = t.info_hash || '';
  return t;
}

function upsert(t) {
  if (!t || typeof t.info_hash !== 'string') return;
  const old = torrents.get(t.info_hash);
  torrents.set(t.info_hash, normalise(old ? Object.assign(old, t) : { ...t }));
  viewDirty = true; queueRender();
  if (t.info_hash === detail.hash) detail.refreshStatus();
}

function drop(hash) {
  torrents.delete(hash); selected.delete(hash); history.delete(hash);
  if (cursor === hash) cursor = null;
  if (detail.hash === hash) detail.close();
  viewDirty = true; queueRender();
}

let listInFlight = null, listAgain = false;
/**
 * refreshList fetches the whole list. A call while one is under way does
 * not ask twice at once: it asks once more when that one is done (its
 * answer may predate the change the caller made), and resolves then.
 */
async function refreshList() {
  if (listInFlight) { listAgain = true; return listInFlight; }
  if (document.hidden && torrents.size) return; // a background tab catches up when shown
  listInFlight = (async () => {
    do {
      listAgain = false;
      try {
        setAll(await api.call('GET', '/api/v1/torrents'));
        if (mode.startsWith('offline')) setMode(pollTimer ? 'polling' : 'live');
      } catch (e) {
        if (e.status !== 401) setMode('offline: ' + e.message);
      }
    } while (listAgain);
    listInFlight = null;
  })();
  return listInFlight;
}

let dhtRetry = 0, catRetry = 0;
let filesSupported = null; // the daemon takes a file selection with an add

/** probeFiles learns whether the daemon has file priorities: it knows the pieces route. */
async function probeFiles() {
  if (filesSupported !== null) return;
  try {
    await api.call('GET', `/api/v1/torrents/${'0'.repeat(40)}/pieces`);
    filesSupported = true;
  } catch (e) {
    if (e.status === 401) return;
    filesSupported = !(e.status === 404 && /^no such route/.test(e.message));
  }
}

async function refreshCategories() {
  probeFiles();
  if (Date.now() < catRetry) return;
  try {
    const c = await api.call('GET', '/api/v1/categories');
    categories = Array.isArray(c) ? c.filter((x) => x && typeof x.name === 'string') : null;
  } catch (e) {
    if (e.status === 404) { categories = null; catRetry = Date.now() + 300000; }
  }
  viewDirty = true; queueRender();
}

async function refreshSettings() {
  refreshCategories();
  try { settings = await api.call('GET', '/api/v1/session'); queueRender(); } catch { /* shown by the list */ }
  if (Date.now() < dhtRetry) return;
  try {
    const d = await api.call('GET', '/api/v1/dht');
    $('st-dht').textContent = `DHT ${d.good_nodes}/${d.nodes} nodes`;
  } catch (e) {
    $('st-dht').textContent = '';
    if (e.status === 404) dhtRetry = Date.now() + 300000; // the DHT is off: ask again in 5 minutes
  }
}

function setMode(m) { mode = m; updateStatus(); }

/**
 * onEvent applies one server-sent event of GET /api/v1/events (docs/api.md,
 * "Event stream"): snapshot {torrents, stats}, torrent-added and
 * torrent-state (whole statuses), torrent-progress (the moving figures),
 * torrent-removed {info_hash}, session-stats.
 */
let eventsSeen = 0;
let sessionStats = null; // the last session-stats event (kept for the console)
function onEvent(name, data) {
  eventsSeen++;
  const hashOf = (d) => (typeof d === 'string' ? d : d && (d.info_hash || d.hash));
  switch (name) {
    case 'snapshot':
      setAll(Array.isArray(data) ? data : data.torrents);
      if (data && data.stats) sessionStats = data.stats;
      break;
    case 'torrent-added': case 'torrent-state':
      upsert(data);
      break;
    case 'torrent-progress': // only the moving figures: for torrents already known
      if (data && torrents.has(data.info_hash)) upsert(data);
      break;
    case 'torrent-removed': { const h = hashOf(data); if (h) drop(h); break; }
    case 'session-stats': sessionStats = data; break;
    default: break;
  }
}

let pollTimer = null;
function startPolling() {
  if (pollTimer) return;
  setMode('polling');
  refreshList();
  pollTimer = setInterval(refreshList, POLL_MS);
}
function stopPolling() { clearInterval(pollTimer); pollTimer = null; }

/** connect follows the event stream when the daemon has one, and polls otherwise. */
async function connect() {
  let retry = 2000;
  for (;;) {
    let opened = false;
    const ok = await api.events((name, data) => {
      if (!opened) { opened = true; stopPolling(); setMode('live'); retry = 2000; }
      onEvent(name, data);
    });
    if (!ok) { startPolling(); return; } // no event stream: poll for good
    // The stream ended: poll while reconnecting.
    startPolling();
    await new Promise((r) => setTimeout(r, retry));
    retry = Math.min(retry * 2, 30000);
  }
}

function sample() {
  const push = (k, d, u) => {
    let a = history.get(k);
    if (!a) { if (!(d || u) && k !== '') return; a = []; history.set(k, a); }
    a.push({ d, u });
    if (a.length > HISTORY) a.shift();
  };
  const { d, u } = totals();
  push('', d, u);
  for (const t of torrents.values()) push(t.info_hash, t.download_rate || 0, t.upload_rate || 0);
  if (detail.open && detail.tab === 'speed') detail.drawGraph();
}

// ---- actions -------------------------------------------------------------

function toast(msg, isError) {
  const t = el('div', { class: 'toast' + (isError ? ' error' : ''), role: isError ? 'alert' : 'status', text: msg });
  $('toasts').append(t);
  setTimeout(() => t.remove(), isError ? 8000 : 3500);
}

/** each runs f on every hash, eight at a time, and reports failures. */
async function each(hashes, what, f) {
  const errors = [];
  let i = 0;
  const worker = async () => {
    while (i < hashes.length) {
      const h = hashes[i++];
      try { await f(h); } catch (e) { errors.push(`${torrents.get(h)?.name || h}: ${e.message}`); }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, hashes.length) }, worker));
  if (errors.length) toast(`${what} failed for ${errors.length} of ${hashes.length}: ${errors.slice(0, 3).join('; ')}`, true);
  if (mode !== 'live') refreshList();
}

const act = (verb) => (h) => api.call('POST', `/api/v1/torrents/${h}/${verb}`);

function pause() {
  const hs = selection().filter((h) => torrents.get(h).state !== 'paused');
  if (hs.length) each(hs, 'Pause', act('pause'));
}
function resume() {
  const hs = selection().filter((h) => ['paused', 'error'].includes(torrents.get(h).state));
  if (hs.length) each(hs, 'Resume', act('resume'));
}
function togglePause() {
  const sel = selection().map((h) => torrents.get(h));
  if (sel.some((t) => t.state !== 'paused' && t.state !== 'error')) pause(); else resume();
}
function recheck() { const hs = selection(); if (hs.length) each(hs, 'Recheck', act('recheck')); }

function namesInto(ul, hashes) {
  clear(ul);
  for (const h of hashes.slice(0, 8)) ul.append(el('li', { text: torrents.get(h)?.name || h }));
  if (hashes.length > 8) ul.append(el('li', { text: `and ${hashes.length - 8} more` }));
}

function askRemove() {
  const hs = selection();
  if (!hs.length) return;
  $('remove-title').textContent = hs.length === 1 ? 'Remove this torrent?' : `Remove ${hs.length} torrents?`;
  namesInto($('remove-names'), hs);
  $('remove-data').checked = false;
  const d = $('remove-dialog');
  d.onclose = () => {
    if (d.returnValue !== 'remove') return;
    const withData = $('remove-data').checked;
    each(hs, 'Remove', async (h) => {
      await api.call('DELETE', `/api/v1/torrents/${h}` + (withData ? '?delete_data=true' : ''));
      drop(h);
    });
  };
  d.returnValue = '';
  d.showModal();
  $('remove-submit').focus();
}

function askMove() {
  const hs = selection();
  if (!hs.length) return;
  $('move-title').textContent = hs.length === 1 ? 'Move this torrent' : `Move ${hs.length} torrents`;
  $('move-dir').value = torrents.get(hs[0])?.save_dir || '';
  $('move-error').hidden = true;
  const d = $('move-dialog');
  d.returnValue = '';
  d.onclose = () => {
    if (d.returnValue !== 'move') return;
    const dir = $('move-dir').value.trim();
    if (dir) each(hs, 'Move', (h) => api.call('POST', `/api/v1/torrents/${h}/move`, { path: dir }));
  };
  d.showModal();
}

async function askCategory() {
  const hs = selection();
  if (!hs.length || categories === null) return;
  await refreshCategories();
  if (categories === null) return;
  $('category-title').textContent = hs.length === 1 ? 'Set the category' : `Set the category of ${hs.length} torrents`;
  const sel = $('category-select');
  clear(sel);
  sel.append(el('option', { value: '', text: '(none)' }));
  for (const c of categories) sel.append(el('option', { value: c.name, text: c.name + (c.save_path ? ' — ' + c.save_path : '') }));
  sel.value = torrents.get(hs[0])?.category || '';
  const d = $('category-dialog');
  d.returnValue = '';
  d.onclose = () => {
    if (d.returnValue !== 'set') return;
    const cat = sel.value;
    each(hs, 'Set category', async (h) => upsert(await api.call('PATCH', `/api/v1/torrents/${h}`, { category: cat })));
  };
  d.showModal();
}

// ---- add dialog ----------------------------------------------------------

function openAdd(files) {
  const d = $('add-dialog');
  if (files) dropped = dropped.concat(files);
  showDropped();
  $('add-error').hidden = true;
  $('add-dir').value = localStorage.getItem('gobit-add-dir') || '';
  $('add-dir').placeholder = settings?.download_dir || '/srv/torrents';
  showAddFree();
  $('add-org').hidden = categories === null;
  if (categories !== null) {
    const sel = $('add-category'), cur = sel.value;
    clear(sel);
    sel.append(el('option', { value: '', text: '(none)' }));
    for (const c of categories) sel.append(el('option', { value: c.name, text: c.name }));
    sel.value = categories.some((c) => c.name === cur) ? cur : '';
  }
  if (!d.open) d.showModal();
  if (!files) $('add-uris').focus();
}

let freeTimer = 0, freeSeq = 0;
/** showAddFree says how much space the add dialog's save directory has. */
function showAddFree() {
  clearTimeout(freeTimer);
  const out = $('add-free');
  const dir = $('add-dir').value.trim();
  if (!dir) {
    out.textContent = settings && settings.total_space > 0 ? `${bytes(settings.free_space)} free in ${settings.download_dir}` : '';
    return;
  }
  if (!dir.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(dir)) { out.textContent = ''; return; }
  const seq = ++freeSeq;
  freeTimer = setTimeout(async () => {
    try {
      const f = await api.call('GET', '/api/v1/free-space?path=' + encodeURIComponent(dir));
      if (seq === freeSeq) out.textContent = `${bytes(f.free_space)} free on that disk (of ${bytes(f.total_space)})`;
    } catch (e) {
      if (seq === freeSeq) out.textContent = e.status === 404 ? '' : e.message;
    }
  }, 300);
}

let addSel = null; // {file, list} when one .torrent's files are offered

/** showFileChoice offers the files of a single .torrent, when the daemon takes a selection. */
async function showFileChoice() {
  const files = dropped.concat([...$('add-files').files]);
  const box = $('add-select'), ul = $('add-file-list');
  addSel = null;
  box.hidden = true;
  if (files.length !== 1 || !filesSupported) return;
  let parsed;
  try { parsed = torrentFiles(new Uint8Array(await files[0].arrayBuffer())); } catch { return; }
  if (parsed.files.length < 2 || parsed.files.length > 5000) return;
  clear(ul);
  for (const f of parsed.files) {
    ul.append(el('li', null, el('label', null, el('input', { type: 'checkbox', checked: true, 'data-index': f.index }),
      el('span', { text: f.path }), el('span', { class: 'size', text: bytes(f.size) }))));
  }
  addSel = { file: files[0], list: parsed.files };
  box.hidden = false;
}

function toBase64(u8) {
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}

function showDropped() {
  showFileChoice();
  const ul = $('add-dropped');
  clear(ul);
  dropped.forEach((f, i) => {
    ul.append(el('li', null, f.name + ' (' + bytes(f.size) + ')',
      el('button', { type: 'button', title: 'Leave out', 'aria-label': 'Leave out ' + f.name, onclick: () => { dropped.splice(i, 1); showDropped(); } }, '×')));
  });
}

async function submitAdd(e) {
  e.preventDefault();
  const uris = $('add-uris').value.split(/\s*\n\s*/).map((s) => s.trim()).filter(Boolean);
  const files = dropped.concat([...$('add-files').files]);
  const dir = $('add-dir').value.trim();
  const paused = $('add-paused').checked;
  const err = $('add-error');
  if (!uris.length && !files.length) { err.textContent = 'Paste a magnet link or URL, or choose .torrent files.'; err.hidden = false; return; }
  if (dir && !dir.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(dir)) { err.textContent = 'The save directory must be absolute.'; err.hidden = false; return; }
  $('add-submit').disabled = true;
  const problems = [];
  let added = 0;
  const org = {};
  if (!$('add-org').hidden) {
    if ($('add-category').value) org.category = $('add-category').value;
    const tags = splitTags($('add-tags').value);
    if (tags.length) org.tags = tags;
  }
  // One .torrent with some of its files left out: the JSON form, which
  // carries the selection.
  const only = addSel ? [...$('add-file-list').querySelectorAll('input[type=checkbox]')].filter((c) => c.checked).map((c) => Number(c.dataset.index)) : null;
  if (addSel && files.length === 1 && only.length < addSel.list.length) {
    if (!only.length) { err.textContent = 'Choose at least one file.'; err.hidden = false; $('add-submit').disabled = false; return; }
    const body = { torrent: toBase64(new Uint8Array(await files[0].arrayBuffer())), paused, only, ...org };
    if (dir) body.download_dir = dir;
    try { upsert(await api.call('POST', '/api/v1/torrents', body)); added++; } catch (x) { problems.push(x.message); }
    files.length = 0;
  }
  // The daemon takes at most 100 files per upload.
  for (let i = 0; i < files.length; i += 100) {
    const batch = files.slice(i, i + 100);
    const fd = new FormData();
    for (const f of batch) fd.append('torrents', f, f.name);
    if (dir) fd.append('download_dir', dir);
    fd.append('paused', paused ? 'true' : 'false');
    if (org.category) fd.append('category', org.category);
    if (org.tags) fd.append('tags', org.tags.join(','));
    try {
      const r = await api.call('POST', '/api/v1/torrents', fd);
      for (const t of [].concat(r || [])) { upsert(t); added++; }
    } catch (x) { problems.push(files.length > 1 ? `${batch.map((f) => f.name).join(', ').slice(0, 200)}: ${x.message}` : x.message); }
  }
  for (const uri of uris) {
    const body = { uri, paused, ...org };
    if (dir) body.download_dir = dir;
    try { upsert(await api.call('POST', '/api/v1/torrents', body)); added++; } catch (x) { problems.push(`${uri.slice(0, 60)}: ${x.message}`); }
  }
  $('add-submit').disabled = false;
  if (dir) localStorage.setItem('gobit-add-dir', dir);
  if (added) toast(`Added ${added} torrent${added > 1 ? 's' : ''}`);
  if (problems.length) {
    err.textContent = problems.join('\n'); err.hidden = false;
    return;
  }
  resetAdd();
  $('add-dialog').close('added');
  if (mode !== 'live') refreshList();
}

function resetAdd() {
  dropped = [];
  addSel = null;
  $('add-select').hidden = true;
  $('add-tags').value = '';
  $('add-uris').value = '';
  $('add-files').value = '';
  $('add-paused').checked = false;
  showDropped();
}

function setupDrop() {
  let depth = 0;
  const zone = $('dropzone');
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
  addEventListener('dragenter', (e) => { if (hasFiles(e)) { depth++; zone.hidden = false; e.preventDefault(); } });
  addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; zone.hidden = true; } });
  addEventListener('dragover', (e) => { if (hasFiles(e)) e.preventDefault(); });
  addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0; zone.hidden = true;
    const files = [...e.dataTransfer.files].filter((f) => f.size <= (10 << 20));
    const text = e.dataTransfer.getData('text/plain');
    if (text && /^magnet:|^https?:/i.test(text.trim())) $('add-uris').value = text.trim();
    if (files.length) openAdd(files);
  });
}

// ---- settings, token, theme ---------------------------------------------

async function openSettings() {
  await refreshSettings();
  if (!settings) return;
  $('set-down').value = Math.round(settings.download_limit / 1024);
  $('set-up').value = Math.round(settings.upload_limit / 1024);
  $('set-ratio').value = settings.ratio_limit;
  $('set-seedtime').value = Math.round(settings.seed_time_limit / 60);
  const q = 'max_active' in settings;
  $('queue-limits').hidden = !q;
  if (q) {
    $('set-maxdl').value = settings.max_active_downloads || 0;
    $('set-maxseed').value = settings.max_active_seeds || 0;
    $('set-maxactive').value = settings.max_active || 0;
  }
  $('settings-error').hidden = true;
  $('settings-dialog').showModal();
}

async function saveSettings(e) {
  e.preventDefault();
  const num = (id, mul) => Math.round(Number($(id).value || 0) * mul);
  const body = {
    download_limit: num('set-down', 1024), upload_limit: num('set-up', 1024),
    ratio_limit: Number($('set-ratio').value || 0), seed_time_limit: num('set-seedtime', 60),
  };
  if (!$('queue-limits').hidden) {
    body.max_active_downloads = num('set-maxdl', 1);
    body.max_active_seeds = num('set-maxseed', 1);
    body.max_active = num('set-maxactive', 1);
  }
  try {
    settings = await api.call('PATCH', '/api/v1/session', body);
    $('settings-dialog').close('saved');
    toast('Limits saved');
    updateStatus();
  } catch (x) { $('settings-error').textContent = x.message; $('settings-error').hidden = false; }
}

let tokenWaiters = null;
function askToken() {
  const d = $('token-dialog');
  if (d.open) return;
  $('token-error').hidden = !api.token();
  $('token-error').textContent = api.token() ? 'That token was refused.' : '';
  $('token-input').value = '';
  d.showModal();
}

function setupToken() {
  api.setUnauthorizedHandler(askToken);
  $('token-dialog').addEventListener('cancel', (e) => e.preventDefault());
  $('token-dialog').querySelector('form').addEventListener('submit', (e) => {
    e.preventDefault();
    api.setToken($('token-input').value.trim());
    $('token-dialog').close();
    refreshSettings();
    refreshList();
    if (mode !== 'live') { stopPolling(); connect(); }
  });
  void tokenWaiters;
}

const themes = ['auto', 'light', 'dark'];
function applyTheme(t) {
  if (t === 'auto') delete document.documentElement.dataset.theme; else document.documentElement.dataset.theme = t;
  $('btn-theme').textContent = t === 'auto' ? '◐ Auto' : t === 'dark' ? '◐ Dark' : '◐ Light';
  $('btn-theme').title = t === 'auto' ? 'Theme: follows the system' : `Theme: ${t}`;
  localStorage.setItem('gobit-theme', t);
  if (detail.open) detail.drawGraph();
}

// ---- keyboard ------------------------------------------------------------

function onKey(e) {
  if (document.querySelector('dialog[open]')) return;
  const tag = e.target.tagName;
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') {
    if (e.key === 'Escape' && e.target.id === 'search') { e.target.value = ''; search = ''; viewDirty = true; queueRender(); viewport.focus(); }
    else if ((e.key === 'ArrowDown' || e.key === 'Enter') && e.target.id === 'search') { e.preventDefault(); viewport.focus(); moveCursor(1, false); }
    return;
  }
  if (e.altKey) {
    const q = { ArrowUp: 'up', ArrowDown: 'down', Home: 'top', End: 'bottom' }[e.key];
    if (q && categories !== null) { e.preventDefault(); organizer.queue(q); }
    return;
  }
  const mod = e.ctrlKey || e.metaKey;
  let handled = true;
  switch (e.key) {
    case 'a': if (mod) { for (const t of view) selected.add(t.info_hash); queueRender(); } else openAdd(); break;
    case '/': $('search').focus(); break;
    case 'p': if (!mod) togglePause(); else handled = false; break;
    case 'r': if (!mod) recheck(); else handled = false; break;
    case 'm': if (!mod) askMove(); else handled = false; break;
    case 'c': if (!mod && categories !== null) askCategory(); else handled = false; break;
    case 't': if (!mod && categories !== null) organizer.askTags(); else handled = false; break;
    case 'f': if (!mod && categories !== null) organizer.forceStart(); else handled = false; break;
    case 'Delete': askRemove(); break;
    case 'ArrowDown': moveCursor(1, e.shiftKey); break;
    case 'ArrowUp': moveCursor(-1, e.shiftKey); break;
    case 'PageDown': moveCursor(Math.floor(viewport.clientHeight / rowH), e.shiftKey); break;
    case 'PageUp': moveCursor(-Math.floor(viewport.clientHeight / rowH), e.shiftKey); break;
    case 'Home': moveTo(0, e.shiftKey); break;
    case 'End': moveTo(view.length - 1, e.shiftKey); break;
    case 'Enter': if (cursor) openDetail(cursor); break;
    case 'Escape': if (detail.open) detail.close(); else { selected.clear(); queueRender(); } break;
    case '?': $('help-dialog').showModal(); break;
    default: handled = false;
  }
  if (handled) e.preventDefault();
}

// ---- detail --------------------------------------------------------------

const detail = new Detail({
  get: (h) => torrents.get(h),
  history: (h) => history.get(h) || [],
  onClose: () => queueRender(),
});

function openDetail(h) {
  cursor = h;
  detail.show(h);
  queueRender();
}

const organizer = new Organizer({
  torrents,
  selection,
  categories: () => categories,
  refreshCategories,
  refreshList,
  upsert,
  toast,
  each,
});

// ---- start ---------------------------------------------------------------

function start() {
  setupColumns();
  setupFilters();
  setupDrop();
  setupToken();
  applyTheme(localStorage.getItem('gobit-theme') || 'auto');
  $('btn-theme').addEventListener('click', () => {
    const cur = localStorage.getItem('gobit-theme') || 'auto';
    applyTheme(themes[(themes.indexOf(cur) + 1) % themes.length]);
  });
  $('btn-add').addEventListener('click', () => openAdd());
  $('btn-pause').addEventListener('click', pause);
  $('btn-resume').addEventListener('click', resume);
  $('btn-recheck').addEventListener('click', recheck);
  $('btn-move').addEventListener('click', askMove);
  $('btn-remove').addEventListener('click', askRemove);
  $('btn-category').addEventListener('click', askCategory);
  $('category-dialog').querySelector('button[value="cancel"]').addEventListener('click', (e) => { e.preventDefault(); $('category-dialog').close('cancel'); });
  $('btn-settings').addEventListener('click', openSettings);
  $('btn-help').addEventListener('click', () => $('help-dialog').showModal());
  $('add-form').addEventListener('submit', submitAdd);
  $('add-dialog').addEventListener('close', () => { if ($('add-dialog').returnValue !== 'added') dropped = []; });
  $('add-files').addEventListener('change', () => { $('add-error').hidden = true; showFileChoice(); });
  $('add-dir').addEventListener('input', showAddFree);
  const checkAll = (v) => { for (const c of $('add-file-list').querySelectorAll('input[type=checkbox]')) c.checked = v; };
  $('add-select-all').addEventListener('click', () => checkAll(true));
  $('add-select-none').addEventListener('click', () => checkAll(false));
  $('settings-dialog').querySelector('form').addEventListener('submit', saveSettings);
  for (const id of ['add-dialog', 'settings-dialog']) {
    $(id).querySelector('button[value="cancel"]').addEventListener('click', (e) => { e.preventDefault(); $(id).close('cancel'); });
  }
  $('move-dialog').querySelector('button[value="cancel"]').addEventListener('click', (e) => { e.preventDefault(); $('move-dialog').close('cancel'); });
  viewport.addEventListener('scroll', queueRender, { passive: true });
  addEventListener('resize', queueRender);
  addEventListener('keydown', onKey);
  document.addEventListener('visibilitychange', () => { if (!document.hidden && mode !== 'live') refreshList(); });
  refreshSettings();
  setInterval(refreshSettings, 15000);
  setInterval(sample, POLL_MS);
  connect();
  // For tests and the curious: the list's internals.
  window.gobitUI = { torrents, get view() { return view; }, selected, get mode() { return mode; }, get eventsSeen() { return eventsSeen; }, get sessionStats() { return sessionStats; },
    rerender() { viewDirty = true; render(); } };
}

start();
void duration; void when; void progressBar;
