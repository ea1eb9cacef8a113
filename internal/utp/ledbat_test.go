package utp

import (
	"testing"
	"time"
)

const testMSS = 1000

// feed acks a full window n times with the given one-way delay (on top
// of a clock offset, which must not matter).
func feed(l *ledbat, now *time.Time, delay time.Duration, n int) {
	const offset = 3_000_000_000 // the peer's clock is far off ours
	for range n {
		*now = now.Add(10 * time.Millisecond)
		l.delaySample(uint32(offset+delay.Microseconds()), *now)
		w := l.window()
		l.onAck(testMSS, w-testMSS)
	}
}

func TestLEDBATGrowsBelowTarget(t *testing.T) {
	l := newLEDBAT(testMSS, 1<<30)
	now := time.Unix(1000, 0)
	feed(l, &now, 0, 1) // base delay 0
	l.slowStart = false
	w0 := l.window()
	feed(l, &now, 10*time.Millisecond, 200)
	if l.window() <= w0 {
		t.Fatalf("window %d -> %d with 10 ms queuing (target 100 ms)", w0, l.window())
	}
}

func TestLEDBATShrinksAboveTarget(t *testing.T) {
	l := newLEDBAT(testMSS, 1<<30)
	now := time.Unix(1000, 0)
	feed(l, &now, 0, 1)
	l.slowStart = false
	l.cwnd = 100 * testMSS
	feed(l, &now, 250*time.Millisecond, 200)
	if l.window() >= 100*testMSS {
		t.Fatalf("window %d with 250 ms queuing, want below %d", l.window(), 100*testMSS)
	}
	if l.window() < testMSS {
		t.Fatalf("window %d below one packet", l.window())
	}
}

func TestLEDBATHoldsAtTarget(t *testing.T) {
	l := newLEDBAT(testMSS, 1<<30)
	now := time.Unix(1000, 0)
	feed(l, &now, 0, 1)
	l.slowStart = false
	l.cwnd = 50 * testMSS
	feed(l, &now, targetDelay, 500)
	if w := l.window(); w < 49*testMSS || w > 51*testMSS {
		t.Fatalf("window %d at exactly the target, want about %d", w, 50*testMSS)
	}
}

func TestLEDBATBaseDelayHistory(t *testing.T) {
	l := newLEDBAT(testMSS, 1<<30)
	now := time.Unix(1000, 0)
	l.delaySample(5000, now)  // the base: 5 ms
	l.delaySample(50000, now) // + 45 ms
	for range currentFilter {
		now = now.Add(time.Millisecond)
		l.delaySample(50000, now)
	}
	if l.queuing != 45*time.Millisecond {
		t.Fatalf("queuing %v, want 45ms", l.queuing)
	}
	// After baseHistory minutes without the low sample the base moves up
	// (a route change is forgotten).
	for range baseHistory + 1 {
		now = now.Add(time.Minute)
		l.delaySample(50000, now)
	}
	if l.queuing != 0 {
		t.Fatalf("queuing %v after the history rolled over, want 0", l.queuing)
	}
	// Timestamps wrap: a sample just past 2^32 is later, not earlier.
	l2 := newLEDBAT(testMSS, 1<<30)
	l2.delaySample(0xffff_fff0, now)
	for range currentFilter {
		l2.delaySample(0x0000_2700, now) // 10 ms later, wrapped
	}
	if l2.queuing < 9*time.Millisecond || l2.queuing > 11*time.Millisecond {
		t.Fatalf("queuing %v across the wrap, want 10ms", l2.queuing)
	}
}

func TestLEDBATSlowStart(t *testing.T) {
	l := newLEDBAT(testMSS, 1<<30)
	now := time.Unix(1000, 0)
	w0 := l.window()
	feed(l, &now, 0, 20)
	if l.window() < w0+15*testMSS {
		t.Fatalf("slow start grew %d -> %d over 20 acked packets", w0, l.window())
	}
	feed(l, &now, 80*time.Millisecond, 4)
	if l.slowStart {
		t.Fatal("still in slow start with 80 ms of queue")
	}
}

func TestLEDBATLoss(t *testing.T) {
	l := newLEDBAT(testMSS, 1<<30)
	now := time.Unix(1000, 0)
	feed(l, &now, 0, 1)
	feed(l, &now, 120*time.Millisecond, currentFilter)
	l.cwnd = 100 * testMSS
	l.onLoss(false)
	if l.window() != 50*testMSS {
		t.Fatalf("window %d after a loss behind a queue, want half", l.window())
	}
	// A loss with no queue is random loss: a smaller cut.
	feed(l, &now, 0, currentFilter)
	l.cwnd = 100 * testMSS
	l.onLoss(false)
	if w := l.window(); w != int(100*testMSS*randomLossFactor) {
		t.Fatalf("window %d after a random loss", w)
	}
	// A queue below the target does not make a loss congestion: LEDBAT
	// itself keeps up to targetDelay queued.
	for _, q := range []time.Duration{30 * time.Millisecond, 80 * time.Millisecond} {
		feed(l, &now, q, currentFilter)
		l.cwnd = 100 * testMSS
		l.onLoss(false)
		if w := l.window(); w != int(100*testMSS*randomLossFactor) {
			t.Fatalf("window %d after a loss with %v of queue, want the random-loss cut", w, q)
		}
	}
	// A run of losses is congestion, whatever the delay.
	l.cwnd = 100 * testMSS
	if l.onLoss(true) || l.window() != 50*testMSS {
		t.Fatalf("window %d after a run of losses with no queue, want half", l.window())
	}
	l.onTimeout()
	if l.window() != testMSS || !l.slowStart {
		t.Fatalf("window %d slow start %v after a timeout", l.window(), l.slowStart)
	}
}

// TestLEDBATEmptyPathGrowth: with no queue, a window grows by a share of
// itself per round trip, so a long fat path refills after a random loss;
// with a queue near the target it grows by at most maxGainPerRTT.
func TestLEDBATEmptyPathGrowth(t *testing.T) {
	l := newLEDBAT(testMSS, 1<<30)
	now := time.Unix(1000, 0)
	feed(l, &now, 0, 1)
	l.slowStart = false
	l.cwnd = 400 * testMSS
	feed(l, &now, 0, 400) // one window acked
	if w := l.window(); w < 440*testMSS {
		t.Fatalf("window %d after a round trip with no queue, want ≥ %d", w, 440*testMSS)
	}
	l.cwnd = 400 * testMSS
	feed(l, &now, 50*time.Millisecond, 400)
	if w := l.window(); w > 400*testMSS+maxGainPerRTT {
		t.Fatalf("window %d after a round trip with 50 ms of queue, want ≤ %d", w, 400*testMSS+maxGainPerRTT)
	}
}
