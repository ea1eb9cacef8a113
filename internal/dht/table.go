package dht

import (
	"math/bits"
	"net/netip"
	"slices"
	"time"
)

// K is the bucket size and the number of closest nodes a lookup converges
// on.
const K = 8

// Node state timing (BEP 5).
const (
	// goodWindow: a node that answered (or queried us) within this window
	// and has not failed since is good; otherwise it is questionable.
	goodWindow = 15 * time.Minute
	// badFailures: a node that failed this many queries in a row is bad.
	badFailures = 2
	// pingStale: an eviction ping older than this is forgotten.
	pingStale = time.Minute
	// maxBuckets bounds the table: one bucket per bit of the ID.
	maxBuckets = 160
)

// distanceLess reports whether a is closer to target than b (XOR metric).
func distanceLess(target, a, b [20]byte) bool {
	for i := range 20 {
		da, db := a[i]^target[i], b[i]^target[i]
		if da != db {
			return da < db
		}
	}
	return false
}

// commonPrefixLen returns the number of leading bits a and b share (160 if
// they are equal).
func commonPrefixLen(a, b [20]byte) int {
	for i := range 20 {
		if x := a[i] ^ b[i]; x != 0 {
			return i*8 + bits.LeadingZeros8(x)
		}
	}
	return 160
}

// tnode is a node in the routing table.
type tnode struct {
	NodeInfo
	lastSeen time.Time // last answer to our query, or last query from it
	failures int       // queries failed in a row
	pingAt   time.Time // when an eviction ping was sent; zero if none
}

// bucket holds up to K nodes and up to K replacement candidates (nodes that
// answered while the bucket was full), most recent last.
type bucket struct {
	nodes        []*tnode
	replacements []NodeInfo
	changed      time.Time // last time a node was added, replaced or refreshed
}

// table is the routing table. It does no I/O and is not safe for concurrent
// use; the Server guards it with its mutex. Bucket i < len(buckets)-1 holds
// the nodes whose ID shares exactly i leading bits with self; the last
// bucket holds all nodes sharing at least len(buckets)-1 bits, and so always
// covers self. Only that last bucket is ever split.
type table struct {
	self    [20]byte
	buckets []*bucket
}

// newTable returns an empty table of one bucket covering the whole ID space.
func newTable(self [20]byte, now time.Time) *table {
	return &table{self: self, buckets: []*bucket{{changed: now}}}
}

// bucketIndex returns the index of the bucket that covers id.
func (t *table) bucketIndex(id [20]byte) int {
	return min(commonPrefixLen(t.self, id), len(t.buckets)-1)
}

// find returns the bucket and position of the node with this ID, or -1.
func (t *table) find(id [20]byte) (*bucket, int) {
	b := t.buckets[t.bucketIndex(id)]
	for i, n := range b.nodes {
		if n.ID == id {
			return b, i
		}
	}
	return b, -1
}

// findAddr returns the bucket and position of the node at addr, or -1.
func (t *table) findAddr(addr netip.AddrPort) (*bucket, int) {
	for _, b := range t.buckets {
		for i, n := range b.nodes {
			if n.Addr == addr {
				return b, i
			}
		}
	}
	return nil, -1
}

// acceptable reports whether n may be stored at all.
func (t *table) acceptable(n NodeInfo) bool {
	return n.ID != t.self && validNodeAddr(n.Addr)
}

// isGood reports whether n is good at now.
func (n *tnode) isGood(now time.Time) bool {
	return n.failures == 0 && now.Sub(n.lastSeen) < goodWindow
}

// isBad reports whether n failed too often.
func (n *tnode) isBad() bool { return n.failures >= badFailures }

