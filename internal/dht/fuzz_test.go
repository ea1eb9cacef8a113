package dht

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// memConn is a net.PacketConn that records writes and never delivers
// reads (the fuzz target feeds packets through HandlePacket).
type memConn struct {
	mu     sync.Mutex
	sent   [][]byte
	closeC chan struct{}
	once   sync.Once
}

func newMemConn() *memConn { return &memConn{closeC: make(chan struct{})} }

func (c *memConn) ReadFrom([]byte) (int, net.Addr, error) {
	<-c.closeC
	return 0, nil, net.ErrClosed
}

func (c *memConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, append([]byte(nil), b...))
	return len(b), nil
}

func (c *memConn) take() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sent
	c.sent = nil
	return s
}

func (c *memConn) Close() error                     { c.once.Do(func() { close(c.closeC) }); return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6881} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzKRPC feeds arbitrary packets to the server's handler: it must not
// panic, and everything it answers must be a well-formed response or error
// carrying the query's transaction ID.
func FuzzKRPC(f *testing.F) {
	id := strings.Repeat("a", 20)
	for _, s := range []string{
		"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
		"d1:ad2:id20:" + id + "6:target20:" + id + "e1:q9:find_node1:t2:aa1:y1:qe",
		"d1:ad2:id20:" + id + "9:info_hash20:" + id + "e1:q9:get_peers1:t2:aa1:y1:qe",
		"d1:ad2:id20:" + id + "12:implied_porti1e9:info_hash20:" + id + "4:porti6881e5:token8:abcdefghe1:q13:announce_peer1:t2:aa1:y1:qe",
		"d1:ad2:id20:" + id + "4:wantl2:n42:n6ee1:q9:find_node1:t2:aa1:y1:qe",
		"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
		"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
		"d1:ad1:xi1ee1:q4:ping1:t2:zz1:y1:qe",
		"d1:q4:ping1:t0:1:y1:qe",
		"d1:ad2:id20:" + id + "e1:q4:vote1:t1:x1:y1:qe",
		"li1ei2ee",
		"",
	} {
		f.Add([]byte(s))
	}
	conn := newMemConn()
	s, err := New(Config{Conn: conn, ExternalReader: true, RateLimit: -1, QueryTimeout: time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	// Make one node known so find_node/get_peers answers carry nodes.
	s.table.update(NodeInfo{ID: [20]byte{0xF0}, Addr: netip.MustParseAddrPort("10.0.0.9:6881")}, time.Now())
	f.Cleanup(func() { s.Close(); conn.Close() })
	from := netip.MustParseAddrPort("10.1.2.3:4000")
	f.Fuzz(func(t *testing.T, pkt []byte) {
		s.HandlePacket(pkt, from)
		for _, out := range conn.take() {
			if len(out) > 1500 {
				t.Fatalf("reply of %d bytes exceeds one UDP packet", len(out))
			}
			m, err := DecodeMsg(out)
			if err != nil {
				t.Fatalf("server sent a malformed packet %q: %v", out, err)
			}
			if m.Y == "q" {
				if m.Q != "ping" {
					t.Fatalf("unexpected query %q", m.Q)
				}
				continue // a ping of the unknown sender
			}
			if tid, y, ok := transactionOf(pkt); !ok || y != "q" || tid != m.T {
				t.Fatalf("reply %+v to packet %q (t=%q y=%q)", m, pkt, tid, y)
			}
			if m.Y == "e" && (m.E.Code < ErrCodeGeneric || m.E.Code > ErrCodeMethod) {
				t.Fatalf("error code %d", m.E.Code)
			}
		}
	})
}
