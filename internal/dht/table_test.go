package dht

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// idWithPrefix returns an ID that shares exactly cpl leading bits with
// self (cpl < 152), its last byte changed by tag to make it unique.
func idWithPrefix(self [20]byte, cpl int, tag byte) [20]byte {
	id := self
	id[cpl/8] ^= 0x80 >> (cpl % 8)
	id[19] ^= tag
	return id
}

func testAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 6881)
}

func TestCommonPrefixLen(t *testing.T) {
	var a [20]byte
	tests := []struct {
		b    [20]byte
		want int
	}{
		{a, 160},
		{[20]byte{0x80}, 0},
		{[20]byte{0x01}, 7},
		{[20]byte{0, 0x40}, 9},
		{[20]byte{19: 1}, 159},
	}
	for _, tc := range tests {
		if got := commonPrefixLen(a, tc.b); got != tc.want {
			t.Errorf("commonPrefixLen(0, %x) = %d, want %d", tc.b, got, tc.want)
		}
	}
}

func TestTableNeverStoresOwnIDOrPortZero(t *testing.T) {
	now := time.Now()
	self := [20]byte{1, 2, 3}
	tb := newTable(self, now)
	tests := []struct {
		name string
		n    NodeInfo
	}{
		{"own ID", NodeInfo{ID: self, Addr: testAddr(1)}},
		{"port 0", NodeInfo{ID: [20]byte{9}, Addr: netip.MustParseAddrPort("10.0.0.1:0")}},
		{"unspecified IP", NodeInfo{ID: [20]byte{9}, Addr: netip.MustParseAddrPort("0.0.0.0:6881")}},
		{"multicast", NodeInfo{ID: [20]byte{9}, Addr: netip.MustParseAddrPort("224.0.0.1:6881")}},
		{"invalid", NodeInfo{ID: [20]byte{9}}},
	}
	for _, tc := range tests {
		tb.update(tc.n, now)
		if tb.wouldAdd(tc.n) {
			t.Errorf("%s: wouldAdd = true", tc.name)
		}
	}
	if total, _ := tb.counts(now); total != 0 {
		t.Fatalf("table stored %d rejected nodes", total)
	}
}

func TestTableSplitsOnlyAroundOwnID(t *testing.T) {
	now := time.Now()
	var self [20]byte // all zero: IDs starting with bit 1 are "far"
	tb := newTable(self, now)
	// K far nodes (cpl 0) fill the single bucket.
	for i := range K {
		tb.update(NodeInfo{ID: idWithPrefix(self, 0, byte(i+1)), Addr: testAddr(i)}, now)
	}
	if len(tb.buckets) != 1 {
		t.Fatalf("buckets = %d after K nodes, want 1", len(tb.buckets))
	}
	// A near node forces a split: the far nodes stay in bucket 0, the near
	// one goes to the new bucket covering our ID.
	near := NodeInfo{ID: idWithPrefix(self, 10, 1), Addr: testAddr(100)}
	if ping := tb.update(near, now); ping != nil {
		t.Fatalf("update near node asked to ping %v, want a split", ping)
	}
	if len(tb.buckets) != 2 || len(tb.buckets[0].nodes) != K || len(tb.buckets[1].nodes) != 1 {
		t.Fatalf("after split: %d buckets, sizes %d/%d", len(tb.buckets), len(tb.buckets[0].nodes), len(tb.buckets[len(tb.buckets)-1].nodes))
	}
	// Another far node does not split bucket 0 (it does not contain our
	// ID); it becomes a replacement, and all nodes are good so no ping.
	far := NodeInfo{ID: idWithPrefix(self, 0, 200), Addr: testAddr(200)}
	if ping := tb.update(far, now); ping != nil {
		t.Fatalf("full bucket of good nodes asked to ping %v", ping)
	}
	if len(tb.buckets) != 2 {
		t.Fatalf("far node split the table: %d buckets", len(tb.buckets))
	}
	if _, i := tb.find(far.ID); i >= 0 {
		t.Fatal("far node stored in a full bucket of good nodes")
	}
	// Many near nodes at increasing depth split repeatedly; each bucket
	// holds only IDs of its prefix length.
	for cpl := 1; cpl < 40; cpl++ {
		for j := range 3 {
			tb.update(NodeInfo{ID: idWithPrefix(self, cpl, byte(j+1)), Addr: testAddr(1000 + cpl*4 + j)}, now)
		}
	}
	for i, b := range tb.buckets {
		if len(b.nodes) > K {
			t.Errorf("bucket %d holds %d nodes", i, len(b.nodes))
		}
		for _, n := range b.nodes {
			cpl := commonPrefixLen(self, n.ID)
			if i < len(tb.buckets)-1 && cpl != i || i == len(tb.buckets)-1 && cpl < i {
				t.Errorf("bucket %d holds node with prefix length %d", i, cpl)
			}
		}
	}
	if len(tb.buckets) < 3 {
		t.Errorf("buckets = %d, want repeated splits", len(tb.buckets))
	}
}

