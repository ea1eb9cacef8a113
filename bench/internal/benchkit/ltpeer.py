#!/usr/bin/python3
"""libtorrent seeder/leecher for the gobit benchmarks (bench/swarm, bench/wan).

Run with the system interpreter that has python3-libtorrent:

  ltpeer.py seed  --torrent T --save PARENT_OF_PAYLOAD --port P [--connect H:P ...]
  ltpeer.py leech --torrent T --save OUT_DIR --port P [--timeout S] [--seed-after]

Everything binds --bind (default 127.0.0.1); UPnP, NAT-PMP, LSD and DHT are
off. uTP is off unless --utp is given, so that every client in the benchmark
speaks TCP. --seed-mode starts a seeder without checking the whole payload
(libtorrent verifies each piece when it first sends it). --seed-after keeps a leecher running (seeding) after COMPLETE
until it is stopped.

Lines on stdout (flushed):
  READY port=P          listening (seed: and the payload checked complete)
  COMPLETE secs=S       leech: every piece downloaded and verified
  STATS up=N down=N     on exit: payload bytes uploaded and downloaded
  ERROR message         fatal error (exit 2)
  TIMEOUT               leech not complete after --timeout (exit 1)

Commands on stdin, one a line:
  connect H:P           dial the peer H:P (used for Transmission 3.00, which
                        never dials loopback peers itself)
SIGTERM/SIGINT or EOF on stdin with --exit-on-eof end the process (exit 0).
"""
import argparse
import os
import select
import signal
import sys
import time

import libtorrent as lt


def out(*a):
    print(*a, flush=True)


def hostport(s):
    h, p = s.rsplit(':', 1)
    return h.strip('[]'), int(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['seed', 'leech'])
    ap.add_argument('--torrent', required=True)
    ap.add_argument('--save', required=True)
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--connect', action='append', default=[])
    ap.add_argument('--utp', action='store_true')
    ap.add_argument('--timeout', type=float, default=0)
    ap.add_argument('--bind', default='127.0.0.1')
    ap.add_argument('--seed-after', action='store_true')
    ap.add_argument('--seed-mode', action='store_true',
                    help='seed: trust that the payload is complete and verify each piece when first sent, instead of checking it all at start')
    a = ap.parse_args()

    settings = {
        'listen_interfaces': f'{a.bind}:{a.port}',
        # a busy port must fail, not silently become another one
        'max_retry_port_bind': 0, 'listen_system_port_fallback': False,
        'enable_upnp': False, 'enable_natpmp': False, 'enable_lsd': False, 'enable_dht': False,
        # on loopback every peer is 127.0.0.1
        'allow_multiple_connections_per_ip': True,
        'ssrf_mitigation': False,
        'enable_incoming_utp': a.utp, 'enable_outgoing_utp': a.utp,
        'min_reconnect_time': 1, 'peer_connect_timeout': 5,
        'alert_mask': int(lt.alert.category_t.error_notification | lt.alert.category_t.status_notification),
        'user_agent': 'gobit-bench/libtorrent ' + lt.__version__,
    }
    ses = lt.session(settings)
    p = lt.add_torrent_params()
    try:
        p.ti = lt.torrent_info(a.torrent)
    except RuntimeError as e:
        out('ERROR', 'reading torrent:', e)
        sys.exit(2)
    p.save_path = a.save
    p.flags &= ~lt.torrent_flags.auto_managed
    p.flags &= ~lt.torrent_flags.paused
    p.flags |= lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd
    if a.seed_mode and a.mode == 'seed':
        p.flags |= lt.torrent_flags.seed_mode
    h = ses.add_torrent(p)

    stop = {'v': False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__('v', True))
    signal.signal(signal.SIGINT, lambda *_: stop.__setitem__('v', True))

    t0 = time.time()
    listening = ready = complete = False
    stdin_open = True
    code = 0
    while not stop['v']:
        for al in ses.pop_alerts():
            if isinstance(al, lt.listen_succeeded_alert):
                listening = True
            elif isinstance(al, lt.listen_failed_alert):
                out('ERROR', al.message())
                sys.exit(2)
            elif isinstance(al, (lt.torrent_error_alert, lt.file_error_alert)):
                out('ERROR', al.message())
                sys.exit(2)
        st = h.status()
        if listening and not ready:
            if a.mode == 'leech' or st.is_seeding:
                ready = True
                out(f'READY port={ses.listen_port()}')
                for c in a.connect:
                    h.connect_peer(hostport(c))
                h.force_reannounce()
            elif st.state in (lt.torrent_status.downloading, lt.torrent_status.finished):
                out(f'ERROR payload incomplete after the check (progress {st.progress:.3f}): wrong --save?')
                sys.exit(2)
        if a.mode == 'leech' and not complete and st.is_seeding:
            complete = True
            out(f'COMPLETE secs={time.time() - t0:.2f}')
            if not a.seed_after:
                break
        if a.timeout and not complete and time.time() - t0 > a.timeout:
            if a.mode == 'leech':
                out('TIMEOUT')
                code = 1
            break
        if stdin_open and ready:
            r, _, _ = select.select([sys.stdin], [], [], 0)
            if r:
                line = sys.stdin.readline()
                if not line:
                    stdin_open = False
                elif line.startswith('connect '):
                    try:
                        h.connect_peer(hostport(line.split()[1]))
                        out('CONNECTING', line.split()[1])
                    except (ValueError, RuntimeError) as e:
                        out('WARN bad connect command:', e)
        ses.wait_for_alert(100)
    st = h.status()
    out(f'STATS up={st.total_payload_upload} down={st.total_payload_download}')
    sys.exit(code)


if __name__ == '__main__':
    main()
