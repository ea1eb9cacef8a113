// Package socks5test is a small SOCKS5 server for tests (RFC 1928, 1929):
// username/password or no authentication, CONNECT and UDP ASSOCIATE, on
// loopback. It counts what it relays, so a test can tell that traffic went
// through it.
package socks5test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a running test proxy.
type Server struct {
	// User and Password, when User is set, are required (RFC 1929).
	User, Password string
	// NoUDP refuses UDP ASSOCIATE with "command not supported".
	NoUDP bool

	ln net.Listener
	wg sync.WaitGroup

	// Connects counts successful CONNECTs, Associates UDP associations,
	// Datagrams datagrams relayed to targets, AuthFailures rejected
	// credentials.
	Connects, Associates, Datagrams, AuthFailures atomic.Int64

	refuseUDP atomic.Bool

	mu      sync.Mutex
	assocs  map[net.Conn]struct{} // control connections of UDP associations
	targets []string              // every CONNECT target, as asked
	origins map[string]bool       // local addresses of the proxy's outgoing connections
	conns   map[net.Conn]struct{}
	closed  bool
}

// Start listens on 127.0.0.1 and serves until Close.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.ln = ln
	s.conns = map[net.Conn]struct{}{}
	s.wg.Add(1)
	go s.serve()
	return nil
}

// Addr returns the proxy's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Targets returns every CONNECT target asked for so far.
func (s *Server) Targets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.targets...)
}

// Origin reports whether addr ("ip:port") is the local address of a
// connection the proxy opened to a target: a peer seeing a connection from
// it knows the connection came through the proxy.
func (s *Server) Origin(addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.origins[addr]
}

// RefuseUDP makes the server refuse UDP ASSOCIATE from now on (true) or
// accept it again (false), as NoUDP does from the start.
func (s *Server) RefuseUDP(refuse bool) { s.refuseUDP.Store(refuse) }

// DropAssociations closes the control connection of every UDP association
// (which ends them, as a proxy restarting would) and returns how many.
func (s *Server) DropAssociations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.assocs)
	for c := range s.assocs {
		c.Close()
	}
	clear(s.assocs)
	return n
}

// Close stops the server and closes every connection.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		if !s.track(c) {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.handle(c)
		}()
	}
}

func (s *Server) handle(c net.Conn) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return
	}
	want := byte(0)
	if s.User != "" {
		want = 2
	}
	found := false
	for _, m := range methods {
		found = found || m == want
	}
	if !found {
		c.Write([]byte{5, 0xff})
		return
	}
	c.Write([]byte{5, want})
	if want == 2 {
		user, pass, err := readCreds(c)
		if err != nil {
			return
		}
		if user != s.User || pass != s.Password {
			s.AuthFailures.Add(1)
			c.Write([]byte{1, 1})
			return
		}
		c.Write([]byte{1, 0})
	}
	var req [3]byte
	if _, err := io.ReadFull(c, req[:]); err != nil || req[0] != 5 {
		return
	}
	target, err := readAddr(c)
	if err != nil {
		return
	}
	switch req[1] {
	case 1:
		s.connect(c, target)
	case 3:
		if s.NoUDP || s.refuseUDP.Load() {
			reply(c, 7, netip.AddrPort{})
			return
		}
		s.associate(c)
	default:
		reply(c, 7, netip.AddrPort{})
	}
}

func readCreds(c net.Conn) (user, pass string, err error) {
	var b [2]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return "", "", err
	}
	if b[0] != 1 {
		return "", "", errors.New("bad version")
	}
	u := make([]byte, b[1])
	if _, err := io.ReadFull(c, u); err != nil {
		return "", "", err
	}
	if _, err := io.ReadFull(c, b[:1]); err != nil {
		return "", "", err
	}
	p := make([]byte, b[0])
	if _, err := io.ReadFull(c, p); err != nil {
		return "", "", err
	}
	return string(u), string(p), nil
}

