package utp

import (
	"bytes"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// dataTo returns a DATA packet of the peer of c, with seq and payload.
func dataTo(c *Conn, seq uint16, payload []byte) header {
	return header{typ: stData, connID: c.recvID, seq: seq, ack: c.seq - 1, wnd: 1 << 20}
}

// TestBuffersBeyondSACK: packets further ahead of a hole than the
// selective ACK reaches are kept (within the receive window) and
// acknowledged with the rest when the hole is filled, not dropped (the
// sender would have to send them all again).
func TestBuffersBeyondSACK(t *testing.T) {
	n := newMemNet(21)
	_, b, _, sb := pair(t, n, Config{}, Config{})
	const count = 3 * 8 * maxSACKBytes
	payload := func(i int) []byte { return []byte{byte(i), byte(i >> 8), 0xa5} }
	sb.mu.Lock()
	first := b.ack + 1
	now := time.Now()
	for i := 1; i < count; i++ { // all but the first: a hole at ack+1
		h := dataTo(b, first+uint16(i), nil)
		b.receive(&h, payload(i), now, 0)
	}
	ahead := len(b.ooo)
	h := dataTo(b, first, nil)
	b.receive(&h, payload(0), now, 0)
	ack := b.ack
	got := append([]byte(nil), b.rbuf[b.roff:]...)
	sb.flushAcks()
	sb.mu.Unlock()
	if ahead != count-1 {
		t.Errorf("%d packets buffered after the hole, want %d", ahead, count-1)
	}
	if ack != first+count-1 {
		t.Errorf("ack_nr %d after the hole was filled, want %d", ack-first, count-1)
	}
	var want []byte
	for i := range count {
		want = append(want, payload(i)...)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%d bytes readable, want %d in order", len(got), len(want))
	}
}

// TestOneACKPerBatch: the packets of one read batch are acknowledged with
// one STATE per connection, not one per packet.
func TestOneACKPerBatch(t *testing.T) {
	n := newMemNet(22)
	_, b, _, sb := pair(t, n, Config{}, Config{})
	from := netip.MustParseAddrPort("10.0.0.1:1000")
	bAddr := netip.MustParseAddrPort("10.0.0.2:2000")
	var states atomic.Int32
	n.mu.Lock()
	n.drop = func(src, _ netip.AddrPort, p []byte) bool {
		if h, err := parseHeader(p); err == nil && src == bAddr && h.typ == stState {
			states.Add(1)
		}
		return false
	}
	n.mu.Unlock()
	sb.mu.Lock()
	first := b.ack + 1
	pkts := make([]packet, 8)
	for i := range pkts {
		bp := sb.bufs.Get().(*[]byte)
		h := dataTo(b, first+uint16(i), nil)
		buf := appendHeader((*bp)[:0], &h)
		buf = append(buf, byte(i))
		pkts[i] = packet{buf: bp, n: len(buf), addr: from}
	}
	sb.mu.Unlock()
	sb.dispatch(pkts)
	sb.mu.Lock()
	ack, avail := b.ack, len(b.rbuf)-b.roff
	sb.mu.Unlock()
	if ack != first+7 || avail != 8 {
		t.Fatalf("ack_nr +%d and %d bytes after a batch of 8 packets", ack-first+1, avail)
	}
	if got := states.Load(); got != 1 {
		t.Fatalf("%d ACKs for one batch of 8 packets, want 1", got)
	}
}

// TestLibtorrentSACK: an ACK whose selective ACK is not a multiple of 4
// bytes long, as libtorrent sends while it holds packets out of order,
// acknowledges what it names. (gobit used to drop such packets whole:
// after the first loss toward libtorrent no ACK got through any more,
// and the connection stalled for good, its timeout doubling.)
func TestLibtorrentSACK(t *testing.T) {
	n := newMemNet(23)
	a, b, sa, _ := pair(t, n, Config{}, Config{})
	bAddr := netip.MustParseAddrPort("10.0.0.2:2000")
	n.mu.Lock()
	n.drop = func(src, _ netip.AddrPort, _ []byte) bool { return src != bAddr }
	n.mu.Unlock()
	if _, err := a.Write(make([]byte, 4*1000)); err != nil { // all lost
		t.Fatal(err)
	}
	sa.mu.Lock()
	if len(a.out) < 2 {
		sa.mu.Unlock()
		t.Fatalf("%d packets in flight, want 2 or more", len(a.out))
	}
	first := a.out[0].seq
	// The peer got the second packet, not the first: ack_nr first-1 and a
	// one-byte selective ACK whose bit 0 stands for ack_nr+2, the second.
	h := header{typ: stState, connID: b.sendID, ts: 1, ack: first - 1, wnd: 1 << 20}
	buf := appendHeader(nil, &h)
	buf[1] = extSACK
	buf = append(buf, 0, 1, 1)
	bp := sa.bufs.Get().(*[]byte)
	pkt := packet{buf: bp, n: copy((*bp)[:cap(*bp)], buf), addr: bAddr}
	sa.mu.Unlock()
	sa.dispatch([]packet{pkt})
	sa.mu.Lock()
	defer sa.mu.Unlock()
	if a.out[0].seq != first || a.out[0].acked || !a.out[1].acked {
		t.Fatalf("after a selective ACK of the second packet: first unacked +%d, acked %v and %v; want +0, false and true",
			a.out[0].seq-first, a.out[0].acked, a.out[1].acked)
	}
}

// TestLongSACKToGobit: to a peer that announced extMaxPacket (gobit),
// the selective ACK reaches 2,016 packets past a hole, so that on a long
// fat path the sender learns of everything that arrived behind a loss
// (with 256, what lay beyond stayed counted in flight for a round trip,
// and the sender stood still); to other peers it stays within 32 bytes.
// A long one from the peer acknowledges the packets it names.
func TestLongSACKToGobit(t *testing.T) {
	n := newMemNet(24)
	a, b, sa, sb := pair(t, n, Config{}, Config{})
	bAddr := netip.MustParseAddrPort("10.0.0.2:2000")
	var last atomic.Pointer[[]byte]
	n.mu.Lock()
	n.drop = func(src, _ netip.AddrPort, p []byte) bool {
		if h, err := parseHeader(p); err == nil && src == bAddr && h.typ == stState {
			s := append([]byte(nil), h.sack...)
			last.Store(&s)
		}
		return src == bAddr
	}
	n.mu.Unlock()
	sackAfter := func(count int) []byte {
		t.Helper()
		sb.mu.Lock()
		first := b.ack + 1
		now := time.Now()
		for i := 1; i < count; i++ { // a hole at ack+1
			h := dataTo(b, first+uint16(i), nil)
			b.receive(&h, []byte{1}, now, 0)
		}
		b.sendState()
		h := dataTo(b, first, nil) // fill the hole for the next round
		b.receive(&h, []byte{1}, now, 0)
		sb.mu.Unlock()
		return *last.Load()
	}
	sb.mu.Lock()
	gobit := b.peerMaxPkt != 0
	sb.mu.Unlock()
	if !gobit {
		t.Fatal("the gobit peer's extMaxPacket was not recorded")
	}
	const count = 1000
	sack := sackAfter(count)
	if len(sack)%4 != 0 || len(sack) < (count-2)/8+1 {
		t.Fatalf("selective ACK of %d bytes after %d packets past a hole to gobit, want a multiple of 4 covering them", len(sack), count-1)
	}
	for i := range count - 1 {
		if !sackHas(sack, i) {
			t.Fatalf("packet ack+%d not in the selective ACK", i+2)
		}
	}
	sb.mu.Lock()
	b.peerMaxPkt = 0 // as libtorrent or Transmission
	sb.mu.Unlock()
	if sack := sackAfter(count); len(sack) != maxSACKBytes {
		t.Fatalf("selective ACK of %d bytes to another implementation, want %d", len(sack), maxSACKBytes)
	}

	// The sender's side: a long selective ACK takes what it names out of
	// the bytes in flight.
	sa.mu.Lock()
	defer sa.mu.Unlock()
	inFlight(t, n, a, 600)
	first := a.out[0].seq
	var sacked []int
	for i := range 598 {
		sacked = append(sacked, i)
	}
	h := ackFrom(a, first-1)
	h.sack = make([]byte, 76)
	for _, i := range sacked {
		h.sack[i>>3] |= 1 << (i & 7)
	}
	a.receive(&h, nil, time.Now(), 0)
	acked := 0
	for _, p := range a.out {
		if p.acked {
			acked++
		}
	}
	if acked != 598 {
		t.Fatalf("%d packets selectively acknowledged by a 76-byte selective ACK naming 598, want 598", acked)
	}
}
