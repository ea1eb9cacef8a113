package lsd

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// readErrorBackoff is the pause after an unexpected read error, so a
// persistent one cannot spin the read goroutine.
const readErrorBackoff = 50 * time.Millisecond

// readLoop receives announces until Close. It owns the limiter.
func (l *LSD) readLoop() {
	defer l.wg.Done()
	lim := newLimiter(time.Now())
	buf := make([]byte, MaxPacketSize+1) // one spare byte detects oversized datagrams
	for {
		n, src, err := l.socks.recv.ReadFromUDPAddrPort(buf)
		if err != nil {
			if l.closed() || errors.Is(err, net.ErrClosed) {
				return
			}
			l.log.Debug("lsd: read", "err", err)
			select {
			case <-l.closeC:
				return
			case <-time.After(readErrorBackoff):
			}
			continue
		}
		l.handlePacket(buf[:n], src, lim, time.Now())
	}
}

// handlePacket checks, parses and reports one received datagram.
func (l *LSD) handlePacket(p []byte, src netip.AddrPort, lim *limiter, now time.Time) {
	if len(p) > MaxPacketSize {
		return
	}
	ip := src.Addr().Unmap()
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() {
		return
	}
	if !lim.allow(ip.WithZone(""), now) {
		return
	}
	m, err := Parse(p)
	if err != nil {
		l.log.Debug("lsd: drop announce", "from", src, "err", err)
		return
	}
	if m.Cookie != "" && m.Cookie == l.cookie {
		return // our own announce, looped back
	}
	if l.cfg.OnPeer == nil {
		return
	}
	peer := netip.AddrPortFrom(ip, m.Port)
	for _, ih := range m.InfoHashes {
		l.cfg.OnPeer(ih, peer)
	}
}

// announceLoop runs scheduled announce rounds until Close.
func (l *LSD) announceLoop() {
	defer l.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		due, wait := l.dueHashes(time.Now())
		if len(due) > 0 {
			l.send(due)
		}
		timer.Reset(wait)
		select {
		case <-l.closeC:
			return
		case <-l.wakeC:
		case <-timer.C:
		}
	}
}

// dueHashes returns the hashes to announce now, marking them announced,
// and how long to wait before looking again. A round runs only if the
// last one is at least min(Interval, minRoundGap) old.
func (l *LSD) dueHashes(now time.Time) (due [][20]byte, wait time.Duration) {
	gap := min(l.cfg.Interval, minRoundGap)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.lastRound.IsZero() {
		if early := l.lastRound.Add(gap).Sub(now); early > 0 {
			return nil, early
		}
	}
	for h, last := range l.torrents {
		if last.IsZero() || now.Sub(last) >= l.cfg.Interval {
			due = append(due, h)
			l.torrents[h] = now
		}
	}
	if len(due) > 0 {
		l.lastRound = now
	}
	wait = time.Hour // nothing to announce: wait for SetTorrents
	for _, last := range l.torrents {
		wait = min(wait, max(last.Add(l.cfg.Interval).Sub(now), 0))
	}
	if !l.lastRound.IsZero() {
		wait = max(wait, l.lastRound.Add(gap).Sub(now))
	}
	return due, wait
}
