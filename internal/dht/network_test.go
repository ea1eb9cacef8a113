package dht

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestNetwork50 runs 50 nodes on loopback, bootstrapped in a star around
// node 0 and a chain, lets one node announce an info hash and checks that
// another finds it with GetPeers within a bounded number of queries.
func TestNetwork50(t *testing.T) {
	const n = 50
	nodes := make([]*Server, n)
	nodes[0] = newTestServer(t, Config{})
	for i := 1; i < n; i++ {
		boot := []string{addrOf(nodes[0]).String()}
		if i > 1 {
			boot = append(boot, addrOf(nodes[i-1]).String()) // chain as well as star
		}
		nodes[i] = newTestServer(t, Config{Bootstrap: boot})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func(s *Server) {
			defer wg.Done()
			if err := s.Bootstrap(ctx); err != nil {
				errs <- err
			}
		}(nodes[i])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("bootstrap: %v", err)
	}
	// Second round so that early nodes learn of late ones.
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func(s *Server) { defer wg.Done(); s.Bootstrap(ctx) }(nodes[i])
	}
	wg.Wait()
	for i, s := range nodes {
		if st := s.Stats(); st.Nodes < 4 {
			t.Errorf("node %d has only %d nodes after bootstrap", i, st.Nodes)
		}
	}

	var ih [20]byte
	for i := range ih {
		ih[i] = byte(rand.N(256))
	}
	announcer, finder := nodes[17], nodes[42]
	if _, err := announcer.Announce(ctx, ih, 6881, false); err != nil {
		t.Fatalf("announce: %v", err)
	}
	stored := 0
	for _, s := range nodes {
		stored += s.Stats().PeersStored
	}
	if stored < 3 {
		t.Fatalf("announce stored on %d nodes, want >= 3", stored)
	}

	before := finder.Stats().QueriesOut
	peers, err := finder.GetPeers(ctx, ih)
	if err != nil {
		t.Fatalf("get_peers: %v", err)
	}
	want := netip.MustParseAddrPort("127.0.0.1:6881")
	if !slices.Contains(peers, want) {
		t.Fatalf("GetPeers = %v, want %v among them", peers, want)
	}
	queries := finder.Stats().QueriesOut - before
	t.Logf("GetPeers found %v with %d queries; announce stored on %d nodes", peers, queries, stored)
	if queries > 40 {
		t.Errorf("GetPeers sent %d queries, want <= 40 in a 50-node network", queries)
	}

	// Implied port: the peer is stored with the UDP source port.
	var ih2 [20]byte
	ih2[0] = 0xAB
	if _, err := nodes[5].Announce(ctx, ih2, 1, true); err != nil {
		t.Fatalf("announce implied: %v", err)
	}
	peers, err = nodes[33].GetPeers(ctx, ih2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(peers, addrOf(nodes[5])) {
		t.Fatalf("implied_port announce: GetPeers = %v, want %v", peers, addrOf(nodes[5]))
	}
	// Persisted nodes: Nodes returns good nodes a new server can start from.
	saved := finder.Nodes()
	if len(saved) < 4 {
		t.Fatalf("Nodes() = %d nodes", len(saved))
	}
	fresh := newTestServer(t, Config{Nodes: saved})
	if err := fresh.Bootstrap(ctx); err != nil {
		t.Fatalf("bootstrap from saved nodes: %v", err)
	}
	if peers, err := fresh.GetPeers(ctx, ih); err != nil || !slices.Contains(peers, want) {
		t.Fatalf("fresh node from saved nodes: GetPeers = %v, %v", peers, err)
	}
}
