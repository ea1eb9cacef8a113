// A small bencode reader, for listing a .torrent's files in the add dialog
// before it is sent. Hostile input: bounded depth, every length checked;
// anything malformed throws.

const MAX_DEPTH = 64;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** decode parses bencoded bytes: dicts become Maps keyed by strings, byte strings stay Uint8Arrays. */
export function decode(buf) {
  let i = 0;
  const digits = (end) => {
    let n = 0, start = i;
    if (buf[i] === 0x2d) i++; // '-'
    while (i < buf.length && buf[i] >= 0x30 && buf[i] <= 0x39) { n = n * 10 + (buf[i] - 0x30); i++; }
    if (i === start || buf[i] !== end) throw new Error('bad number');
    i++;
    if (!Number.isSafeInteger(n)) throw new Error('number too large');
    return buf[start] === 0x2d ? -n : n;
  };
  const value = (depth) => {
    if (depth > MAX_DEPTH) throw new Error('nested too deep');
    if (i >= buf.length) throw new Error('truncated');
    const c = buf[i];
    if (c === 0x69) { i++; return digits(0x65); } // i…e
    if (c === 0x6c) { // l…e
      i++;
      const a = [];
      while (buf[i] !== 0x65) { if (i >= buf.length) throw new Error('truncated'); a.push(value(depth + 1)); }
      i++;
      return a;
    }
    if (c === 0x64) { // d…e
      i++;
      const m = new Map();
      while (buf[i] !== 0x65) {
        if (i >= buf.length) throw new Error('truncated');
        const k = value(depth + 1);
        if (!(k instanceof Uint8Array)) throw new Error('dictionary key is not a string');
        m.set(utf8.decode(k), value(depth + 1));
      }
      i++;
      return m;
    }
    const n = digits(0x3a); // length:bytes
    if (n < 0 || i + n > buf.length) throw new Error('bad string length');
    const s = buf.subarray(i, i + n);
    i += n;
    return s;
  };
  const v = value(0);
  return v;
}

/**
 * torrentFiles lists a .torrent's files as {index, path, size}, padding
 * files (BEP 47) left out and not counted, as the daemon numbers them.
 */
export function torrentFiles(bytes) {
  const t = decode(bytes);
  const info = t instanceof Map ? t.get('info') : null;
  if (!(info instanceof Map)) throw new Error('no info dictionary');
  const str = (v) => (v instanceof Uint8Array ? utf8.decode(v) : '');
  const name = str(info.get('name.utf-8') || info.get('name'));
  const files = info.get('files');
  if (!Array.isArray(files)) return { name, files: [{ index: 0, path: name, size: Number(info.get('length')) || 0 }] };
  const out = [];
  for (const f of files) {
    if (!(f instanceof Map)) continue;
    if (str(f.get('attr')).includes('p')) continue;
    const p = f.get('path.utf-8') || f.get('path');
    const parts = Array.isArray(p) ? p.map(str) : [];
    out.push({ index: out.length, path: [name, ...parts].join('/'), size: Number(f.get('length')) || 0 });
  }
  return { name, files: out };
}
