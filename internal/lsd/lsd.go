// Package lsd implements BitTorrent Local Service Discovery (BEP 14):
// announcing the torrents we take part in to the LAN by UDP multicast and
// hearing the announces of other local clients.
//
// An LSD runs two goroutines:
//
//   - the read goroutine owns the receive socket and the rate limiter; it
//     drops oversized datagrams, rate-limits per source IP and overall,
//     parses strictly (Parse), drops our own announces (cookie check) and
//     calls Config.OnPeer for every info hash heard;
//   - the announce goroutine re-announces the set given to SetTorrents,
//     each info hash every Config.Interval, batching due hashes into as few
//     packets as possible, and never running two scheduled rounds closer
//     than min(Interval, 1 minute) apart (BEP 14's multicast-storm rule).
//
// The torrent set and announce times are guarded by LSD.mu, which is never
// held while sending or calling OnPeer. Announce may be called from any
// goroutine. Close stops both goroutines and waits for them.
//
// Config.Interface confines an instance to one interface (a bound
// session's): it joins the group there only and sends there only. It does
// not follow the interface: the caller closes the instance when the
// interface goes and starts a new one when it is back.
//
// The caller decides what is announced and what is done with the peers
// heard: private torrents (BEP 27) must never be passed to Announce or
// SetTorrents, and peers heard for unknown or private torrents must be
// ignored by OnPeer.
package lsd

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The BEP 14 multicast groups.
const (
	// DefaultGroup4 is the IPv4 (organization-local) LSD group.
	DefaultGroup4 = "239.192.152.143:6771"
	// DefaultGroup6 is the IPv6 (site-local) LSD group.
	DefaultGroup6 = "[ff15::efc0:988f]:6771"
)

// Defaults and limits.
const (
	// DefaultInterval is how often each torrent is re-announced.
	DefaultInterval = 5 * time.Minute
	// DefaultListen is the listen address used when Config.Listen is empty.
	DefaultListen = ":6771"
	// minRoundGap is the least time between two scheduled announce rounds
	// (BEP 14: no more than one announce per minute), unless Interval is
	// shorter.
	minRoundGap = time.Minute
	// minInterval is the floor under Config.Interval, against a busy loop.
	minInterval = 10 * time.Millisecond
	// writeTimeout bounds one datagram write.
	writeTimeout = 2 * time.Second
)

// ErrBadConfig is returned by New for an unusable Config.
var ErrBadConfig = errors.New("lsd: bad config")

