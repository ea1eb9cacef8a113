package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobit/gobit/internal/bindif"
	"github.com/gobit/gobit/internal/socks5"
	"github.com/gobit/gobit/internal/torrent"
	"github.com/gobit/gobit/internal/tracker"
)

// networkCheckInterval is how often the session checks its bound
// interface: when it goes, its sockets are closed; when it is back (or
// was created anew between two checks), they are opened again.
const networkCheckInterval = time.Second

// NetPathStatus is the state of the session's way out to the network:
// the proxy, the bound interface, and the IP blocklist. It is part of
// Settings (GET /api/v1/session).
type NetPathStatus struct {
	// Proxy is the SOCKS5 proxy peer connections and tracker requests go
	// through, without its password ("" for none).
	Proxy string `json:"proxy"`
	// BindInterface is the interface or address every socket is bound to
	// ("" for none).
	BindInterface string `json:"bind_interface"`
	// NetworkError says why traffic is stopped: the bound interface is
	// gone or down (the kill switch). Empty when traffic can flow.
	NetworkError string `json:"network_error"`
	// ProxyUDP is the state of the proxy's UDP association that uTP and
	// the DHT share: "connecting", "associated" or "failed" ("" without a
	// proxy, or when neither uTP nor the DHT is on). While it is not
	// associated uTP and the DHT are stopped: their datagrams never leave
	// another way. ProxyUDPRelay is the proxy's relay address while
	// associated; ProxyUDPError why the last attempt failed or the last
	// association ended, and ProxyUDPRetry when the next attempt starts
	// (RFC 3339), while failed.
	ProxyUDP      string `json:"proxy_udp"`
	ProxyUDPRelay string `json:"proxy_udp_relay"`
	ProxyUDPError string `json:"proxy_udp_error"`
	ProxyUDPRetry string `json:"proxy_udp_retry"`
	// NetworkState is "up" while the bound interface carries traffic and
	// "gone" while it is gone or down, or the sockets could not be opened
	// on it again ("" without --bind-interface). NetworkChanged is when it
	// last changed (RFC 3339, "" never), and NetworkReopens how many times
	// the sockets (peer listener, the UDP socket of uTP and the DHT, LSD)
	// were opened again on the interface after it came back.
	NetworkState   string `json:"network_state"`
	NetworkChanged string `json:"network_changed"`
	NetworkReopens int64  `json:"network_reopens"`
	// BlockedConnections counts connections refused and peer addresses
	// dropped because they are on the blocklist, since the start.
	BlockedConnections int64 `json:"blocked_connections"`
	// Blocklist is the file or URL of the IP blocklist ("" for none),
	// BlocklistSize its ranges (after merging), BlocklistLoaded when it
	// was last loaded (RFC 3339, "" never) and BlocklistError why the
	// last load failed ("" if it did not; the previous list stays).
	Blocklist       string `json:"blocklist"`
	BlocklistSize   int    `json:"blocklist_size"`
	BlocklistLoaded string `json:"blocklist_loaded"`
	BlocklistError  string `json:"blocklist_error"`
}

// netPath is how the session's sockets reach the network: directly,
// bound to an interface (bindif), or through a SOCKS5 proxy (socks5).
type netPath struct {
	bind     *bindif.Binder // nil: unbound
	proxy    *socks5.Proxy  // nil: direct
	resolver *net.Resolver  // resolves through the bound interface
	log      *slog.Logger

	udpRefused sync.Once // the proxy's refusal of UDP is logged once
	// assoc is the proxy's UDP association of the peer-port socket (uTP
	// and the DHT), nil until one is opened; onAssoc is told of its
	// changes (set before it is opened).
	assoc   atomic.Pointer[socks5.Association]
	onAssoc func(socks5.AssocStatus)
}

// newNetPath parses Config.Proxy and Config.BindInterface.
func newNetPath(cfg Config, log *slog.Logger) (*netPath, error) {
	n := &netPath{log: log, resolver: net.DefaultResolver}
	if cfg.BindInterface != "" {
		b, err := bindif.Parse(cfg.BindInterface)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		n.bind = b
		n.resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d, err := n.bind.Dialer(network, addr)
			if err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, addr)
		}}
		log.Info("every socket is bound to an interface", "bind_interface", b.String())
	}
	if cfg.Proxy != "" {
		p, err := socks5.ParseURL(cfg.Proxy)
		if err != nil {
			return nil, fmt.Errorf("%w: --proxy: %w", ErrInvalid, err)
		}
		if n.bind != nil {
			p.Dial = n.direct
			p.ListenUDP = n.bind.ListenUDP
		}
		n.proxy = p
		log.Info("peer connections, tracker requests, uTP and the DHT go through a SOCKS5 proxy; incoming peer connections are not accepted through it (no SOCKS BIND): TCP ones reach the peer port directly, if at all", "proxy", p.String())
	}
	return n, nil
}

