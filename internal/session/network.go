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
	"github.com/gobit/gobit/internal/tracker"
)

// networkCheckInterval is how often the session checks its bound
// interface, to log when it goes and comes back.
const networkCheckInterval = 2 * time.Second

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

// networkLoop logs when the bound interface goes and comes back, until
// the session closes.
func (s *Session) networkLoop() {
	defer s.wg.Done()
	t := time.NewTicker(networkCheckInterval)
	defer t.Stop()
	var last string
	for {
		select {
		case <-s.closeC:
			return
		case <-t.C:
		}
		msg := ""
		if err := s.net.check(); err != nil {
			msg = err.Error()
		}
		if msg != last {
			if msg != "" {
				s.log.Error("network traffic stopped (kill switch)", "err", msg)
			} else {
				s.log.Info("bound interface back: traffic resumes", "bind_interface", s.net.bind.String())
			}
			last = msg
		}
	}
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
	if err := s.net.check(); err != nil {
		st.NetworkError = err.Error()
	}
	s.block.status(&st)
	return st
}
