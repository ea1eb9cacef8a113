package tracker

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"time"
)

const (
	// connIDLifetime is how long a client may use a connection ID (BEP 15).
	connIDLifetime = time.Minute
	// maxCachedConnIDs bounds the connection-ID cache.
	maxCachedConnIDs = 1024
)

// errAttemptTimeout marks one unanswered attempt; the exchange retransmits.
var errAttemptTimeout = errors.New("no answer")

// udpTransport runs BEP 15 exchanges over one shared socket per address
// family. All fields after mu are guarded by mu.
type udpTransport struct {
	base       time.Duration
	maxRetries int
	listen     func(network string) (UDPConn, error)
	lookup     func(ctx context.Context, host string) ([]netip.Addr, error)
	family     string // "4", "6", or "" for both (ClientConfig.IPVersion)

	mu      sync.Mutex
	closed  bool
	socks   [2]*udpSocket // [0] IPv4, [1] IPv6; nil until first use
	pending map[uint32]*udpWaiter
	conns   map[netip.AddrPort]connEntry
}

// udpSocket is one shared socket and its reader goroutine.
type udpSocket struct {
	conn UDPConn
	i    int // its index in udpTransport.socks
	// done is closed when the reader goroutine has exited.
	done chan struct{}
}

// udpWaiter is a request waiting for the datagram with its transaction ID.
type udpWaiter struct {
	from netip.AddrPort // the tracker address the answer must come from
	ch   chan []byte    // buffered (1); the reader never blocks on it
}

// connEntry is a cached connection ID.
type connEntry struct {
	id      uint64
	expires time.Time
}

func newUDPTransport(base time.Duration, maxRetries int, n *Net) *udpTransport {
	var listen func(string) (UDPConn, error)
	var lookup func(context.Context, string) ([]netip.Addr, error)
	if n != nil {
		listen, lookup = n.ListenUDP, n.LookupNetIP
	}
	if listen == nil {
		listen = func(network string) (UDPConn, error) {
			laddr := &net.UDPAddr{IP: net.IPv4zero}
			if network == "udp6" {
				laddr = &net.UDPAddr{IP: net.IPv6unspecified}
			}
			return net.ListenUDP(network, laddr)
		}
	}
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	return &udpTransport{
		base:       base,
		maxRetries: maxRetries,
		listen:     listen,
		lookup:     lookup,
		pending:    make(map[uint32]*udpWaiter),
		conns:      make(map[netip.AddrPort]connEntry),
	}
}

// announce runs a BEP 15 announce to the tracker at u.
func (t *udpTransport) announce(ctx context.Context, u *url.URL, req AnnounceRequest) (*AnnounceResponse, error) {
	addr, err := resolveUDP(ctx, u, t.lookup, t.family)
	if err != nil {
		return nil, err
	}
	body, err := t.exchange(ctx, addr, actionAnnounce, func(connID uint64, tid uint32) []byte {
		return encodeAnnounce(connID, tid, req)
	})
	if err != nil {
		return nil, err
	}
	return parseUDPAnnounce(body, addr.Addr().Is6())
}

// scrape runs BEP 15 scrapes for hashes, maxUDPScrapeHashes at a time.
func (t *udpTransport) scrape(ctx context.Context, u *url.URL, hashes [][20]byte) (map[[20]byte]ScrapeResult, error) {
	addr, err := resolveUDP(ctx, u, t.lookup, t.family)
	if err != nil {
		return nil, err
	}
	res := make(map[[20]byte]ScrapeResult, len(hashes))
	for len(hashes) > 0 {
		chunk := hashes[:min(len(hashes), maxUDPScrapeHashes)]
		hashes = hashes[len(chunk):]
		body, err := t.exchange(ctx, addr, actionScrape, func(connID uint64, tid uint32) []byte {
			return encodeScrape(connID, tid, chunk)
		})
		if err != nil {
			return nil, err
		}
		part, err := parseUDPScrape(body, chunk)
		if err != nil {
			return nil, err
		}
		for h, r := range part {
			res[h] = r
		}
	}
	return res, nil
}

