package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobit/gobit/internal/socks5"
	"github.com/gobit/gobit/internal/utp"
)

// errUDPNotAssociated fails a uTP-only dial while the proxy's UDP
// association is down.
var errUDPNotAssociated = errors.New("uTP: the proxy's UDP association is down (see proxy_udp_error in the session's network status)")

// utpHeadStart is how long an outgoing connection tries uTP alone before
// TCP is tried beside it; the first to connect is kept. A uTP peer
// answers its SYN within a round trip (even across the world, under
// utpHeadStart), so it is reached over uTP; a TCP-only peer costs
// utpHeadStart more to reach than with TCP alone.
const utpHeadStart = 500 * time.Millisecond

// utpRefusedGrace is how long, from its start, a dial waits for uTP once
// TCP was refused: nothing listens on TCP at that address, and a uTP peer
// there would have answered one of the SYNs sent by then. Without it a
// dead address (a peer that left, our own old port still listed by a
// tracker) held the dial, and a parked torrent awake, for all of uTP's
// SYN retries (15 s): with 10,000 torrents after a restart, a thousand
// goroutines and most of the idle CPU.
const utpRefusedGrace = 3 * time.Second

// startUTP opens the UDP socket on the peer port, shared by uTP and the
// DHT (whose datagrams the socket hands over), and accepts uTP
// connections like TCP ones. A failure only turns uTP off. Behind a
// proxy the socket is the proxy's UDP association (netPath.listenPacket):
// uTP connects out through its relay, and when the association ends its
// connections fail at once (the relay's address for the peers changes)
// and new ones go over TCP (through the proxy) until it is back.
func (s *Session) startUTP() {
	if !s.cfg.UTP || s.port <= 0 && !s.cfg.NoTCP {
		return
	}
	port := s.port
	if s.cfg.NoTCP {
		port = max(s.cfg.Port, 0)
	}
	var sockP atomic.Pointer[utp.Socket]
	if s.net.proxy != nil {
		s.net.onAssoc = func(st socks5.AssocStatus) {
			if sock := sockP.Load(); sock != nil && st.State == socks5.AssocFailed {
				sock.Abort(fmt.Errorf("uTP through the proxy: %w", st.Err))
			}
		}
	}
	pc, err := s.openUDP(ipNetwork(s.cfg.IPVersion, "udp"), s.cfg.ListenAddr, port)
	if err != nil {
		s.log.Warn("uTP off: cannot open UDP port", "port", port, "err", err)
		return
	}
	sock := utp.NewSocket(pc, utp.Config{MaxConns: 2 * s.cfg.MaxConns})
	sockP.Store(sock)
	s.utp = sock
	if s.cfg.NoTCP && s.net.proxy == nil {
		s.port = sock.Addr().(*net.UDPAddr).Port
	} else if s.cfg.NoTCP {
		// Behind a proxy the local port is the association's, of no use
		// to peers: the configured port is announced (0: none).
		s.port = port
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.utpStop = cancel
	s.wg.Add(1)
	go s.acceptLoop(utpListener{sock, ctx})
	if s.net.proxy != nil {
		s.log.Info("uTP through the proxy's UDP association", "proxy", s.net.proxy.String())
	} else {
		s.log.Info("listening for uTP peers", "addr", sock.Addr().String())
	}
}

// utpListener is the socket's accept side as a net.Listener whose Accept
// ends (net.ErrClosed) when ctx is cancelled, while the socket stays open
// for the connections and the DHT.
type utpListener struct {
	s   *utp.Socket
	ctx context.Context
}

func (l utpListener) Accept() (net.Conn, error) {
	c, err := l.s.AcceptContext(l.ctx)
	if err != nil {
		return nil, net.ErrClosed
	}
	return c, nil
}

func (l utpListener) Close() error   { return nil }
func (l utpListener) Addr() net.Addr { return l.s.Addr() }

// stopUTPAccept stops accepting uTP connections.
func (s *Session) stopUTPAccept() {
	if s.utpStop != nil {
		s.utpStop()
	}
}

// stopUTP closes the socket (after the DHT, which writes through it).
func (s *Session) stopUTP() {
	if s.utp != nil {
		s.utp.Close()
	}
}

// udpConn returns the PacketConn the DHT uses: the uTP socket's when uTP
// is on (one UDP port for both), else a socket of its own on network
// ("udp", "udp4" or "udp6"), opened the session's way (bound to its
// interface when there is one).
func (s *Session) udpConn(network string) (net.PacketConn, error) {
	if s.utp != nil {
		return s.utp.Other(), nil
	}
	return s.openUDP(network, s.cfg.ListenAddr, s.port)
}

// dialPeer opens a connection to a peer (a peer.DialFunc, network "tcp"):
// uTP first and, if it has not connected within utpHeadStart (or failed),
// TCP beside it; the first connection up wins and the other is closed.
// Without uTP (off, or its proxy's UDP association down) it is TCP the
// session's way (netPath: the proxy, or the bound interface), and with
// NoTCP uTP only.
func (s *Session) dialPeer(ctx context.Context, network, address string) (net.Conn, error) {
	nc, err := s.dialPeerAny(ctx, network, address)
	if err == nil && s.net.bind != nil {
		nc = s.bound.conns.Track(nc) // closed when the interface goes
	}
	return nc, err
}

// dialPeerAny is dialPeer's dial over uTP, TCP or both.
func (s *Session) dialPeerAny(ctx context.Context, network, address string) (net.Conn, error) {
	if s.utp == nil {
		return s.net.dial(ctx, network, address)
	}
	if !s.net.udpAssociated() {
		if s.cfg.NoTCP {
			return nil, errUDPNotAssociated
		}
		return s.net.dial(ctx, network, address)
	}
	addr, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, err
	}
	if err := s.net.check(); err != nil {
		return nil, err // the kill switch holds uTP too
	}
	if s.cfg.NoTCP {
		return s.utp.Dial(ctx, addr)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		nc  net.Conn
		err error
	}
	results := make(chan result, 2)
	go func() {
		c, err := s.utp.Dial(ctx, addr)
		if err != nil {
			results <- result{nil, err}
			return
		}
		results <- result{c, nil}
	}()
	pending := 1
	tcpStarted := false
	startTCP := func() {
		tcpStarted = true
		pending++
		go func() {
			nc, err := s.net.dial(ctx, network, address)
			results <- result{nc, err}
		}()
	}
	start := time.Now()
	head := time.NewTimer(utpHeadStart)
	defer head.Stop()
	var grace <-chan time.Time
	var errs []error
	for pending > 0 {
		select {
		case <-head.C:
			if !tcpStarted {
				startTCP()
			}
		case <-grace:
			grace = nil
			cancel() // uTP ends with the context's error
		case r := <-results:
			pending--
			if r.err == nil {
				cancel()
				// Close whatever the other attempt still opens.
				go func(n int) {
					for range n {
						if r := <-results; r.nc != nil {
							r.nc.Close()
						}
					}
				}(pending)
				return r.nc, nil
			}
			errs = append(errs, r.err)
			switch {
			case !tcpStarted:
				startTCP() // uTP failed early: TCP at once
			case pending > 0 && grace == nil && errors.Is(r.err, syscall.ECONNREFUSED):
				g := time.NewTimer(max(utpRefusedGrace-time.Since(start), 0))
				defer g.Stop()
				grace = g.C
			}
		}
	}
	return nil, errors.Join(errs...)
}
