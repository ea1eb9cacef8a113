package utp

import "time"

// LEDBAT parameters (RFC 6817, BEP 29).
const (
	// targetDelay is the queuing delay LEDBAT aims at.
	targetDelay = 100 * time.Millisecond
	// maxGainPerRTT is the most the window grows in one round trip when
	// the queuing delay is zero (libutp's MAX_CWND_INCREASE_BYTES_PER_RTT).
	maxGainPerRTT = 3000
	// baseHistory one-minute minima make up the base delay, so a route
	// change is forgotten within baseHistory minutes.
	baseHistory = 10
	// currentFilter is how many recent samples the current delay is the
	// minimum of (it removes the noise of single late packets).
	currentFilter = 4
	// randomLossQueue: a loss seen while the queuing delay is below it is
	// taken for random (not congestion) loss and shrinks the window by
	// randomLossFactor instead of half. LEDBAT holds the queue up to
	// targetDelay, so where the path's buffer is deeper than that, an
	// overflow comes with a queue of targetDelay or more; a buffer
	// shallower than that overflows in runs of losses (burstLoss). With
	// half the target, LEDBAT's own queue (it grows up to the target)
	// made 4 in 10 random losses halve the window on an 8 Mbit/s, 220 ms
	// path, below the path's bandwidth-delay product each time: 87 % of
	// TCP bbr's rate there, 98 % with the whole target.
	randomLossQueue  = targetDelay
	randomLossFactor = 0.85
	// lossQueueFraction: below targetDelay/lossQueueFraction of queue the
	// path counts as empty (emptyPathGrowth).
	lossQueueFraction = 2
	// burstLoss packets lost in one window, and at least one in
	// burstShare of the packets that were in flight, are congestion
	// whatever the delay: a queue too shallow to show a delay (a socket
	// buffer on a LAN or loopback) overflows in runs of lost packets;
	// random loss (0.2 % of the packets, say) loses one now and then.
	burstLoss  = 3
	burstShare = 32
	// emptyPathGrowth: with no queue (below targetDelay/lossQueueFraction)
	// the window grows by 1/emptyPathGrowth of itself per round trip.
	emptyPathGrowth = 8
)

// ledbat is the congestion window of one connection: delay-based growth
// and shrinking around targetDelay, slow start until the first sign of
// congestion, halving on loss and a restart after a timeout. It is pure:
// time and measurements come in as arguments.
type ledbat struct {
	cwnd      float64 // bytes
	ssthresh  float64
	slowStart bool
	mss       int     // packet payload size: the minimum window
	maxCwnd   float64 // upper bound (bytes)

	// base delay: the minimum of baseHistory one-minute minima.
	hist      [baseHistory]uint32
	histN     int // filled slots
	histMin   time.Time
	cur       [currentFilter]uint32
	curN      int
	queuing   time.Duration // the last computed queuing delay
	haveDelay bool
}

func newLEDBAT(mss int, maxCwnd int) *ledbat {
	return &ledbat{cwnd: float64(2 * mss), ssthresh: float64(maxCwnd), slowStart: true, mss: mss, maxCwnd: float64(maxCwnd)}
}

// window returns the congestion window in bytes.
func (l *ledbat) window() int { return int(l.cwnd) }

// setMSS changes the packet size (and so the minimum window).
func (l *ledbat) setMSS(mss int) {
	l.mss = mss
	l.cwnd = max(l.cwnd, float64(mss))
}