// check returns the kill switch's error: the bound interface is gone.
func (n *netPath) check() error {
	if n == nil || n.bind == nil {
		return nil
	}
	return n.bind.Check()
}

// direct dials without the proxy, bound to the interface when there is
// one. A gone interface fails the dial before any socket is opened.
func (n *netPath) direct(ctx context.Context, network, addr string) (net.Conn, error) {
	if n.bind == nil {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	if err := n.bind.Check(); err != nil {
		return nil, err
	}
	d, err := n.bind.Dialer(network, addr)
	if err != nil {
		return nil, err
	}
	d.Resolver = n.resolver
	return d.DialContext(ctx, network, addr)
}

// dial opens a stream connection the session's way: through the proxy
// (CONNECT, names resolved by the proxy) or directly.
func (n *netPath) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if n.proxy != nil {
		return n.proxy.DialContext(ctx, network, addr)
	}
	return n.direct(ctx, network, addr)
}

// peerDial is the dial of peer connections, nil for a plain dial.
func (n *netPath) peerDial() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if n.proxy == nil && n.bind == nil {
		return nil
	}
	return n.dial
}

// httpClient returns a client whose connections go the session's way;
// environment proxies (HTTP_PROXY) are ignored when a proxy or an
// interface is set, so nothing bypasses them.
func (n *netPath) httpClient(timeout time.Duration) *http.Client {
	if n.proxy == nil && n.bind == nil {
		return &http.Client{Timeout: timeout}
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext:           n.dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// trackerNet is how UDP announces go out, nil for the default.
func (n *netPath) trackerNet() *tracker.Net {
	if n.proxy == nil && n.bind == nil {
		return nil
	}
	return &tracker.Net{ListenUDP: n.listenUDP, LookupNetIP: n.lookup}
}

// listenUDP opens the UDP announce socket: a proxy's association, or a
// socket bound to the interface.
func (n *netPath) listenUDP(network string) (tracker.UDPConn, error) {
	if n.proxy != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		pc, err := n.proxy.ListenPacket(ctx)
		if errors.Is(err, socks5.ErrUDPNotSupported) {
			n.udpRefused.Do(func() {
				n.log.Warn("the proxy refuses UDP ASSOCIATE: UDP trackers are skipped, HTTP trackers still announce through the proxy", "proxy", n.proxy.String())
			})
		}
		if err != nil {
			return nil, err
		}
		return pc, nil
	}
	if err := n.bind.Check(); err != nil {
		return nil, err
	}
	return n.bind.ListenUDP(network, nil)
}

// errNameBehindProxy refuses to resolve a UDP tracker's or a DHT bootstrap
// node's name locally.
var errNameBehindProxy = errors.New("host names of UDP trackers and DHT bootstrap nodes are not resolved behind a proxy (the local resolver would leak them): use a tracker's HTTP URL or IP addresses")

func (n *netPath) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if n.proxy != nil {
		return nil, errNameBehindProxy
	}
	return n.resolver.LookupNetIP(ctx, "ip", host)
}

