#!/usr/bin/python3
"""A small libtorrent DHT swarm on 127.0.0.1 for gobit's DHT interop test.

Usage: lt_dht.py --dir SCRATCH [--nodes 3] [--timeout 60]

Starts --nodes libtorrent sessions with DHT on 127.0.0.1, each on an
OS-chosen port (TCP + UDP; the DHT shares the UDP port). Node 0 is the
bootstrap node of the others. The last node seeds a small generated torrent
(payload in --dir) and announces it to the DHT (again every 3 s).

Stdout (line oriented, flushed):
  NODE <i> <port>               one per session
  SEED <v1 info hash hex> <port>
  READY                         all listening, the seeder is seeding
  PEERS <hex> <ip:port> ...     reply to a get_peers command
  ERROR ...                     (exit 2)
Stdin commands:
  get_peers <hex>               node 1 runs a DHT get_peers lookup
  add_node <ip:port>            every session adds this DHT node
Exits on EOF of stdin, SIGTERM or after --timeout seconds.
"""
import argparse
import os
import queue
import signal
import sys
import threading
import time

import libtorrent as lt


def out(*a):
    print(*a, flush=True)


def settings(boot):
    return {
        'listen_interfaces': '127.0.0.1:0',
        'enable_upnp': False, 'enable_natpmp': False, 'enable_lsd': False,
        'enable_dht': True,
        'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
        'dht_ignore_dark_internet': False, 'dht_prefer_verified_node_ids': False,
        'dht_enforce_node_id': False,
        'dht_bootstrap_nodes': boot,
        'allow_multiple_connections_per_ip': True,
        'alert_mask': int(lt.alert.category_t.error_notification
                          | lt.alert.category_t.status_notification
                          | lt.alert.category_t.dht_notification
                          | lt.alert.category_t.dht_operation_notification),
    }


def wait_listen(ses):
    deadline = time.time() + 10
    while time.time() < deadline:
        for al in ses.pop_alerts():
            if isinstance(al, lt.listen_succeeded_alert):
                return ses.listen_port()
            if isinstance(al, lt.listen_failed_alert):
                out('ERROR', al.message()); sys.exit(2)
        ses.wait_for_alert(100)
    out('ERROR listen timeout'); sys.exit(2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--nodes', type=int, default=3)
    ap.add_argument('--timeout', type=float, default=60)
    a = ap.parse_args()

    sessions, ports = [], []
    for i in range(a.nodes):
        boot = '' if i == 0 else f'127.0.0.1:{ports[0]}'
        ses = lt.session(settings(boot))
        ports.append(wait_listen(ses))
        if i > 0:
            ses.add_dht_node(('127.0.0.1', ports[0]))
        sessions.append(ses)
        out('NODE', i, ports[i])

    # The seeder: a generated single-file v1 torrent.
    os.makedirs(a.dir, exist_ok=True)
    path = os.path.join(a.dir, 'payload.bin')
    with open(path, 'wb') as f:
        f.write(os.urandom(100000))
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(ct, a.dir)
    ti = lt.torrent_info(ct.generate())
    p = lt.add_torrent_params()
    p.ti = ti
    p.save_path = a.dir
    p.flags &= ~lt.torrent_flags.auto_managed
    p.flags &= ~lt.torrent_flags.paused
    seeder = sessions[-1]
    h = seeder.add_torrent(p)
    ih = str(ti.info_hashes().v1)

    cmds = queue.Queue()

    def read_stdin():
        for line in sys.stdin:
            cmds.put(line.split())
        cmds.put(None)
    threading.Thread(target=read_stdin, daemon=True).start()

    stop = {'v': False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__('v', True))
    t0 = time.time()
    ready = False
    last_announce = 0
    while not stop['v'] and time.time() - t0 < a.timeout:
        st = h.status()
        if not ready and st.is_seeding:
            ready = True
            out('SEED', ih, ports[-1])
            out('READY')
        if ready and time.time() - last_announce > 3:
            last_announce = time.time()
            h.force_dht_announce()
        try:
            while True:
                c = cmds.get_nowait()
                if c is None:
                    stop['v'] = True
                    break
                if len(c) == 2 and c[0] == 'get_peers':
                    sessions[1 % len(sessions)].dht_get_peers(lt.sha1_hash(bytes.fromhex(c[1])))
                elif len(c) == 2 and c[0] == 'add_node':
                    host, port = c[1].rsplit(':', 1)
                    for s in sessions:
                        s.add_dht_node((host, int(port)))
        except queue.Empty:
            pass
        for s in sessions:
            for al in s.pop_alerts():
                if isinstance(al, lt.dht_get_peers_reply_alert):
                    peers = ' '.join(f'{ip}:{port}' for ip, port in al.peers())
                    out('PEERS', str(al.info_hash), peers)
                elif isinstance(al, (lt.torrent_error_alert, lt.file_error_alert)):
                    out('ERROR', al.message()); sys.exit(2)
        time.sleep(0.1)
    sys.exit(0)


if __name__ == '__main__':
    main()