// Config configures an LSD instance.
type Config struct {
	// Group is the IP:port announces are sent to: DefaultGroup4 (the
	// default), DefaultGroup6, or in tests a unicast address such as the
	// other instance's 127.0.0.1:port. It is also the Host header.
	Group string
	// Listen is the address to receive on for a unicast Group (tests use
	// "127.0.0.1:0"); default DefaultListen. For a multicast Group it is
	// ignored: the socket is bound to the group's port and joins the group.
	Listen string
	// Port is our BitTorrent listen port, advertised in announces. Required.
	Port uint16
	// Interval is how often each torrent given to SetTorrents is
	// re-announced; default DefaultInterval. It is honoured as given down
	// to 10 ms (tests use 100 ms); scheduled rounds are at least min(Interval, 1 minute)
	// apart.
	Interval time.Duration
	// OnPeer is called, from the read goroutine, for each info hash of each
	// announce heard from another client: addr is the packet's source IP
	// with the advertised port. It is never called for our own announces.
	// It must not block for long; announces arriving meanwhile may be lost.
	// Nil ignores what is heard.
	OnPeer func(infoHash [20]byte, addr netip.AddrPort)
	// Interface, when set, confines LSD to that interface (a session's
	// --bind-interface): the receive socket joins the group on it only,
	// announces leave through it only (IP_MULTICAST_IF), and Control is
	// applied to both sockets (binding them to the device where the
	// platform can). New fails where the platform cannot confine
	// multicast to one interface.
	Interface *net.Interface
	// Control is the net.ListenConfig Control function of both sockets
	// (e.g. bindif.Binder.Control); nil for none.
	Control func(network, address string, c syscall.RawConn) error
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// groupInfo is where announces go and the Host header naming it.
type groupInfo struct {
	addr netip.AddrPort
	host string
}

// LSD is one Local Service Discovery instance. Create it with New.
type LSD struct {
	cfg    Config
	log    *slog.Logger
	socks  sockets
	addr   netip.AddrPort
	cookie string
	group  atomic.Pointer[groupInfo]

	mu        sync.Mutex
	torrents  map[[20]byte]time.Time // hash → last announced (zero: never)
	lastRound time.Time              // when the announce goroutine last sent

	wakeC     chan struct{} // buffered(1): the torrent set changed
	closeC    chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// New opens the sockets and starts the read and announce goroutines.
// It fails if Port is zero, Group is not an IP:port literal, or the
// sockets cannot be opened (e.g. no multicast route).
func New(cfg Config) (*LSD, error) {
	if cfg.Port == 0 {
		return nil, fmt.Errorf("%w: Port is required", ErrBadConfig)
	}
	if cfg.Group == "" {
		cfg.Group = DefaultGroup4
	}
	group, err := netip.ParseAddrPort(cfg.Group)
	if err != nil || group.Port() == 0 || !group.Addr().Unmap().IsValid() || group.Addr().IsUnspecified() {
		return nil, fmt.Errorf("%w: Group %q is not an IP:port", ErrBadConfig, cfg.Group)
	}
	group = netip.AddrPortFrom(group.Addr().Unmap(), group.Port())
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	cfg.Interval = max(cfg.Interval, minInterval)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var tok [8]byte
	_, _ = rand.Read(tok[:]) // crypto/rand.Read never fails
	socks, err := openSockets(group, cfg.Listen, cfg.Interface, cfg.Control, log)
	if err != nil {
		return nil, err
	}
	l := &LSD{
		cfg:      cfg,
		log:      log,
		socks:    socks,
		cookie:   hex.EncodeToString(tok[:]),
		torrents: make(map[[20]byte]time.Time),
		wakeC:    make(chan struct{}, 1),
		closeC:   make(chan struct{}),
	}
	if ua, ok := socks.recv.LocalAddr().(*net.UDPAddr); ok {
		ap := ua.AddrPort()
		l.addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	l.setGroup(group)
	l.wg.Add(2)
	go l.readLoop()
	go l.announceLoop()
	return l, nil
}

// setGroup changes where announces go. Tests use it to point two
// instances bound to port 0 at each other.
func (l *LSD) setGroup(g netip.AddrPort) {
	l.group.Store(&groupInfo{addr: g, host: g.String()})
}

// Addr returns the address the receive socket is bound to.
func (l *LSD) Addr() netip.AddrPort { return l.addr }

// Announce sends announces for infoHashes now, packing up to
// MaxInfoHashes hashes into each packet. Hashes in the SetTorrents set
// count as announced, so their next scheduled announce is one Interval
// away. Send errors are logged, not returned: LSD is best effort.
func (l *LSD) Announce(infoHashes ...[20]byte) {
	hs := dedupe(infoHashes)
	if len(hs) == 0 {
		return
	}
	now := time.Now()
	l.mu.Lock()
	for _, h := range hs {
		if _, ok := l.torrents[h]; ok {
			l.torrents[h] = now
		}
	}
	l.mu.Unlock()
	l.send(hs)
}

// SetTorrents replaces the set of info hashes re-announced every
// Interval. Hashes new to the set are announced at the next round, which
// is at once unless a round ran less than min(Interval, 1 minute) ago.
// Private torrents must never be passed.
func (l *LSD) SetTorrents(hashes [][20]byte) {
	l.mu.Lock()
	next := make(map[[20]byte]time.Time, len(hashes))
	for _, h := range hashes {
		next[h] = l.torrents[h]
	}
	l.torrents = next
	l.mu.Unlock()
	select {
	case l.wakeC <- struct{}{}:
	default:
	}
}

// Close stops the goroutines, closes the sockets and waits for the
// goroutines to return. It is safe to call more than once.
func (l *LSD) Close() error {
	l.closeOnce.Do(func() {
		close(l.closeC)
		l.closeErr = l.socks.close()
		l.wg.Wait()
		if l.closeErr != nil {
			l.closeErr = fmt.Errorf("lsd: close: %w", l.closeErr)
		}
	})
	return l.closeErr
}

// closed reports whether Close has been called.
func (l *LSD) closed() bool {
	select {
	case <-l.closeC:
		return true
	default:
		return false
	}
}

// send writes announces for hs (already deduplicated) to the group.
func (l *LSD) send(hs [][20]byte) {
	g := l.group.Load()
	for len(hs) > 0 {
		n := min(len(hs), MaxInfoHashes)
		pkt, err := Encode(Message{Host: g.host, Port: l.cfg.Port, InfoHashes: hs[:n], Cookie: l.cookie})
		hs = hs[n:]
		if err != nil { // cannot happen with our own values; never send garbage
			l.log.Debug("lsd: encode announce", "err", err)
			continue
		}
		if err := l.socks.send.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
			l.log.Debug("lsd: set write deadline", "err", err)
		}
		if _, err := l.socks.send.WriteToUDPAddrPort(pkt, g.addr); err != nil {
			if !l.closed() {
				l.log.Debug("lsd: send announce", "group", g.host, "err", err)
			}
			return
		}
		l.log.Debug("lsd: announced", "group", g.host, "hashes", n)
	}
}

// dedupe returns hs without repeated hashes, keeping the first of each.
func dedupe(hs [][20]byte) [][20]byte {
	out := make([][20]byte, 0, len(hs))
	seen := make(map[[20]byte]struct{}, len(hs))
	for _, h := range hs {
		if _, ok := seen[h]; !ok {
			seen[h] = struct{}{}
			out = append(out, h)
		}
	}
	return out
}
