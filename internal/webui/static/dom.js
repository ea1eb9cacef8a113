// DOM helpers. Text from the network only ever goes into textContent or
// attribute values, never into markup.

/** el creates an element: el('td', {class: 'num'}, 'text', child, …). */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** $ returns the element with the given id. */
export const $ = (id) => document.getElementById(id);

/** clear removes every child of e. */
export function clear(e) {
  while (e.firstChild) e.firstChild.remove();
}

/** progressBar returns a bar element showing fraction p (0 to 1). */
export function progressBar(p, cls) {
  const fill = el('div', { class: 'fill' + (cls ? ' ' + cls : '') });
  fill.style.width = (Math.max(0, Math.min(1, p)) * 100).toFixed(1) + '%';
  return el('div', { class: 'progress' }, el('div', { class: 'bar' }, fill), el('span', { class: 'pct', text: pct(p) }));
}

/** pct formats a fraction as a percentage. */
export function pct(p) {
  if (!(p > 0)) return '0%';
  if (p >= 1) return '100%';
  return (Math.floor(p * 1000) / 10).toFixed(1) + '%';
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** bytes formats a size in binary units. */
export function bytes(n) {
  if (!Number.isFinite(n) || n < 0) return '–';
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)) + ' ' + units[i];
}

/** rate formats bytes per second; 0 is an empty cell. */
export function rate(n) {
  return n > 0 ? bytes(n) + '/s' : '';
}

/** duration formats seconds as "1d 2h", "3h 4m", "5m 6s", "7s". */
export function duration(s) {
  if (!(s >= 0) || !Number.isFinite(s)) return '∞';
  s = Math.round(s);
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60, sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

/** eta formats a torrent's eta field: '' when complete, ∞ when unknown. */
export function eta(s, state) {
  if (state === 'seeding' || state === 'paused') return '';
  if (s === 0) return '';
  if (s < 0) return '∞';
  return duration(s);
}

/** when formats an RFC 3339 time in the browser's locale. */
export function when(t) {
  if (!t) return '–';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? '–' : d.toLocaleString();
}
