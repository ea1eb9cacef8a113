#!/usr/bin/python3
"""A headless libtorrent peer for gobit's loopback interop tests.

Usage:
  lt_peer.py seed  --torrent FILE --save DIR --port P [options]
  lt_peer.py leech (--torrent FILE | --magnet URI) --save DIR --port P [options]

--save is the directory that holds (seed) or receives (leech) the torrent's
top-level file or folder. --port 0 lets the OS choose a free port; the port
actually bound is printed on the READY line.

Options:
  --no-utp        use TCP only (libtorrent prefers uTP on loopback otherwise)
  --listen HOST   the address to listen on (default 127.0.0.1; ::1 for IPv6)
  --no-tcp        use uTP only (no TCP connections in or out)
  --connect H:P   also connect to this peer directly (repeatable)
  --timeout S     leech: give up (exit 1) after S seconds; seed: exit 0 after S seconds
  --encryption E  protocol encryption: default (libtorrent's: MSE offered, plain
                  accepted), forced (MSE with RC4 only, both ways: out_enc_policy and
                  in_enc_policy pe_forced, allowed_enc_level pe_rc4) or disabled
                  (plain handshakes only, both ways)
  --upload-limit B  upload at most B bytes per second (loopback peers included)

Output, one line each, flushed:
  READY port=P               listening (seed: and the data passed the hash check)
  PEER ip:port client=NAME enc=E  a peer completed the handshake (first time only);
                             E is rc4, plaintext (MSE handshake, plain stream) or none
  DISCONNECT ip:port ERROR   with --encryption: a peer connection ended, and why
  METADATA received          a magnet's info dictionary arrived (BEP 9)
  STATUS ...                 once a second
  COMPLETE secs=S bytes=N    leech: every piece verified; the program exits 0
  TIMEOUT                    leech: not complete in time; exit 1
  ERROR ...                  exit 2

Loopback needs a few non-default settings: several connections per IP (all
peers are 127.0.0.1), no silent fallback to another port when the requested
one is busy, no SSRF filter against localhost trackers, and no UPnP, NAT-PMP,
LSD or DHT. SIGTERM and SIGINT end the program with exit 0.
"""
import argparse
import signal
import sys
import time

import libtorrent as lt


def say(*args):
    print(*args, flush=True)


def host_port(s):
    host, port = s.rsplit(':', 1)
    return host.strip('[]'), int(port)


def parse_args():
    ap = argparse.ArgumentParser(description='libtorrent peer for loopback tests')
    ap.add_argument('mode', choices=['seed', 'leech'])
    ap.add_argument('--torrent')
    ap.add_argument('--magnet')
    ap.add_argument('--save', required=True)
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--no-utp', action='store_true')
    ap.add_argument('--listen', default='127.0.0.1')
    ap.add_argument('--no-tcp', action='store_true')
    ap.add_argument('--connect', action='append', default=[])
    ap.add_argument('--timeout', type=float, default=None)
    ap.add_argument('--encryption', choices=['default', 'forced', 'disabled'], default='default')
    ap.add_argument('--upload-limit', type=int, default=0)
    a = ap.parse_args()
    if bool(a.torrent) == bool(a.magnet):
        say('ERROR give exactly one of --torrent and --magnet')
        sys.exit(2)
    if a.mode == 'seed' and not a.torrent:
        say('ERROR seed needs --torrent')
        sys.exit(2)
    return a


def encryption_settings(mode):
    if mode == 'forced':
        return {'out_enc_policy': int(lt.enc_policy.forced), 'in_enc_policy': int(lt.enc_policy.forced),
                'allowed_enc_level': int(lt.enc_level.rc4), 'prefer_rc4': True}
    if mode == 'disabled':
        return {'out_enc_policy': int(lt.enc_policy.disabled), 'in_enc_policy': int(lt.enc_policy.disabled)}
    return {}


def make_session(a):
    categories = lt.alert.category_t
    mask = categories.error_notification | categories.status_notification | categories.tracker_notification
    if a.encryption != 'default':
        mask |= categories.connect_notification
    settings = {
        'listen_interfaces': ('[%s]:%d' if ':' in a.listen else '%s:%d') % (a.listen, a.port),
        'max_retry_port_bind': 0,
        'listen_system_port_fallback': False,
        'enable_upnp': False, 'enable_natpmp': False, 'enable_lsd': False, 'enable_dht': False,
        'allow_multiple_connections_per_ip': True,
        'ssrf_mitigation': False,
        'enable_incoming_utp': not a.no_utp, 'enable_outgoing_utp': not a.no_utp,
        'enable_incoming_tcp': not a.no_tcp, 'enable_outgoing_tcp': not a.no_tcp,
        'announce_to_all_trackers': True, 'announce_to_all_tiers': True,
        'min_reconnect_time': 1, 'peer_connect_timeout': 5,
        'alert_mask': int(mask),
        'user_agent': 'gobit-interop/libtorrent ' + lt.__version__,
    }
    settings.update(encryption_settings(a.encryption))
    return lt.session(settings)


