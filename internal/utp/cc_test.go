package utp

import (
	"net/netip"
	"testing"
	"time"
)

// inFlight sends k full packets from a to b's address with every packet
// of a dropped by the network, so that the test plays b's ACKs itself.
// It is called under a's socket lock.
func inFlight(t *testing.T, n *memNet, a *Conn, k int) {
	t.Helper()
	aAddr := netip.MustParseAddrPort("10.0.0.1:1000")
	n.mu.Lock()
	n.drop = func(src, _ netip.AddrPort, _ []byte) bool { return src == aAddr }
	n.mu.Unlock()
	a.cc.cwnd = float64(k * a.mss)
	a.cc.slowStart = false
	a.peerWnd = 1 << 20
	a.pend.push(make([]byte, k*a.mss), 1<<30)
	a.flush(time.Now())
	if len(a.out) != k {
		t.Fatalf("%d packets in flight, want %d", len(a.out), k)
	}
}

// ackFrom returns b's STATE acknowledging up to ack with the packets
// sacked (offsets after ack+1) selectively acknowledged.
func ackFrom(a *Conn, ack uint16, sacked ...int) header {
	h := header{typ: stState, connID: a.recvID, seq: a.ack + 1, ack: ack, wnd: 1 << 20}
	mask := make([]byte, 4)
	for _, i := range sacked {
		mask[i>>3] |= 1 << (i & 7)
	}
	h.sack = mask
	return h
}

// TestFastRetransmitIgnoresWindow: a packet found lost by selective ACKs
// is sent again at once, although the window cut on that loss is below
// what is still in flight (waiting would hold the receiver's data behind
// the hole for half a round trip more).
func TestFastRetransmitIgnoresWindow(t *testing.T) {
	n := newMemNet(31)
	a, _, sa, _ := pair(t, n, Config{}, Config{})
	sa.mu.Lock()
	defer sa.mu.Unlock()
	inFlight(t, n, a, 20)
	first := a.out[0].seq
	// b got packets 2, 3 and 4 (offsets 0..2 after first+1), not first.
	h := ackFrom(a, first-1, 0, 1, 2)
	a.receive(&h, nil, time.Now(), 0)
	if !a.recovering {
		t.Fatal("three packets acknowledged after a hole did not mark it lost")
	}
	if w, in := a.cc.window(), a.inflight; w >= in {
		t.Fatalf("window %d not below the %d bytes in flight: the test shows nothing", w, in)
	}
	if tx := a.out[0].tx; tx != 2 {
		t.Fatalf("the lost packet was sent %d times, want 2 (sent again at once)", tx)
	}
	// Only the first loss of a recovery goes past the window.
	h = ackFrom(a, first-1, 0, 1, 2, 4, 5, 6)
	a.receive(&h, nil, time.Now(), 0)
	if tx := a.out[4].tx; tx != 1 {
		t.Fatalf("a second lost packet was sent %d times while the window is full", tx)
	}
}

// TestLossRunIsCongestion: a loss with no queue behind it is taken for
// random loss (a small cut), but when more packets of the same window turn
// out lost, it was a queue overflowing that is too shallow to show a
// delay (a socket buffer on a LAN): the window is halved then.
func TestLossRunIsCongestion(t *testing.T) {
	n := newMemNet(32)
	a, _, sa, _ := pair(t, n, Config{}, Config{})
	sa.mu.Lock()
	defer sa.mu.Unlock()
	inFlight(t, n, a, 20)
	now := time.Now()
	a.cc.delaySample(1000, now) // a delay measured: no queue
	first := a.out[0].seq
	h := ackFrom(a, first-1, 0, 1, 2) // packet 0 lost
	a.receive(&h, nil, now, 0)
	full := 20 * a.mss
	w1 := a.cc.window()
	if w1 < full*3/4 || w1 > full*19/20 {
		t.Fatalf("window %d after one loss with no queue (from %d), want a small cut", w1, full)
	}
	h = ackFrom(a, first-1, 0, 1, 2, 4, 5, 6, 8, 9, 10) // and packets 4 and 8
	a.receive(&h, nil, now, 0)
	if w2 := a.cc.window(); w2 > w1*6/10 {
		t.Fatalf("window %d after three losses in one window (from %d), want it halved", w2, w1)
	}
}

