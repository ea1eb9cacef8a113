package dht

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// newTestServer starts a server on its own 127.0.0.1 UDP socket; cleanup
// closes it and the socket.
func newTestServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Conn = conn
	if cfg.QueryTimeout == 0 {
		cfg.QueryTimeout = 500 * time.Millisecond
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		s.Close()
		conn.Close()
	})
	return s
}

// addrOf returns the server's UDP address.
func addrOf(s *Server) netip.AddrPort {
	return s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}
