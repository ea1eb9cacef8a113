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
		log.Info("peer connections and tracker requests go through a SOCKS5 proxy; incoming peer connections are not accepted through it (no SOCKS BIND): they reach the peer port directly, if at all", "proxy", p.String())
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

// errNameBehindProxy refuses to resolve a UDP tracker's name locally.
var errNameBehindProxy = errors.New("UDP tracker host names are not resolved behind a proxy (the local resolver would leak them): use the tracker's HTTP URL or an IP address")

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

// listenPacket opens the DHT's UDP socket on network ("udp", "udp4" or
// "udp6"), bound to the interface (and its device) when there is one.
func (n *netPath) listenPacket(network, host string, port int) (net.PacketConn, error) {
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
	}
	st.BindInterface = s.net.bind.Spec()
	if err := s.net.check(); err != nil {
		st.NetworkError = err.Error()
	}
	s.block.status(&st)
	return st
}