// TestRetransmissionLostAgain: a retransmission that is lost too is found
// lost like a first transmission, by packets sent after it arriving, not
// by a timeout (half a second or more, where libtorrent's socket buffer
// on loopback overflows in runs every few milliseconds). Packets sent
// before it that arrive say nothing about it.
func TestRetransmissionLostAgain(t *testing.T) {
	n := newMemNet(33)
	a, _, sa, _ := pair(t, n, Config{}, Config{})
	sa.mu.Lock()
	defer sa.mu.Unlock()
	inFlight(t, n, a, 20)
	first := a.out[0].seq
	now := time.Now()
	h := ackFrom(a, first-1, 0, 1, 2) // packet 0 lost
	a.receive(&h, nil, now, 0)
	if tx := a.out[0].tx; tx != 2 {
		t.Fatalf("the lost packet was sent %d times, want 2", tx)
	}
	// Three packets more, sent after the retransmission.
	a.cc.cwnd = float64(40 * a.mss)
	a.pend.push(make([]byte, 3*a.mss), 1<<30)
	a.flush(now)
	if len(a.out) != 23 {
		t.Fatalf("%d packets in flight, want 23", len(a.out))
	}
	// Packets 3 to 18 arrive, all sent before the retransmission.
	var before []int
	for i := 3; i <= 18; i++ {
		before = append(before, i-1)
	}
	h = ackFrom(a, first-1, before...)
	a.receive(&h, nil, now, 0)
	if p := a.out[0]; p.tx != 2 || p.lost {
		t.Fatalf("retransmission taken for lost (sent %d times) on packets sent before it", p.tx)
	}
	// Then the three sent after it: it was lost again.
	h = ackFrom(a, first-1, append(before, 19, 20, 21)...)
	a.receive(&h, nil, now, 0)
	if tx := a.out[0].tx; tx != 3 {
		t.Fatalf("a retransmission lost again was sent %d times, want 3 (again, without a timeout)", tx)
	}
}

// TestSpuriousTimeout: after a first timeout only the oldest packet goes
// again; when the next ACK acknowledges packets sent once (they were on
// their way: a late ACK, not a loss), the window from before the timeout
// is put back and nothing else is sent again. When it acknowledges only
// the packet sent again, the others are sent again too (F-RTO, RFC 5682).
func TestSpuriousTimeout(t *testing.T) {
	for _, spurious := range []bool{true, false} {
		n := newMemNet(33)
		a, _, sa, _ := pair(t, n, Config{}, Config{})
		sa.mu.Lock()
		inFlight(t, n, a, 20)
		w0 := a.cc.window()
		first := a.out[0].seq
		a.tick(a.rtoAt)
		if a.retransmits != 1 || !a.frto {
			sa.mu.Unlock()
			t.Fatalf("after a first timeout: %d packets sent again (want 1), F-RTO %v", a.retransmits, a.frto)
		}
		ack := first // only the packet sent again
		if spurious {
			ack = first + 5 // packets sent once, too
		}
		h := ackFrom(a, ack)
		a.receive(&h, nil, time.Now(), 0)
		again := 0
		for _, p := range a.out {
			if p.lost || p.tx > 1 {
				again++
			}
		}
		w, rtx := a.cc.window(), a.retransmits
		sa.mu.Unlock()
		if spurious {
			if w < w0 || rtx != 1 || again != 0 {
				t.Errorf("spurious timeout: window %d (before %d), %d sent again, %d to send again; want the window back and nothing more", w, w0, rtx, again)
			}
		} else if w >= w0 || again != len(a.out) {
			t.Errorf("timeout: window %d (before %d), %d of %d packets to send again; want a restart and all", w, w0, again, len(a.out))
		}
	}
}

// TestRTOMargin: a steady round trip (variance near zero) still gets a
// timeout of at least rtoMargin above it, not RTT + 4 × variance: a far
// peer's 360 ms round trip had a timeout of 500 ms, which a queue of
// 150 ms more set off on packets that were on their way.
func TestRTOMargin(t *testing.T) {
	c := &Conn{}
	for range 50 {
		c.rttSample(400 * time.Millisecond)
	}
	if c.rto < 400*time.Millisecond+rtoMargin {
		t.Fatalf("timeout %v for a steady 400 ms round trip, want at least %v", c.rto, 400*time.Millisecond+rtoMargin)
	}
	c = &Conn{}
	for range 50 {
		c.rttSample(time.Millisecond)
	}
	if c.rto != minRTO {
		t.Fatalf("timeout %v for a 1 ms round trip, want %v", c.rto, minRTO)
	}
}