def flush_to_disk(ses, h, timeout=30):
    """Waits until the torrent's written blocks are out of libtorrent's
    buffers (save_resume_data with flush_disk_cache), at most timeout s."""
    h.save_resume_data(lt.torrent_handle.flush_disk_cache)
    deadline = time.time() + timeout
    while time.time() < deadline:
        ses.wait_for_alert(200)
        for al in ses.pop_alerts():
            if isinstance(al, (lt.save_resume_data_alert, lt.save_resume_data_failed_alert)):
                return


def limit_upload(ses, h, rate):
    """Caps the upload rate. libtorrent exempts local peers (loopback
    included) from session rate limits through its local peer class, so
    every address is put in the global class first; the torrent's own limit
    then applies to each of its peers."""
    f = lt.ip_filter()
    f.add_rule('0.0.0.0', '255.255.255.255', 1 << lt.session.global_peer_class_id)
    f.add_rule('::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 1 << lt.session.global_peer_class_id)
    ses.set_peer_class_filter(f)
    ses.apply_settings({'upload_rate_limit': rate})
    h.set_upload_limit(rate)


def add_torrent(ses, a):
    if a.torrent:
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(a.torrent)
    else:
        p = lt.parse_magnet_uri(a.magnet)
    p.save_path = a.save
    p.flags &= ~lt.torrent_flags.auto_managed
    p.flags &= ~lt.torrent_flags.paused
    p.flags |= lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd
    return ses.add_torrent(p)


def main():
    a = parse_args()
    ses = make_session(a)
    h = add_torrent(ses, a)
    if a.upload_limit > 0:
        limit_upload(ses, h, a.upload_limit)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    start = time.time()
    listening = ready = connected = False
    seen = set()
    last_status = 0.0
    while not stop:
        for al in ses.pop_alerts():
            if isinstance(al, lt.listen_succeeded_alert):
                listening = True
            elif isinstance(al, (lt.listen_failed_alert, lt.torrent_error_alert, lt.file_error_alert)):
                say('ERROR', al.message())
                sys.exit(2)
            elif isinstance(al, lt.metadata_received_alert):
                say('METADATA received')
            elif isinstance(al, (lt.tracker_error_alert, lt.tracker_warning_alert)):
                say('TRACKER', al.message())
            elif isinstance(al, lt.peer_disconnected_alert):
                say('DISCONNECT %s:%d %s' % (al.ip[0], al.ip[1], al.error.message()))
        st = h.status()
        if listening and not connected:
            connected = True
            for peer in a.connect:
                h.connect_peer(host_port(peer))
        if listening and not ready and (a.mode == 'leech' or st.is_seeding):
            ready = True
            say('READY port=%d' % ses.listen_port())
            h.force_reannounce()
        if a.mode == 'seed' and st.has_metadata and not st.is_seeding and st.state in (
                lt.torrent_status.downloading, lt.torrent_status.finished):
            say('ERROR data incomplete after the check (progress %.3f): wrong --save?' % st.progress)
            sys.exit(2)
        for pi in h.get_peer_info():
            if int(pi.flags) & (int(pi.connecting) | int(pi.handshake)):
                continue
            key = (pi.ip, bytes(pi.client))
            if key not in seen:
                seen.add(key)
                flags = int(pi.flags)
                enc = ('rc4' if flags & int(lt.peer_info.rc4_encrypted) else
                       'plaintext' if flags & int(lt.peer_info.plaintext_encrypted) else 'none')
                say('PEER %s:%d client=%r enc=%s' % (pi.ip[0], pi.ip[1], pi.client, enc))
        now = time.time()
        if now - last_status >= 1:
            last_status = now
            say('STATUS state=%s progress=%.3f peers=%d down=%d up=%d' % (
                st.state, st.progress, st.num_peers, st.total_payload_download, st.total_payload_upload))
        if a.mode == 'leech' and st.has_metadata and st.is_seeding:
            # libtorrent reports a piece passed before its blocks leave the
            # disk threads' buffers; COMPLETE promises the files are written.
            flush_to_disk(ses, h)
            say('COMPLETE secs=%.2f bytes=%d' % (now - start, st.total_wanted))
            break
        if a.timeout and now - start > a.timeout:
            if a.mode == 'leech':
                say('TIMEOUT')
                sys.exit(1)
            break
        ses.wait_for_alert(200)
    sys.exit(0)


if __name__ == '__main__':
    main()
