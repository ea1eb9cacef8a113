// attack.js is the script of the attacker's pages; browser_test.go inlines
// it into each page after a line setting CFG:
//   CFG.targets     base URLs of the daemon to attack ("http://127.0.0.1:port")
//   CFG.mode        fetch mode of the POSTs: "no-cors" from another origin
//                   (no preflight, the answer is opaque), "cors" from the
//                   daemon's own origin (the DNS-rebinding page)
//   CFG.hashPrefix  first hex digits of the info hashes of this page's magnets
//   CFG.infoHash    the torrent the daemon already has (to move, pause, delete)
//   CFG.victimDir   a directory the attacker wants data written into
//   CFG.moveDir     where the attacker wants the torrent moved
//   CFG.torrentB64  a .torrent whose one file has the name of a file in victimDir
// It tries every request a web page can make without a CORS preflight, each
// simple Content-Type and real form submissions, then the preflighted ones,
// and records what the page could see in window.__results. window.__done is
// set at the end.
'use strict';

(async () => {
  const results = [];
  window.__results = results;
  const enc = new TextEncoder();
  let n = 0;
  const nextHash = () => {
    n++;
    const tail = ('0'.repeat(40) + n.toString(16)).slice(-(40 - CFG.hashPrefix.length));
    return CFG.hashPrefix + tail;
  };
  const magnet = () => 'magnet:?xt=urn:btih:' + nextHash() + '&dn=attack' + n;
  const torrentBytes = Uint8Array.from(atob(CFG.torrentB64), (c) => c.charCodeAt(0));

  async function attempt(kind, method, url, init) {
    const rec = { kind, method, url, host: new URL(url).host, path: new URL(url).pathname };
    try {
      const r = await fetch(url, Object.assign({ method, credentials: 'include', cache: 'no-store' }, init));
      rec.type = r.type;
      rec.status = r.status;
      if (r.type !== 'opaque') rec.body = (await r.text()).slice(0, 400);
    } catch (e) {
      rec.error = String(e);
    }
    results.push(rec);
  }

  const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

  // form submits a real HTML form into a hidden iframe and waits for the
  // iframe to load the answer (or 10 s).
  async function form(kind, url, enctype, fields) {
    const name = 'frame' + results.length;
    const ifr = document.createElement('iframe');
    ifr.name = name;
    document.body.appendChild(ifr);
    await sleep(0); // let about:blank's load event pass
    const f = document.createElement('form');
    f.method = 'POST';
    f.action = url;
    f.enctype = enctype;
    f.target = name;
    for (const [k, v] of fields) {
      const i = document.createElement('input');
      i.type = 'hidden';
      i.name = k;
      i.value = v;
      f.appendChild(i);
    }
    document.body.appendChild(f);
    const rec = { kind, method: 'POST', url, host: new URL(url).host, path: new URL(url).pathname, form: enctype };
    await new Promise((resolve) => {
      const timer = setTimeout(() => { rec.error = 'no load event within 10 s'; resolve(); }, 10000);
      ifr.addEventListener('load', () => { clearTimeout(timer); rec.loaded = true; resolve(); }, { once: true });
      f.submit();
    });
    results.push(rec);
  }

  const multipart = (pairs) => {
    const fd = new FormData();
    for (const [k, v] of pairs) fd.append(k, v);
    return fd;
  };

  const mode = CFG.mode;
  // DELETE and PATCH are never "no-cors": from another origin they need a
  // preflight, which the daemon does not grant.
  const preflighted = 'cors';
  for (const T of CFG.targets) {
    const add = T + '/api/v1/torrents?download_dir=' + encodeURIComponent(CFG.victimDir);
    const move = T + '/api/v1/torrents/' + CFG.infoHash + '/move';
    const moveBody = JSON.stringify({ path: CFG.moveDir });

    await attempt('add/magnet text/plain', 'POST', T + '/add/magnet', { mode, body: magnet() });
    await attempt('add/magnet form-urlencoded', 'POST', T + '/add/magnet',
      { mode, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: magnet() });
    await attempt('add/magnet multipart', 'POST', T + '/add/magnet', { mode, body: multipart([['uri', magnet()]]) });
    await attempt('add/magnet no Content-Type', 'POST', T + '/add/magnet', { mode, body: enc.encode(magnet()) });

    await attempt('add text/plain + download_dir', 'POST', add, { mode, body: magnet() });
    await attempt('add form-urlencoded + download_dir', 'POST', add,
      { mode, body: new URLSearchParams([['uri', magnet()], ['download_dir', CFG.victimDir]]) });
    await attempt('add multipart uri + download_dir', 'POST', T + '/api/v1/torrents',
      { mode, body: multipart([['uri', magnet()], ['download_dir', CFG.victimDir]]) });
    const withFile = new FormData();
    withFile.append('torrent', new Blob([torrentBytes], { type: 'application/x-bittorrent' }), 'evil.torrent');
    withFile.append('download_dir', CFG.victimDir);
    await attempt('add multipart .torrent + download_dir', 'POST', T + '/api/v1/torrents', { mode, body: withFile });
    await attempt('add no Content-Type + download_dir', 'POST', add, { mode, body: enc.encode(magnet()) });

    await attempt('move no Content-Type', 'POST', move, { mode, body: enc.encode(moveBody) });
    await attempt('move text/plain', 'POST', move, { mode, body: moveBody });
    await attempt('pause', 'POST', T + '/api/v1/torrents/' + CFG.infoHash + '/pause', { mode });

    await attempt('delete with data', 'DELETE', T + '/api/v1/torrents/' + CFG.infoHash + '?delete_data=true',
      { mode: mode === 'no-cors' ? preflighted : mode });
    await attempt('patch session', 'PATCH', T + '/api/v1/session', {
      mode: mode === 'no-cors' ? preflighted : mode,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ download_limit: 1 }),
    });
    await attempt('read the torrent list', 'GET', T + '/api/v1/torrents', { mode: 'cors' });

    const h = nextHash();
    await form('form text/plain /add/magnet', T + '/add/magnet', 'text/plain',
      [['magnet:?xt=urn:btih:' + h + '&dn', 'attack-form']]);
    await form('form multipart add + download_dir', T + '/api/v1/torrents', 'multipart/form-data',
      [['uri', magnet()], ['download_dir', CFG.victimDir]]);
    await form('form urlencoded add + download_dir', add, 'application/x-www-form-urlencoded',
      [['uri', magnet()]]);
  }
  window.__done = true;
})().catch((e) => {
  window.__results = window.__results || [];
  window.__results.push({ kind: 'script error', error: String(e) });
  window.__done = true;
});
