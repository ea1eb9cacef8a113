package dht

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// newTestServer6 is newTestServer on [::1]; it skips if IPv6 loopback is
// unavailable.
func newTestServer6(t *testing.T, cfg Config) *Server {
	t.Helper()
	conn, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	cfg.Conn = conn
	cfg.QueryTimeout = 500 * time.Millisecond
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Close(); conn.Close() })
	return s
}

// TestIPv6Nodes6 runs a small IPv6 network: answers carry nodes6 (38-byte
// entries) and 18-byte compact peers, and lookups work over them.
func TestIPv6Nodes6(t *testing.T) {
	first := newTestServer6(t, Config{})
	nodes := []*Server{first}
	for range 6 {
		nodes = append(nodes, newTestServer6(t, Config{Bootstrap: []string{addrOf(first).String()}}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range nodes[1:] {
		if err := s.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range nodes[1:] {
		s.Bootstrap(ctx)
	}
	// The first node adds those that queried it once it has checked them
	// (in the background): wait for that before asking it for nodes.
	testutil.WaitFor(t, 10*time.Second, "the first node to add the nodes that bootstrapped from it", func() bool { return first.Stats().Nodes > 0 })
	// find_node from an IPv6 requester gets nodes6 only.
	var c [20]byte
	m, err := nodes[1].query(ctx, addrOf(first), [20]byte{}, "find_node", &Args{Target: string(c[:])})
	if err != nil {
		t.Fatal(err)
	}
	if m.R.Nodes != "" || len(m.R.Nodes6) == 0 || len(m.R.Nodes6)%compactNode6Len != 0 {
		t.Fatalf("find_node over IPv6: nodes %d bytes, nodes6 %d bytes", len(m.R.Nodes), len(m.R.Nodes6))
	}
	ih := [20]byte{0x66}
	if _, err := nodes[3].Announce(ctx, ih, 6881, false); err != nil {
		t.Fatal(err)
	}
	peers, err := nodes[5].GetPeers(ctx, ih)
	if err != nil {
		t.Fatal(err)
	}
	if want := netip.MustParseAddrPort("[::1]:6881"); !slices.Contains(peers, want) {
		t.Fatalf("GetPeers over IPv6 = %v, want %v", peers, want)
	}
}
