#!/usr/bin/python3
"""Seed many torrents from one libtorrent session, for bench/scale.

  ltseeds.py --save DIR --port P --upload-limit BYTES_PER_S T1.torrent T2.torrent ...

The payloads are in DIR. Torrents start in seed mode (no full check).
Listens on 127.0.0.1:P; DHT, LSD, UPnP, NAT-PMP and uTP are off.
Prints "READY n=N" once every torrent is added, then runs until SIGTERM or
EOF on stdin, and prints "STATS up=BYTES" on exit. A line "connect H:P" on
stdin makes every torrent dial the peer H:P (Transmission never dials
loopback peers itself).
"""
import argparse
import select
import signal
import sys

import libtorrent as lt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--save', required=True)
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--upload-limit', type=int, default=0)
    ap.add_argument('torrents', nargs='+')
    a = ap.parse_args()
    s = lt.session({
        'listen_interfaces': '127.0.0.1:%d' % a.port,
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'upload_rate_limit': a.upload_limit,
        'active_seeds': len(a.torrents) + 10, 'active_limit': len(a.torrents) + 10,
        'allow_multiple_connections_per_ip': True,
        # Transmission (3.00, by our reading of its peer-mgr.c) drops an
        # incoming handshake while another from the same address is under
        # way, so most of the seeder's dials to it fail at first: retry
        # every second and never give a peer up (the defaults, 60 s and 3
        # failures, left torrents unconnected for minutes).
        'min_reconnect_time': 1, 'max_failcount': 1000,
        'alert_mask': 0,
    })
    hs = []
    for t in a.torrents:
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(t)
        p.save_path = a.save
        p.flags |= lt.torrent_flags.seed_mode
        hs.append(s.add_torrent(p))
    print('READY n=%d' % len(hs), flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        r, _, _ = select.select([sys.stdin], [], [], 1.0)
        if not r:
            continue
        line = sys.stdin.readline()
        if not line:
            break
        parts = line.split()
        if len(parts) == 2 and parts[0] == 'connect':
            host, port = parts[1].rsplit(':', 1)
            for h in hs:
                h.connect_peer((host.strip('[]'), int(port)))
    up = sum(h.status().all_time_upload for h in hs)
    print('STATS up=%d' % up, flush=True)


if __name__ == '__main__':
    main()