// update records that n answered one of our queries at now, adding it to the
// table if there is room. If its bucket is full of nodes that are not bad,
// n becomes a replacement candidate and update may return the
// least-recently-seen questionable node of the bucket, which the caller
// should ping: if that ping fails (failed is called), n takes its place.
func (t *table) update(n NodeInfo, now time.Time) (ping *NodeInfo) {
	if !t.acceptable(n) {
		return nil
	}
	n.Addr = netip.AddrPortFrom(n.Addr.Addr().Unmap(), n.Addr.Port())
	if b, i := t.find(n.ID); i >= 0 {
		old := b.nodes[i]
		if old.Addr != n.Addr {
			if old.isGood(now) {
				return nil // keep the good node; the new address may be an impostor
			}
			if ob, oi := t.findAddr(n.Addr); oi >= 0 {
				ob.remove(oi)
				b, i = t.find(n.ID)
				old = b.nodes[i]
			}
			old.Addr = n.Addr
		}
		old.lastSeen, old.failures, old.pingAt = now, 0, time.Time{}
		return nil
	}
	// A node that changed its ID: forget the old entry.
	if b, i := t.findAddr(n.Addr); i >= 0 {
		b.remove(i)
	}
	for {
		idx := t.bucketIndex(n.ID)
		b := t.buckets[idx]
		if len(b.nodes) < K {
			b.nodes = append(b.nodes, &tnode{NodeInfo: n, lastSeen: now})
			b.changed = now
			b.dropReplacement(n.ID)
			return nil
		}
		for i, o := range b.nodes {
			if o.isBad() {
				b.nodes[i] = &tnode{NodeInfo: n, lastSeen: now}
				b.changed = now
				b.dropReplacement(n.ID)
				return nil
			}
		}
		if idx == len(t.buckets)-1 && len(t.buckets) < maxBuckets {
			t.split()
			continue
		}
		b.addReplacement(n)
		var oldest *tnode
		for _, o := range b.nodes {
			if !o.pingAt.IsZero() && now.Sub(o.pingAt) < pingStale {
				return nil // an eviction ping is already under way
			}
			if !o.isGood(now) && (oldest == nil || o.lastSeen.Before(oldest.lastSeen)) {
				oldest = o
			}
		}
		if oldest == nil {
			return nil
		}
		oldest.pingAt = now
		ni := oldest.NodeInfo
		return &ni
	}
}

// split divides the last bucket in two: nodes sharing more bits with self
// move to a new last bucket.
func (t *table) split() {
	last := len(t.buckets) - 1
	old := t.buckets[last]
	nb := &bucket{changed: old.changed}
	keep := old.nodes[:0]
	for _, n := range old.nodes {
		if commonPrefixLen(t.self, n.ID) > last {
			nb.nodes = append(nb.nodes, n)
		} else {
			keep = append(keep, n)
		}
	}
	clear(old.nodes[len(keep):])
	old.nodes = keep
	var keepR []NodeInfo
	for _, r := range old.replacements {
		if commonPrefixLen(t.self, r.ID) > last {
			nb.replacements = append(nb.replacements, r)
		} else {
			keepR = append(keepR, r)
		}
	}
	old.replacements = keepR
	t.buckets = append(t.buckets, nb)
}

// remove deletes the node at position i.
func (b *bucket) remove(i int) {
	b.nodes = slices.Delete(b.nodes, i, i+1)
}

// addReplacement remembers n as a candidate, most recent last, at most K.
func (b *bucket) addReplacement(n NodeInfo) {
	b.dropReplacement(n.ID)
	if len(b.replacements) >= K {
		b.replacements = slices.Delete(b.replacements, 0, 1)
	}
	b.replacements = append(b.replacements, n)
}

// dropReplacement removes the candidate with this ID, if any.
func (b *bucket) dropReplacement(id [20]byte) {
	b.replacements = slices.DeleteFunc(b.replacements, func(r NodeInfo) bool { return r.ID == id })
}

// seen records a query received from the node (id, addr): if it is in the
// table at that address it stays good. It reports whether the node is in
// the table.
func (t *table) seen(id [20]byte, addr netip.AddrPort, now time.Time) bool {
	b, i := t.find(id)
	if i < 0 || b.nodes[i].Addr != addr {
		return false
	}
	if b.nodes[i].failures == 0 {
		b.nodes[i].lastSeen = now
	}
	return true
}

