package dht

import (
	"context"
	"testing"
	"time"
)

// TestQueryCountsByKind pings one node and looks up a hash through it,
// and checks both sides count each query under its method.
func TestQueryCountsByKind(t *testing.T) {
	a := newTestServer(t, Config{})
	b := newTestServer(t, Config{})
	if _, err := a.Ping(context.Background(), addrOf(b)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.GetPeers(ctx, [20]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	idx := func(kind string) int {
		for i, k := range QueryKinds {
			if k == kind {
				return i
			}
		}
		t.Fatalf("no kind %q", kind)
		return 0
	}
	sent, recv := a.QueryCounts().Sent, b.QueryCounts().Received
	if sent[idx("ping")] < 1 || recv[idx("ping")] < 1 {
		t.Errorf("ping: sent %d, received %d", sent[idx("ping")], recv[idx("ping")])
	}
	if sent[idx("get_peers")] < 1 || recv[idx("get_peers")] < 1 {
		t.Errorf("get_peers: sent %d, received %d", sent[idx("get_peers")], recv[idx("get_peers")])
	}
	if sent[idx("announce_peer")] != 0 || recv[idx("announce_peer")] != 0 || recv[idx("other")] != 0 {
		t.Errorf("counted queries never sent: %+v / %+v", sent, recv)
	}
	// Both counters move together, but another query may reach b between
	// the two reads (CI caught one): they must agree once it is quiet.
	var total, in int64
	for deadline := time.Now().Add(5 * time.Second); ; {
		total = 0
		for _, n := range b.QueryCounts().Received {
			total += n
		}
		if in = b.Stats().QueriesIn; total == in || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if total != in {
		t.Errorf("received by kind sum to %d, Stats.QueriesIn is %d", total, in)
	}
	if kindIndex("vote") != len(QueryKinds)-1 {
		t.Error("an unknown method is not counted as other")
	}
}