// fullFarBucket returns a table whose bucket 0 (not containing self) is
// full of K nodes seen at seen, and already split once.
func fullFarBucket(t *testing.T, self [20]byte, seen time.Time) *table {
	t.Helper()
	tb := newTable(self, seen)
	tb.update(NodeInfo{ID: idWithPrefix(self, 5, 1), Addr: testAddr(999)}, seen)
	for i := range K {
		tb.update(NodeInfo{ID: idWithPrefix(self, 0, byte(i+1)), Addr: testAddr(i)}, seen.Add(time.Duration(i)*time.Second))
	}
	if len(tb.buckets) != 2 || len(tb.buckets[0].nodes) != K {
		t.Fatalf("setup: %d buckets, bucket 0 has %d", len(tb.buckets), len(tb.buckets[0].nodes))
	}
	return tb
}

func TestTableEvictsQuestionableAfterFailedPing(t *testing.T) {
	self := [20]byte{}
	start := time.Now()
	tb := fullFarBucket(t, self, start)
	now := start.Add(20 * time.Minute) // every node is questionable now
	newNode := NodeInfo{ID: idWithPrefix(self, 0, 100), Addr: testAddr(100)}
	ping := tb.update(newNode, now)
	oldest := idWithPrefix(self, 0, 1)
	if ping == nil || ping.ID != oldest {
		t.Fatalf("update into full questionable bucket: ping = %v, want the least recently seen node %x", ping, oldest)
	}
	// A second newcomer while the ping is out asks for no second ping.
	if p2 := tb.update(NodeInfo{ID: idWithPrefix(self, 0, 101), Addr: testAddr(101)}, now); p2 != nil {
		t.Fatalf("second ping requested while one is under way: %v", p2)
	}
	// The ping fails: the questionable node is replaced by the newest candidate.
	tb.failed(ping.ID, ping.Addr, now)
	if _, i := tb.find(oldest); i >= 0 {
		t.Fatal("questionable node not evicted after failed ping")
	}
	if _, i := tb.find(idWithPrefix(self, 0, 101)); i < 0 {
		t.Fatal("replacement candidate not added after eviction")
	}
}

func TestTableKeepsQuestionableThatAnswers(t *testing.T) {
	self := [20]byte{}
	start := time.Now()
	tb := fullFarBucket(t, self, start)
	now := start.Add(20 * time.Minute)
	newNode := NodeInfo{ID: idWithPrefix(self, 0, 100), Addr: testAddr(100)}
	ping := tb.update(newNode, now)
	if ping == nil {
		t.Fatal("no ping requested")
	}
	tb.update(*ping, now) // it answered
	if _, i := tb.find(ping.ID); i < 0 {
		t.Fatal("node that answered its ping was evicted")
	}
	if _, i := tb.find(newNode.ID); i >= 0 {
		t.Fatal("newcomer stored although the bucket's node answered")
	}
	if n := len(tb.buckets[0].replacements); n != 1 {
		t.Fatalf("replacements = %d, want the newcomer kept as candidate", n)
	}
}

