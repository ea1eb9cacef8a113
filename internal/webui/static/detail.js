// The detail pane: general info, files tree, peers, trackers, speed graph.
import { $, el, clear, progressBar, bytes, rate, eta, duration, when } from './dom.js';
import * as api from './api.js';

const REFRESH_MS = 2000;

// How the peers table shows a connection's transport and encryption.
const TRANSPORT = { tcp: 'TCP', utp: 'uTP' };
const ENCRYPTION = {
  rc4: { text: '🔒 RC4', cls: 'rc4', title: 'Encrypted: MSE handshake and RC4-encrypted stream' },
  plaintext: { text: '🔓 MSE', cls: 'plain', title: 'Obfuscated handshake (MSE), plain stream' },
  none: { text: 'none', cls: 'none', title: 'Not encrypted: plain handshake and stream' },
  unknown: { text: '?', cls: 'none', title: 'Encryption not reported' },
};

/** peerEncryption returns "rc4", "plaintext", "none" or "unknown". */
function peerEncryption(p) {
  if (p.encryption in ENCRYPTION) return p.encryption;
  return p.encrypted ? 'rc4' : 'unknown';
}

// The peers table's columns: a label and the value it sorts by.
const PEER_COLUMNS = [
  { key: 'addr', label: 'Address', value: (p) => p.addr || '' },
  { key: 'transport', label: 'Transport', value: (p) => p.transport || '' },
  { key: 'encryption', label: 'Encryption', value: (p) => ({ rc4: 2, plaintext: 1, none: 0 })[peerEncryption(p)] ?? -1 },
  { key: 'ip', label: 'IP', value: (p) => p.ip_version || 0 },
  { key: 'client', label: 'Client', value: (p) => p.client || '' },
  { key: 'flags', label: 'Flags', value: (p) => p.flags || '' },
  { key: 'progress', label: 'Has', value: (p) => p.progress || 0, num: true },
  { key: 'down', label: 'Down', value: (p) => p.download_rate || 0, num: true },
  { key: 'up', label: 'Up', value: (p) => p.upload_rate || 0, num: true },
  { key: 'source', label: 'Source', value: (p) => (p.source || '') + (p.outgoing ? ' out' : ' in') },
];

/** Detail shows one torrent's details, refreshed every two seconds. */
export class Detail {
  constructor({ get, history, onClose }) {
    this.get = get;               // info hash → status from the list
    this.history = history;       // info hash → speed samples
    this.onClose = onClose;
    this.hash = null;
    this.data = null;             // the last GET /api/v1/torrents/{hash}
    this.tab = 'general';
    this.collapsed = new Set();   // directories folded in the files tree
    this.peerSort = { key: 'rate', dir: -1 }; // the peers table's order
    this.timer = null;
    this.seq = 0;
    for (const b of $('tabs').children) b.addEventListener('click', () => this.setTab(b.dataset.tab));
    $('detail-close').addEventListener('click', () => this.close());
    new ResizeObserver(() => { if (this.open && this.tab === 'speed') this.drawGraph(); }).observe($('tab-speed'));
  }

  get open() { return !$('detail').hidden; }