// delaySample records a one-way delay measured by the peer
// (timestamp_difference_microseconds), which has an unknown clock offset:
// only its rise over the base delay is meaningful.
func (l *ledbat) delaySample(d uint32, now time.Time) {
	if d == 0 {
		return // the peer has not measured yet
	}
	if l.histN == 0 || now.Sub(l.histMin) >= time.Minute {
		// a new minute: shift the history
		copy(l.hist[1:], l.hist[:baseHistory-1])
		l.hist[0] = d
		l.histN = min(l.histN+1, baseHistory)
		l.histMin = now
	} else if seqLess32(d, l.hist[0]) {
		l.hist[0] = d
	}
	base := l.hist[0]
	for _, h := range l.hist[1:l.histN] {
		if seqLess32(h, base) {
			base = h
		}
	}
	copy(l.cur[1:], l.cur[:currentFilter-1])
	l.cur[0] = d
	l.curN = min(l.curN+1, currentFilter)
	cur := l.cur[0]
	for _, c := range l.cur[1:l.curN] {
		if seqLess32(c, cur) {
			cur = c
		}
	}
	q := cur - base // the clocks' offset cancels out
	if int32(q) < 0 {
		q = 0
	}
	l.queuing = time.Duration(q) * time.Microsecond
	l.haveDelay = true
}

// seqLess32 compares wrapping 32-bit timestamps.
func seqLess32(a, b uint32) bool { return int32(a-b) < 0 }

// onAck grows or shrinks the window for acked bytes; inflight is what was
// in flight before the ack (growth only when the window was used).
func (l *ledbat) onAck(acked int, inflight int) {
	if acked <= 0 {
		return
	}
	limited := float64(inflight+acked) < l.cwnd-float64(2*l.mss)
	if l.slowStart {
		if l.haveDelay && l.queuing > targetDelay/2 {
			l.slowStart = false // a queue is building: LEDBAT from here
		} else {
			if !limited {
				l.cwnd += float64(acked)
			}
			if l.cwnd >= l.ssthresh {
				l.slowStart = false
			}
			l.clamp()
			return
		}
	}
	off := 1.0
	if l.haveDelay {
		off = float64(targetDelay-l.queuing) / float64(targetDelay)
	}
	if off > 0 && limited {
		return // an application-limited window does not grow
	}
	gain := float64(maxGainPerRTT)
	if l.haveDelay && l.queuing < targetDelay/lossQueueFraction {
		// No queue stands on the path: there is room, so grow by a share
		// of the window per round trip (a long fat path refills within a
		// few round trips after a random loss); growth falls back to
		// maxGainPerRTT, scaled down, as soon as a queue forms.
		gain = max(gain, l.cwnd/emptyPathGrowth)
	}
	l.cwnd += gain * off * float64(acked) / max(l.cwnd, float64(acked))
	l.clamp()
}

// onLoss reacts to a lost packet (at most twice per window; the caller
// decides): halve, or shrink a little when no queue stands behind the loss
// and it is not known to be congestion. It reports whether the cut was
// the small one.
func (l *ledbat) onLoss(congestion bool) (random bool) {
	if !congestion && l.haveDelay && l.queuing < randomLossQueue {
		l.cwnd *= randomLossFactor
		random = true
	} else {
		l.cwnd /= 2
	}
	l.ssthresh = l.cwnd
	l.slowStart = false
	l.clamp()
	return random
}

// onTimeout restarts from one packet after a retransmission timeout,
// slow-starting up to half the old window.
func (l *ledbat) onTimeout() {
	l.ssthresh = max(l.cwnd/2, float64(2*l.mss))
	l.cwnd = float64(l.mss)
	l.slowStart = true
}

// ledbatState is what a timeout changes of the window, kept to be put
// back when the timeout turns out spurious.
type ledbatState struct {
	cwnd, ssthresh float64
	slowStart      bool
}

func (l *ledbat) save() ledbatState { return ledbatState{l.cwnd, l.ssthresh, l.slowStart} }

// restore undoes a spurious timeout's restart.
func (l *ledbat) restore(s ledbatState) {
	l.cwnd, l.ssthresh, l.slowStart = s.cwnd, s.ssthresh, s.slowStart
	l.clamp()
}

func (l *ledbat) clamp() {
	l.cwnd = min(max(l.cwnd, float64(l.mss)), l.maxCwnd)
}