// exchange sends the request built by build (after obtaining a connection
// ID) and returns the body of the answer with action want. Attempt n waits
// base·2^n; an unanswered request also drops the cached connection ID, so
// the next attempt reconnects (the tracker may have restarted).
func (t *udpTransport) exchange(ctx context.Context, addr netip.AddrPort, want uint32, build func(connID uint64, tid uint32) []byte) ([]byte, error) {
	var waited time.Duration
	for n := 0; n <= t.maxRetries; n++ {
		timeout := t.base << n
		waited += timeout
		connID, ok := t.cachedConnID(addr)
		if !ok {
			body, err := t.roundTrip(ctx, addr, actionConnect, timeout, encodeConnect)
			if errors.Is(err, errAttemptTimeout) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("connect: %w", err)
			}
			if connID, err = parseUDPConnect(body); err != nil {
				return nil, err
			}
			t.storeConnID(addr, connID)
		}
		body, err := t.roundTrip(ctx, addr, want, timeout, func(tid uint32) []byte { return build(connID, tid) })
		if errors.Is(err, errAttemptTimeout) {
			t.forgetConnID(addr)
			continue
		}
		return body, err
	}
	return nil, fmt.Errorf("%w: no answer from %s after %d attempts (%s)", ErrTimeout, addr, t.maxRetries+1, waited)
}

// roundTrip sends one datagram built with a fresh transaction ID and waits up
// to timeout for the answer, returning its body. Datagrams with other
// transaction IDs or from other addresses never reach this request.
func (t *udpTransport) roundTrip(ctx context.Context, addr netip.AddrPort, want uint32, timeout time.Duration, build func(tid uint32) []byte) ([]byte, error) {
	sock, err := t.socket(addr.Addr().Is6())
	if err != nil {
		return nil, err
	}
	tid, w, err := t.register(addr)
	if err != nil {
		return nil, err
	}
	defer t.unregister(tid)
	if _, err := sock.conn.WriteToUDPAddrPort(build(tid), addr); err != nil {
		// The socket may be dead for good (its interface or proxy gone):
		// the next request opens a new one.
		t.drop(sock)
		return nil, fmt.Errorf("send to %s: %w", addr, err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case pkt := <-w.ch:
		action, _, body, err := parseUDPHeader(pkt)
		if err != nil {
			return nil, err
		}
		if err := checkUDPAction(action, body, want); err != nil {
			return nil, err
		}
		return body, nil
	case <-timer.C:
		return nil, errAttemptTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-sock.done:
		return nil, ErrClosed
	}
}

// register reserves a random, unused transaction ID for a request to addr.
func (t *udpTransport) register(addr netip.AddrPort) (uint32, *udpWaiter, error) {
	w := &udpWaiter{from: canonical(addr), ch: make(chan []byte, 1)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0, nil, ErrClosed
	}
	for {
		tid := randUint32()
		if _, taken := t.pending[tid]; !taken {
			t.pending[tid] = w
			return tid, w, nil
		}
	}
}

func (t *udpTransport) unregister(tid uint32) {
	t.mu.Lock()
	delete(t.pending, tid)
	t.mu.Unlock()
}

// socket returns the shared socket for the address family, opening it and
// starting its reader on first use.
func (t *udpTransport) socket(v6 bool) (*udpSocket, error) {
	i, network := 0, "udp4"
	if v6 {
		i, network = 1, "udp6"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	if s := t.socks[i]; s != nil {
		return s, nil
	}
	conn, err := t.listen(network)
	if err != nil {
		return nil, fmt.Errorf("open %s socket: %w", network, err)
	}
	s := &udpSocket{conn: conn, i: i, done: make(chan struct{})}
	t.socks[i] = s
	go t.readLoop(s)
	return s, nil
}

// readLoop hands each datagram to the request waiting for its transaction
// ID, until the socket is closed.
func (t *udpTransport) readLoop(s *udpSocket) {
	defer close(s.done)
	defer t.drop(s)
	buf := make([]byte, maxUDPPacket)
	failures := 0
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			failures++
			if errors.Is(err, net.ErrClosed) || failures > 100 {
				return
			}
			// Transient errors (e.g. ICMP-induced) must not spin the CPU.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		failures = 0
		if n < udpHeaderLen {
			continue
		}
		tid := binary.BigEndian.Uint32(buf[4:8])
		t.mu.Lock()
		w := t.pending[tid]
		t.mu.Unlock()
		if w == nil || canonical(from) != w.from {
			continue
		}
		pkt := append([]byte(nil), buf[:n]...)
		select {
		case w.ch <- pkt:
		default: // a duplicate answer; the first one wins
		}
	}
}

// drop closes s and forgets it, so the next request opens a new socket.
func (t *udpTransport) drop(s *udpSocket) {
	t.mu.Lock()
	if t.socks[s.i] == s {
		t.socks[s.i] = nil
	}
	t.mu.Unlock()
	s.conn.Close()
}

func (t *udpTransport) cachedConnID(addr netip.AddrPort) (uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.conns[addr]
	if !ok || time.Now().After(e.expires) {
		return 0, false
	}
	return e.id, true
}

func (t *udpTransport) storeConnID(addr netip.AddrPort, id uint64) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.conns) >= maxCachedConnIDs {
		for k, e := range t.conns {
			if now.After(e.expires) {
				delete(t.conns, k)
			}
		}
		for k := range t.conns {
			if len(t.conns) < maxCachedConnIDs {
				break
			}
			delete(t.conns, k)
		}
	}
	t.conns[addr] = connEntry{id: id, expires: now.Add(connIDLifetime)}
}