// readAddr reads ATYP, address, port as "host:port".
func readAddr(r io.Reader) (string, error) {
	var t [1]byte
	if _, err := io.ReadFull(r, t[:]); err != nil {
		return "", err
	}
	var host string
	switch t[0] {
	case 1, 4:
		b := make([]byte, 4)
		if t[0] == 4 {
			b = make([]byte, 16)
		}
		if _, err := io.ReadFull(r, b); err != nil {
			return "", err
		}
		ip, _ := netip.AddrFromSlice(b)
		host = ip.String()
	case 3:
		var n [1]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return "", err
		}
		b := make([]byte, n[0])
		if _, err := io.ReadFull(r, b); err != nil {
			return "", err
		}
		host = string(b)
	default:
		return "", errors.New("bad address type")
	}
	var p [2]byte
	if _, err := io.ReadFull(r, p[:]); err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(p[:])))), nil
}

func reply(c net.Conn, code byte, bound netip.AddrPort) {
	msg := []byte{5, code, 0}
	if bound.Addr().Is6() {
		msg = append(msg, 4)
	} else {
		msg = append(msg, 1)
		if !bound.IsValid() {
			bound = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
		}
	}
	msg = append(msg, bound.Addr().AsSlice()...)
	msg = binary.BigEndian.AppendUint16(msg, bound.Port())
	c.Write(msg)
}

func (s *Server) connect(c net.Conn, target string) {
	s.mu.Lock()
	s.targets = append(s.targets, target)
	s.mu.Unlock()
	t, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		reply(c, 5, netip.AddrPort{})
		return
	}
	if !s.track(t) {
		return
	}
	defer s.untrack(t)
	s.mu.Lock()
	if s.origins == nil {
		s.origins = map[string]bool{}
	}
	s.origins[t.LocalAddr().String()] = true
	s.mu.Unlock()
	s.Connects.Add(1)
	reply(c, 0, t.LocalAddr().(*net.TCPAddr).AddrPort())
	c.SetDeadline(time.Time{})
	done := make(chan struct{}, 2)
	go func() { io.Copy(t, c); t.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, t); done <- struct{}{} }()
	<-done
	<-done
}

// associate relays datagrams between the client and their targets while
// the control connection c stays open.
func (s *Server) associate(c net.Conn) {
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		reply(c, 1, netip.AddrPort{})
		return
	}
	defer u.Close()
	s.mu.Lock()
	if s.assocs == nil {
		s.assocs = map[net.Conn]struct{}{}
	}
	s.assocs[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.assocs, c)
		s.mu.Unlock()
	}()
	s.Associates.Add(1)
	reply(c, 0, u.LocalAddr().(*net.UDPAddr).AddrPort())
	c.SetDeadline(time.Time{})
	go func() {
		io.Copy(io.Discard, c)
		u.Close()
	}()
	var client netip.AddrPort
	buf := make([]byte, 65535)
	for {
		n, from, err := u.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if from.Addr().IsLoopback() && (client == netip.AddrPort{} || from == client) && n > 3 && buf[2] == 0 {
			// from the client: strip the header, forward
			client = from
			r := &sliceReader{b: buf[3:n]}
			target, err := readAddr(r)
			if err != nil {
				continue
			}
			ua, err := net.ResolveUDPAddr("udp4", target)
			if err != nil {
				continue
			}
			s.Datagrams.Add(1)
			u.WriteToUDP(r.b, ua)
			continue
		}
		if client == (netip.AddrPort{}) {
			continue
		}
		// from a target: prepend the header, return to the client
		msg := []byte{0, 0, 0, 1}
		msg = append(msg, from.Addr().AsSlice()...)
		msg = binary.BigEndian.AppendUint16(msg, from.Port())
		msg = append(msg, buf[:n]...)
		u.WriteToUDPAddrPort(msg, client)
	}
}

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