  show(hash) {
    if (this.hash !== hash) { this.data = null; this.have = null; this.collapsed.clear(); }
    this.hash = hash;
    $('detail').hidden = false;
    this.refreshStatus();
    this.fetch();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.fetch(), REFRESH_MS);
  }

  close() {
    $('detail').hidden = true;
    clearInterval(this.timer);
    this.timer = null;
    this.hash = null;
    this.data = null;
    this.onClose();
  }

  setTab(tab) {
    this.tab = tab;
    for (const b of $('tabs').children) b.setAttribute('aria-selected', b.dataset.tab === tab ? 'true' : 'false');
    for (const t of ['general', 'files', 'peers', 'trackers', 'speed']) $('tab-' + t).hidden = t !== tab;
    this.render();
  }

  async fetch() {
    const hash = this.hash, seq = ++this.seq;
    if (!hash) return;
    try {
      const d = await api.call('GET', `/api/v1/torrents/${hash}`);
      if (seq !== this.seq || hash !== this.hash) return;
      this.data = d;
      if (this.piecesRoute !== false && d.pieces > 0 && this.tab === 'general') {
        try {
          const m = await api.call('GET', `/api/v1/torrents/${hash}/pieces`);
          if (hash === this.hash && m && typeof m.have === 'string') this.have = { pieces: m.pieces, bits: Uint8Array.from(atob(m.have), (c) => c.charCodeAt(0)) };
        } catch (e) {
          if (e.status === 404 || e.status === 405) this.piecesRoute = false; // a daemon without pieces maps
        }
      }
      this.render();
    } catch (e) {
      if (e.status === 404 && hash === this.hash) this.close();
    }
  }

  /** refreshStatus redraws from the list's status (between detail fetches). */
  refreshStatus() {
    if (!this.open || !this.hash) return;
    const s = this.get(this.hash);
    if (s && this.data) Object.assign(this.data, s);
    if (s && !this.data) this.data = { ...s, files: [], trackers: [], peer_list: [] };
    this.render();
  }

  render() {
    if (!this.open || !this.data) return;
    $('detail-name').textContent = this.data.name;
    $('detail-name').title = this.data.name;
    switch (this.tab) {
      case 'general': this.renderGeneral(); break;
      case 'files': this.renderFiles(); break;
      case 'peers': this.renderPeers(); break;
      case 'trackers': this.renderTrackers(); break;
      case 'speed': this.drawGraph(); break;
    }
  }

  renderGeneral() {
    const d = this.data;
    const dl = el('dl', { class: 'kv' });
    const row = (k, v, cls) => dl.append(el('dt', { text: k }), el('dd', { class: cls }, v));
    row('State', d.state === 'paused' && d.finished ? 'finished (seeding limit reached)' : d.state);
    if (d.error) row('Error', d.error, 'err');
    row('Progress', progressBar(d.progress || 0, d.progress >= 1 ? 'done' : d.state === 'paused' ? 'paused' : ''));
    if (this.have && this.have.pieces === d.pieces) {
      const c = el('canvas', { class: 'pieces', height: '16', 'aria-label': 'Pieces map' });
      row('Pieces map', c);
      requestAnimationFrame(() => this.drawPieces(c));
    }
    if (d.category !== undefined) row('Category', d.category || '(none)');
    if (Array.isArray(d.tags)) row('Tags', d.tags.length ? d.tags.join(', ') : '(none)');
    if (d.queue_position !== undefined) row('Queue', `position ${d.queue_position}${d.forced ? ', forced' : ''}`);
    row('Size', d.total_size ? `${bytes(d.total_size)} (${bytes(d.completed)} done)` : 'unknown until the metadata arrives');
    if (d.pieces) row('Pieces', `${d.pieces} × ${bytes(d.piece_length)}`);
    row('Downloaded', bytes(d.downloaded || 0));
    row('Uploaded', `${bytes(d.uploaded || 0)} (ratio ${(d.ratio || 0).toFixed(2)})`);
    row('Speed', `↓ ${rate(d.download_rate) || '0 B/s'}   ↑ ${rate(d.upload_rate) || '0 B/s'}`);
    row('Peers', `${d.peers || 0} connected, ${d.seeds || 0} seeds`);
    const e = eta(d.eta, d.state);
    if (e) row('ETA', e);
    row('Save to', el('span', { class: 'mono', text: d.save_dir || '' }));
    row('Added', when(d.added_at));
    row('Info hash', el('span', { class: 'mono', text: d.info_hash }));
    const lim = (n) => (n > 0 ? bytes(n) + '/s' : 'none');
    row('Limits', `↓ ${lim(d.download_limit)}  ↑ ${lim(d.upload_limit)}  ratio ${d.ratio_limit || 'session'}  seed time ${d.seed_time_limit ? duration(d.seed_time_limit) : 'session'}`);
    if (d.magnet) {
      const b = el('button', { type: 'button', text: 'Copy magnet link' });
      b.addEventListener('click', () => navigator.clipboard?.writeText(d.magnet).then(() => { b.textContent = 'Copied'; }, () => {}));
      row('Magnet', b);
    }
    const box = $('tab-general');
    clear(box);
    box.append(dl);
  }

  /** drawPieces draws the have-bitfield: one column per piece, or per group. */
  drawPieces(c) {
    const { pieces, bits } = this.have;
    const css = getComputedStyle(document.documentElement);
    const w = c.clientWidth || 400, h = 16;
    c.width = w; c.height = h;
    const g = c.getContext('2d');
    g.fillStyle = css.getPropertyValue('--bar'); g.fillRect(0, 0, w, h);
    g.fillStyle = css.getPropertyValue('--up').trim();
    const has = (i) => (bits[i >> 3] >> (7 - (i & 7))) & 1;
    for (let x = 0; x < w; x++) {
      const a = Math.floor((x * pieces) / w), b = Math.max(a + 1, Math.floor(((x + 1) * pieces) / w));
      let n = 0;
      for (let i = a; i < b && i < pieces; i++) n += has(i);
      if (n) { g.globalAlpha = n / (b - a); g.fillRect(x, 0, 1, h); }
    }
    g.globalAlpha = 1;
  }

  async setPriority(index, prio) {
    try {
      this.data = await api.call('PATCH', `/api/v1/torrents/${this.hash}/files`, { priorities: { [index]: prio } });
    } catch (e) {
      document.getElementById('toasts').append(el('div', { class: 'toast error', role: 'alert', text: 'Priority: ' + e.message }));
    }
    this.render();
  }

  renderFiles() {
    const box = $('tab-files');
    // Leave the list alone while the user picks a priority in it.
    if (box.contains(document.activeElement) && document.activeElement.tagName === 'SELECT') return;
    const files = this.data.files || [];
    clear(box);
    if (!files.length) { box.append(el('p', { text: 'The file list is known once the metadata has arrived.' })); return; }
    // Build the tree: directories aggregate their files' sizes and progress.
    const root = { name: '', dirs: new Map(), files: [], size: 0, done: 0 };
    files.forEach((f, i) => {
      const parts = String(f.path).split('/');
      let n = root;
      n.size += f.size; n.done += f.completed;
      for (const p of parts.slice(0, -1)) {
        if (!n.dirs.has(p)) n.dirs.set(p, { name: p, dirs: new Map(), files: [], size: 0, done: 0 });
        n = n.dirs.get(p);
        n.size += f.size; n.done += f.completed;
      }
      n.files.push({ ...f, name: parts[parts.length - 1], index: i, file_index: f.index });
    });
    const hasPrio = files.some((f) => typeof f.priority === 'string');
    const tbody = el('tbody');
    const add = (n, depth, prefix) => {
      for (const dnode of [...n.dirs.values()].sort((a, b) => a.name.localeCompare(b.name))) {
        const key = prefix + dnode.name + '/';
        const folded = this.collapsed.has(key);
        const tog = el('button', { class: 'tree-toggle', type: 'button', 'aria-expanded': folded ? 'false' : 'true', 'aria-label': (folded ? 'Expand ' : 'Collapse ') + dnode.name, text: folded ? '▸' : '▾' });
        tog.addEventListener('click', () => { if (this.collapsed.has(key)) this.collapsed.delete(key); else this.collapsed.add(key); this.renderFiles(); });
        const name = el('td', { class: 'tree-dir' }, tog, dnode.name);
        name.style.paddingLeft = 8 + depth * 16 + 'px';
        tbody.append(el('tr', { class: 'tree-row' }, name, el('td', { class: 'num', text: bytes(dnode.size) }),
          el('td', null, progressBar(dnode.size ? dnode.done / dnode.size : 1)), ...(hasPrio ? [el('td'), el('td')] : [])));
        if (!folded) add(dnode, depth + 1, key);
      }
      for (const f of n.files) {
        const name = el('td', { title: f.path, text: f.name });
        name.style.paddingLeft = 8 + depth * 16 + 26 + 'px';
        const extra = [];
        if (hasPrio) {
          const idx = Number.isInteger(f.file_index) ? f.file_index : f.index;
          const sel = el('select', { 'aria-label': 'Priority of ' + f.name, class: 'prio' },
            ...['skip', 'low', 'normal', 'high'].map((p) => el('option', { value: p, text: p })));
          sel.value = f.priority || 'normal';
          sel.addEventListener('change', () => this.setPriority(idx, sel.value));
          // A link to the stream; with a token, which a link cannot send,
          // a button that asks for a stream ticket and plays it here.
          const play = api.token()
            ? el('button', { type: 'button', class: 'play', text: 'play', 'aria-label': 'Play ' + f.name, onclick: () => playFile(this.hash, idx, f.name) })
            : el('a', { href: `/api/v1/torrents/${this.hash}/files/${idx}/stream`, target: '_blank', rel: 'noopener', text: 'play' });
          extra.push(el('td', null, sel), el('td', null, play));
        }
        tbody.append(el('tr', { class: 'tree-row', 'data-index': f.index }, name, el('td', { class: 'num', text: bytes(f.size) }),
          el('td', null, progressBar(f.progress)), ...extra));
      }
    };
    add(root, 0, '');
    box.append(el('table', { class: 'grid' },
      el('thead', null, el('tr', null, el('th', { text: `Name (${files.length} files)` }), el('th', { class: 'num', text: 'Size' }), el('th', { text: 'Progress' }),
        ...(hasPrio ? [el('th', { text: 'Priority' }), el('th', { text: '' })] : []))),
      tbody));
  }

  renderPeers() {
    const box = $('tab-peers');
    const peers = this.data.peer_list || [];
    clear(box);
    if (!peers.length) { box.append(el('p', { text: 'No peers connected.' })); return; }
    // Until a header is clicked, the busiest peers come first.
    const col = PEER_COLUMNS.find((c) => c.key === this.peerSort.key);
    const dir = this.peerSort.dir;
    const byRate = (a, b) => (b.download_rate + b.upload_rate) - (a.download_rate + a.upload_rate);
    const sorted = [...peers].sort((a, b) => {
      let c = 0;
      if (col) {
        const x = col.value(a), y = col.value(b);
        c = dir * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
      }
      return c || byRate(a, b) || String(a.addr).localeCompare(String(b.addr));
    });
    const tbody = el('tbody');
    for (const p of sorted) {
      const enc = ENCRYPTION[peerEncryption(p)] || ENCRYPTION.unknown;
      tbody.append(el('tr', { 'data-addr': p.addr },
        el('td', { class: 'mono', text: p.addr }),
        el('td', { class: 'peer-transport', title: p.transport === 'utp' ? 'uTP (µTorrent transport protocol, over UDP)' : 'TCP', text: TRANSPORT[p.transport] || '?' }),
        el('td', { class: 'peer-encryption', 'data-encryption': peerEncryption(p), title: enc.title },
          el('span', { class: 'badge enc-' + enc.cls, text: enc.text })),
        el('td', { class: 'peer-ip', text: p.ip_version ? 'IPv' + p.ip_version : '' }),
        el('td', { text: p.client || '' }),
        el('td', { class: 'mono', title: 'D/d download, U/u upload, S snubbed, E fast extension, X extension protocol', text: p.flags || '' }),
        el('td', { class: 'num', text: (p.progress * 100).toFixed(1) + '%' }),
        el('td', { class: 'num', text: rate(p.download_rate) }),
        el('td', { class: 'num', text: rate(p.upload_rate) }),
        el('td', { text: (p.source || '') + (p.outgoing ? ' →' : ' ←') })));
    }
    const heads = PEER_COLUMNS.map((c) => {
      const b = el('button', { class: 'th-sort', type: 'button', title: 'Sort by ' + c.label.toLowerCase(), text: c.label });
      b.addEventListener('click', () => {
        if (this.peerSort.key === c.key) this.peerSort.dir = -this.peerSort.dir;
        else this.peerSort = { key: c.key, dir: c.num ? -1 : 1 };
        this.renderPeers();
      });
      return el('th', { class: c.num ? 'num' : undefined, 'data-key': c.key, 'aria-sort': col && c.key === col.key ? (dir > 0 ? 'ascending' : 'descending') : 'none' }, b);
    });
    box.append(el('table', { class: 'grid peers' }, el('thead', null, el('tr', null, ...heads)), tbody));
  }

  renderTrackers() {
    const box = $('tab-trackers');
    const trs = this.data.trackers || [];
    clear(box);
    if (!trs.length) { box.append(el('p', { text: 'No trackers: peers come from the DHT, peer exchange and local discovery.' })); return; }
    const tbody = el('tbody');
    for (const t of trs) {
      tbody.append(el('tr', null,
        el('td', { class: 'num', text: t.tier }),
        el('td', { class: 'mono', text: t.url }),
        el('td', { text: t.status }),
        el('td', { class: 'num', text: t.seeders ?? 0 }),
        el('td', { class: 'num', text: t.leechers ?? 0 }),
        el('td', { class: 'num', text: t.peers ?? 0 }),
        el('td', { text: t.next_announce ? when(t.next_announce) : '' }),
        el('td', { class: 'err', text: t.error || '' })));
    }
    box.append(el('table', { class: 'grid' },
      el('thead', null, el('tr', null, ...['Tier', 'URL', 'Status', 'Seeders', 'Leechers', 'Peers', 'Next announce', 'Last error'].map((h, i) => el('th', { class: i === 0 || (i >= 3 && i <= 5) ? 'num' : undefined, text: h })))),
      tbody));
  }

  /** drawGraph plots the kept download and upload rate samples. */
  drawGraph() {
    if (!this.open || this.tab !== 'speed') return;
    const c = $('graph');
    const css = getComputedStyle(document.documentElement);
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth || 600, h = c.clientHeight || 200;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const samples = this.hash ? this.history(this.hash) : this.history('');
    $('graph-scope').textContent = `last ${duration(samples.length * 2)}, one sample every 2 s`;
    const max = Math.max(1024, ...samples.map((s) => Math.max(s.d, s.u)));
    const left = 70, top = 8, bottom = h - 18, right = w - 6;
    g.strokeStyle = css.getPropertyValue('--line'); g.fillStyle = css.getPropertyValue('--muted');
    g.font = '11px system-ui, sans-serif'; g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = top + (bottom - top) * i / 4;
      g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
      g.fillText(bytes(max * (4 - i) / 4) + '/s', 4, y + 4);
    }
    g.fillText('5 min ago', left, h - 4);
    g.fillText('now', right - 22, h - 4);
    const n = 150, step = (right - left) / (n - 1);
    const line = (key, color) => {
      if (samples.length < 2) return;
      g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
      samples.forEach((s, i) => {
        const x = left + (n - samples.length + i) * step;
        const y = bottom - (bottom - top) * s[key] / max;
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    };
    line('d', css.getPropertyValue('--down').trim());
    line('u', css.getPropertyValue('--up').trim());
  }
}

const audioExt = /\.(mp3|m4a|ogg|oga|opus|flac|wav|aac)$/i;

/**
 * playFile plays a file of a torrent in the player dialog, through a
 * stream ticket (POST …/stream-ticket): the URL carries the ticket, since
 * a <video src> cannot send the Authorization header.
 */
export async function playFile(hash, index, name) {
  let t;
  try {
    t = await api.call('POST', `/api/v1/torrents/${hash}/files/${index}/stream-ticket`);
  } catch (e) {
    $('toasts').append(el('div', { class: 'toast error', role: 'alert', text: 'Play: ' + e.message }));
    return;
  }
  if (!t || typeof t.url !== 'string' || !t.url.startsWith('/api/v1/torrents/')) return;
  const box = $('player-box');
  clear(box);
  const media = el(audioExt.test(name) ? 'audio' : 'video', { controls: true, autoplay: true, preload: 'auto', src: t.url, id: 'player-media' });
  box.append(media);
  $('player-title').textContent = name;
  $('player-link').href = t.url;
  const d = $('player-dialog');
  d.onclose = () => { media.pause(); media.removeAttribute('src'); media.load(); clear(box); };
  if (!d.open) d.showModal();
}