func (t *udpTransport) forgetConnID(addr netip.AddrPort) {
	t.mu.Lock()
	delete(t.conns, addr)
	t.mu.Unlock()
}

// close closes the sockets and waits for their readers to exit.
func (t *udpTransport) close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	socks := t.socks
	t.mu.Unlock()
	var errs []error
	for _, s := range socks {
		if s == nil {
			continue
		}
		if err := s.conn.Close(); err != nil {
			errs = append(errs, err)
		}
		<-s.done
	}
	return errors.Join(errs...)
}

// resolveUDP returns the address of the UDP tracker at u, preferring IPv4
// when the name has both.
// Names are resolved with lookup (the proxy's or bound interface's
// resolver when one is set); only addresses of family are kept.
func resolveUDP(ctx context.Context, u *url.URL, lookup func(context.Context, string) ([]netip.Addr, error), family string) (netip.AddrPort, error) {
	host, portStr := u.Hostname(), u.Port()
	if portStr == "" {
		return netip.AddrPort{}, fmt.Errorf("%w: udp tracker URL without a port", ErrInvalidURL)
	}
	port, err := net.LookupPort("udp", portStr)
	if err != nil || port == 0 {
		return netip.AddrPort{}, fmt.Errorf("%w: bad port %q", ErrInvalidURL, portStr)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !inFamily(ip, family) {
			return netip.AddrPort{}, fmt.Errorf("tracker address %s is not IPv%s (--ip-version)", ip, family)
		}
		return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
	}
	all, err := lookup(ctx, host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("resolve %s: %w", host, err)
	}
	var ips []netip.Addr
	for _, ip := range all {
		if inFamily(ip.Unmap(), family) {
			ips = append(ips, ip)
		}
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("resolve %s: no addresses", host)
	}
	best := ips[0].Unmap()
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			best = ip.Unmap()
			break
		}
	}
	return netip.AddrPortFrom(best, uint16(port)), nil
}

// canonical unmaps IPv4-mapped IPv6 addresses and drops zones, so that
// addresses from the resolver and from the socket compare equal.
func canonical(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}

// randUint32 returns a cryptographically random uint32.
func randUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return binary.BigEndian.Uint32(b[:])
}