// listen opens the peer listener on network ("tcp", "tcp4" or "tcp6"):
// on the bound interface's address (so it works again when the address
// comes back) when there is one.
func (n *netPath) listen(network, host string, port int) (net.Listener, error) {
	if n.bind != nil {
		h, err := n.bind.ListenHost(host)
		if err != nil {
			return nil, err
		}
		host = h
		lc := net.ListenConfig{Control: n.bind.Control}
		return lc.Listen(context.Background(), network, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
}

// listenPacket opens the peer-port UDP socket of uTP and the DHT on
// network ("udp", "udp4" or "udp6"): bound to the interface (and its
// device) when there is one; behind a proxy, a UDP association with it
// (host and port unused), which associates in the background and again
// after each failure, and sends nothing while it is not associated.
func (n *netPath) listenPacket(network, host string, port int) (net.PacketConn, error) {
	if n.proxy != nil {
		a := n.proxy.Associate(socks5.AssocConfig{OnChange: n.assocChanged})
		n.assoc.Store(a)
		return a, nil
	}
	if n.bind == nil {
		return net.ListenPacket(network, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	h, err := n.bind.ListenHost(host)
	if err != nil {
		return nil, err
	}
	lc := net.ListenConfig{Control: n.bind.Control}
	return lc.ListenPacket(context.Background(), network, net.JoinHostPort(h, strconv.Itoa(port)))
}

// udpAssociated reports whether the peer-port UDP socket can send: always
// without a proxy, only while associated behind one.
func (n *netPath) udpAssociated() bool {
	if n.proxy == nil {
		return true
	}
	a := n.assoc.Load()
	return a != nil && a.Status().State == socks5.AssocAssociated
}

// assocChanged logs the UDP association's changes and passes them on.
func (n *netPath) assocChanged(st socks5.AssocStatus) {
	switch st.State {
	case socks5.AssocAssociated:
		n.log.Info("UDP through the proxy: associated; uTP and the DHT go through its relay", "proxy", n.proxy.String(), "relay", st.Relay.String())
	case socks5.AssocFailed:
		n.log.Error("UDP through the proxy failed: uTP and the DHT are stopped until it associates again (never direct)", "proxy", n.proxy.String(), "err", st.Err, "retry_in", time.Until(st.Retry).Round(time.Second).String())
	}
	if n.onAssoc != nil {
		n.onAssoc(st)
	}
}

// boundSockets are the session's sockets that follow the bound interface
// (--bind-interface), the connections through it, and its state.
type boundSockets struct {
	tcp   *bindif.Listener   // the peer listener; nil when not listening
	udp   *bindif.PacketConn // uTP's and the DHT's socket; nil when neither runs
	conns bindif.Conns       // peer connections, closed when the interface goes

	mu       sync.Mutex
	gone     bool      // the sockets are down
	err      string    // why they could not be opened again ("" if they were)
	changed  time.Time // when gone last changed
	reopens  int64
	identity string // the interface's Identity when the sockets were opened
}

// listenPeers opens the peer listener: under --bind-interface one that
// follows the interface (closed while it is gone, opened again on the
// same port when it is back).
func (s *Session) listenPeers(network, host string, port int) (net.Listener, error) {
	if s.net.bind == nil {
		return s.net.listen(network, host, port)
	}
	l, err := bindif.NewListener(func() (net.Listener, error) {
		ln, err := s.net.listen(network, host, port)
		if err == nil {
			port = ln.Addr().(*net.TCPAddr).Port // the same one next time
		}
		return ln, err
	})
	if err != nil {
		return nil, err
	}
	s.bound.tcp = l
	return l, nil
}

// openUDP opens the peer port's UDP socket (uTP and the DHT): under
// --bind-interface one that follows the interface like the listener.
func (s *Session) openUDP(network, host string, port int) (net.PacketConn, error) {
	if s.net.bind == nil {
		return s.net.listenPacket(network, host, port)
	}
	pc, err := bindif.NewPacketConn(func() (net.PacketConn, error) {
		pc, err := s.net.listenPacket(network, host, port)
		if err == nil {
			port = pc.LocalAddr().(*net.UDPAddr).Port
		}
		return pc, err
	})
	if err != nil {
		return nil, err
	}
	s.bound.udp = pc
	return pc, nil
}

// networkLoop follows the bound interface until the session closes: when
// it goes, traffic stops (networkGone); when it is back, or was created
// anew between two checks (a VPN reconnecting: a new interface, maybe
// with the same name and address), the sockets open again on it
// (networkBack).
func (s *Session) networkLoop() {
	defer s.wg.Done()
	t := time.NewTicker(networkCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closeC:
			return
		case <-t.C:
		}
		s.networkCheck()
	}
}

// networkCheck is one look at the bound interface.
func (s *Session) networkCheck() {
	b := &s.bound
	err := s.net.check()
	id := s.net.bind.Identity()
	b.mu.Lock()
	gone, last := b.gone, b.identity
	b.mu.Unlock()
	switch {
	case err != nil:
		if !gone {
			s.networkGone(err.Error())
		}
	case gone || id != last:
		if !gone {
			s.networkGone("the bound interface was created anew (" + id + ")")
		}
		s.networkBack(id)
	}
}

// networkGone stops every socket on the bound interface: the listener,
// the UDP socket (uTP and DHT keep their state, their sends fail), LSD,
// and every peer connection. Nothing falls back to another interface.
func (s *Session) networkGone(why string) {
	b := &s.bound
	if b.tcp != nil {
		b.tcp.Down()
	}
	if b.udp != nil {
		b.udp.Down()
	}
	s.stopLSD()
	n := b.conns.CloseAll()
	b.mu.Lock()
	b.gone, b.err, b.changed = true, "", time.Now()
	b.mu.Unlock()
	s.log.Error("network traffic stopped (kill switch): bound interface gone; the peer listener, the UDP socket of uTP and the DHT, and local service discovery are closed until it is back",
		"bind_interface", s.net.bind.Spec(), "err", why, "peers_closed", n)
}

// networkBack opens the sockets again on the interface, now identified by
// id. On a failure (e.g. no address on it yet) they stay closed and the
// next check tries again.
func (s *Session) networkBack(id string) {
	b := &s.bound
	var errs []error
	if b.tcp != nil {
		if err := b.tcp.Up(); err != nil {
			errs = append(errs, fmt.Errorf("peer listener: %w", err))
		}
	}
	if b.udp != nil {
		if err := b.udp.Up(); err != nil {
			errs = append(errs, fmt.Errorf("UDP socket (uTP, DHT): %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		msg := "bound interface back, but its sockets cannot be opened yet: " + err.Error()
		b.mu.Lock()
		logIt := b.err != msg
		b.err = msg
		b.mu.Unlock()
		if logIt {
			s.log.Warn("network traffic still stopped", "bind_interface", s.net.bind.Spec(), "err", msg)
		}
		return
	}
	b.mu.Lock()
	b.gone, b.err, b.changed, b.identity = false, "", time.Now(), id
	b.reopens++
	b.mu.Unlock()
	if s.cfg.LSD && s.port > 0 {
		s.startLSD()
		s.kickDiscovery()
	}
	s.dhtRestart()
	s.retryPeers()
	s.log.Info("bound interface back: traffic resumes; the peer listener, the UDP socket of uTP and the DHT, and local service discovery are open again on it",
		"bind_interface", s.net.bind.String(), "interface", id)
}

// retryPeers makes every torrent dial its known peers again at once and
// announce to its trackers, once the network is back: what failed while
// it was gone is not the peers' fault.
func (s *Session) retryPeers() {
	s.mu.Lock()
	ts := make([]*torrent.Torrent, 0, len(s.torrents))
	for _, e := range s.torrents {
		ts = append(ts, e.t)
	}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, t := range ts {
			select {
			case <-s.closeC:
				return
			default:
			}
			t.RetryPeers()
			t.Reannounce()
		}
	}()
}

// netPathStatus reads the NetPathStatus; it takes no session lock.
func (s *Session) netPathStatus() NetPathStatus {
	st := NetPathStatus{BlockedConnections: s.block.blocked.Load()}
	if s.net.proxy != nil {
		st.Proxy = s.net.proxy.String()
		if a := s.net.assoc.Load(); a != nil {
			as := a.Status()
			if as.State != socks5.AssocClosed {
				st.ProxyUDP = string(as.State)
			}
			if as.State == socks5.AssocAssociated {
				st.ProxyUDPRelay = as.Relay.String()
			}
			if as.State == socks5.AssocFailed {
				if as.Err != nil {
					st.ProxyUDPError = as.Err.Error()
				}
				st.ProxyUDPRetry = as.Retry.UTC().Format(time.RFC3339)
			}
		}
	}
	st.BindInterface = s.net.bind.Spec()
	if s.net.bind != nil {
		b := &s.bound
		b.mu.Lock()
		gone, msg, changed, reopens := b.gone, b.err, b.changed, b.reopens
		b.mu.Unlock()
		if err := s.net.check(); err != nil {
			st.NetworkError = err.Error()
		} else {
			st.NetworkError = msg
		}
		st.NetworkState = "up"
		if gone || st.NetworkError != "" {
			st.NetworkState = "gone"
		}
		if !changed.IsZero() {
			st.NetworkChanged = changed.UTC().Format(time.RFC3339)
		}
		st.NetworkReopens = reopens
	}
	s.block.status(&st)
	return st
}