func TestTableReplacesBadNodes(t *testing.T) {
	self := [20]byte{}
	now := time.Now()
	tb := fullFarBucket(t, self, now)
	victim := tb.buckets[0].nodes[3]
	for range badFailures {
		tb.failed(victim.ID, victim.Addr, now)
	}
	if !victim.isBad() {
		t.Fatal("node not bad after failures")
	}
	for _, n := range tb.closest(victim.ID, 100) {
		if n.ID == victim.ID {
			t.Fatal("closest returned a bad node")
		}
	}
	newNode := NodeInfo{ID: idWithPrefix(self, 0, 100), Addr: testAddr(100)}
	if !tb.wouldAdd(newNode) {
		t.Fatal("wouldAdd = false with a bad node in the bucket")
	}
	if ping := tb.update(newNode, now); ping != nil {
		t.Fatalf("bad node replacement asked for a ping: %v", ping)
	}
	if _, i := tb.find(victim.ID); i >= 0 {
		t.Fatal("bad node not replaced")
	}
	if _, i := tb.find(newNode.ID); i < 0 {
		t.Fatal("new node not stored in place of the bad one")
	}
}

func TestTableQuestionableAndGood(t *testing.T) {
	self := [20]byte{}
	start := time.Now()
	tb := fullFarBucket(t, self, start)
	if q := tb.questionable(start, 100); len(q) != 0 {
		t.Fatalf("questionable right after answers: %d", len(q))
	}
	later := start.Add(goodWindow + time.Minute)
	if q := tb.questionable(later, 3); len(q) != 3 || q[0].ID != idWithPrefix(self, 0, 1) {
		t.Fatalf("questionable(later, 3) = %v, want the 3 least recently seen", q)
	}
	if g := tb.good(later); len(g) != 0 {
		t.Fatalf("good after 16 min = %d", len(g))
	}
	// A query from a node keeps it good.
	n := tb.buckets[0].nodes[0]
	if !tb.seen(n.ID, n.Addr, later) {
		t.Fatal("seen: node not found")
	}
	if g := tb.good(later); len(g) != 1 {
		t.Fatalf("good after query = %d, want 1", len(g))
	}
	if tb.seen(n.ID, testAddr(4242), later) {
		t.Fatal("seen accepted a different address for a known ID")
	}
}

func TestTableRandomIDInBucket(t *testing.T) {
	self := [20]byte{0xAA, 0x55}
	tb := newTable(self, time.Now())
	for range 20 {
		tb.split()
	}
	for i := range len(tb.buckets) {
		for j := range 10 {
			rnd := [20]byte{byte(j * 37), byte(j * 91), 3, 4, byte(j)}
			id := tb.randomIDIn(i, rnd)
			if got := tb.bucketIndex(id); got != i {
				t.Fatalf("randomIDIn(%d) = %x lands in bucket %d", i, id, got)
			}
		}
	}
}

func TestTableSameIDNewAddress(t *testing.T) {
	self := [20]byte{}
	now := time.Now()
	tb := newTable(self, now)
	id := idWithPrefix(self, 3, 1)
	tb.update(NodeInfo{ID: id, Addr: testAddr(1)}, now)
	// A good node keeps its address against an impostor.
	tb.update(NodeInfo{ID: id, Addr: testAddr(2)}, now)
	if b, i := tb.find(id); i < 0 || b.nodes[i].Addr != testAddr(1) {
		t.Fatal("good node's address replaced")
	}
	// A node that changed its ID at the same address replaces its old entry.
	id2 := idWithPrefix(self, 4, 1)
	tb.update(NodeInfo{ID: id2, Addr: testAddr(1)}, now)
	if _, i := tb.find(id); i >= 0 {
		t.Fatal("old ID at the same address kept")
	}
	if total, _ := tb.counts(now); total != 1 {
		t.Fatalf("nodes = %d, want 1", total)
	}
}

func TestTableBounded(t *testing.T) {
	now := time.Now()
	self := [20]byte{7}
	tb := newTable(self, now)
	for i := range 5000 {
		var id [20]byte
		copy(id[:], fmt.Sprintf("node-%015d", i))
		tb.update(NodeInfo{ID: id, Addr: testAddr(i)}, now)
	}
	total, _ := tb.counts(now)
	if total > K*len(tb.buckets) || len(tb.buckets) > maxBuckets {
		t.Fatalf("%d nodes in %d buckets", total, len(tb.buckets))
	}
	for _, b := range tb.buckets {
		if len(b.replacements) > K {
			t.Fatalf("replacements = %d", len(b.replacements))
		}
	}
}