// failed records that a query to the node at addr (with this ID, if known)
// went unanswered. A node that fails an eviction ping, or that became bad,
// is replaced by the most recent replacement candidate if there is one.
func (t *table) failed(id [20]byte, addr netip.AddrPort, now time.Time) {
	b, i := t.find(id)
	if i < 0 || b.nodes[i].Addr != addr {
		if b, i = t.findAddr(addr); i < 0 {
			return
		}
	}
	n := b.nodes[i]
	n.failures++
	evicting := !n.pingAt.IsZero()
	n.pingAt = time.Time{}
	if (evicting || n.isBad()) && len(b.replacements) > 0 {
		r := b.replacements[len(b.replacements)-1]
		b.replacements = b.replacements[:len(b.replacements)-1]
		b.nodes[i] = &tnode{NodeInfo: r, lastSeen: now}
		b.changed = now
	}
}

// wouldAdd reports whether a new node with this ID would be stored right
// away if it answered: its bucket has room, holds a bad node, or can split.
func (t *table) wouldAdd(n NodeInfo) bool {
	if !t.acceptable(n) {
		return false
	}
	b, i := t.find(n.ID)
	if i >= 0 {
		return false
	}
	if len(b.nodes) < K || t.bucketIndex(n.ID) == len(t.buckets)-1 && len(t.buckets) < maxBuckets {
		return true
	}
	for _, o := range b.nodes {
		if o.isBad() {
			return true
		}
	}
	return false
}

// closest returns up to n nodes that are not bad, closest to target first.
func (t *table) closest(target [20]byte, n int) []NodeInfo {
	var all []NodeInfo
	for _, b := range t.buckets {
		for _, o := range b.nodes {
			if !o.isBad() {
				all = append(all, o.NodeInfo)
			}
		}
	}
	slices.SortFunc(all, func(a, b NodeInfo) int {
		if distanceLess(target, a.ID, b.ID) {
			return -1
		}
		if distanceLess(target, b.ID, a.ID) {
			return 1
		}
		return 0
	})
	if len(all) > n {
		all = all[:n]
	}
	return all
}

// questionable returns up to max nodes that are neither good nor bad and
// have no eviction ping under way, least recently seen first.
func (t *table) questionable(now time.Time, max int) []NodeInfo {
	var qs []*tnode
	for _, b := range t.buckets {
		for _, o := range b.nodes {
			if !o.isGood(now) && !o.isBad() && (o.pingAt.IsZero() || now.Sub(o.pingAt) >= pingStale) {
				qs = append(qs, o)
			}
		}
	}
	slices.SortFunc(qs, func(a, b *tnode) int { return a.lastSeen.Compare(b.lastSeen) })
	out := make([]NodeInfo, 0, min(len(qs), max))
	for _, o := range qs[:min(len(qs), max)] {
		out = append(out, o.NodeInfo)
	}
	return out
}

// staleBuckets returns the indexes of buckets unchanged for interval.
func (t *table) staleBuckets(now time.Time, interval time.Duration) []int {
	var out []int
	for i, b := range t.buckets {
		if now.Sub(b.changed) >= interval {
			out = append(out, i)
		}
	}
	return out
}

// touchBucket marks bucket i as refreshed at now.
func (t *table) touchBucket(i int, now time.Time) {
	if i >= 0 && i < len(t.buckets) {
		t.buckets[i].changed = now
	}
}

// randomIDIn returns an ID covered by bucket i, using rnd for the free bits:
// it shares i bits with self and differs in bit i (the last bucket: shares
// at least i bits).
func (t *table) randomIDIn(i int, rnd [20]byte) [20]byte {
	id := rnd
	for bit := range i {
		mask := byte(0x80) >> (bit % 8)
		id[bit/8] = id[bit/8]&^mask | t.self[bit/8]&mask
	}
	if i < len(t.buckets)-1 && i < 160 {
		mask := byte(0x80) >> (i % 8)
		id[i/8] = id[i/8]&^mask | (t.self[i/8]^mask)&mask
	}
	return id
}

// good returns the good nodes.
func (t *table) good(now time.Time) []NodeInfo {
	var out []NodeInfo
	for _, b := range t.buckets {
		for _, o := range b.nodes {
			if o.isGood(now) {
				out = append(out, o.NodeInfo)
			}
		}
	}
	return out
}

// counts returns the number of nodes and of good nodes.
func (t *table) counts(now time.Time) (total, good int) {
	for _, b := range t.buckets {
		total += len(b.nodes)
		for _, o := range b.nodes {
			if o.isGood(now) {
				good++
			}
		}
	}
	return total, good
}
