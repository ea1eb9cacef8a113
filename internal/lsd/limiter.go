package lsd

import (
	"net/netip"
	"time"
)

// Receive rate limits.
const (
	// perIPRate is how many announces per second one source IP may send
	// before further ones are dropped; perIPBurst is its bucket size.
	perIPRate  = 10
	perIPBurst = 10
	// globalRate and globalBurst bound all announces handled, whatever
	// their source, so a flood from spoofed addresses cannot burn CPU.
	globalRate  = 200
	globalBurst = 200
	// maxTrackedIPs bounds the per-IP table; when it is full, idle entries
	// are dropped, and if none is idle the packet from a new IP is dropped.
	maxTrackedIPs = 1024
)

// bucket is a token bucket: tokens refill at rate per second up to burst.
type bucket struct {
	tokens float64
	last   time.Time
}

// take refills b up to now and takes one token if there is one.
func (b *bucket) take(now time.Time, rate, burst float64) bool {
	b.refill(now, rate, burst)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// refill adds the tokens earned since b.last.
func (b *bucket) refill(now time.Time, rate, burst float64) {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(burst, b.tokens+dt*rate)
	}
	b.last = now
}

// limiter decides which received packets are handled. It is owned by the
// read goroutine and is not safe for concurrent use.
type limiter struct {
	global    bucket
	perIP     map[netip.Addr]*bucket
	lastEvict time.Time // when evictIdle last scanned the table
}

// newLimiter returns a limiter with full buckets as of now.
func newLimiter(now time.Time) *limiter {
	return &limiter{
		global: bucket{tokens: globalBurst, last: now},
		perIP:  make(map[netip.Addr]*bucket),
	}
}

// allow reports whether a packet from ip, arriving at now, may be handled.
func (l *limiter) allow(ip netip.Addr, now time.Time) bool {
	b, ok := l.perIP[ip]
	if !ok {
		if len(l.perIP) >= maxTrackedIPs && !l.evictIdle(now) {
			return false
		}
		b = &bucket{tokens: perIPBurst, last: now}
		l.perIP[ip] = b
	}
	if !b.take(now, perIPRate, perIPBurst) {
		return false
	}
	return l.global.take(now, globalRate, globalBurst)
}

// evictIdle removes every entry whose bucket has refilled completely (it
// would behave exactly like a new entry) and reports whether any was removed.
// It scans at most once per second so a flood from many addresses costs
// O(1) per packet.
func (l *limiter) evictIdle(now time.Time) bool {
	if now.Sub(l.lastEvict) < time.Second {
		return false
	}
	l.lastEvict = now
	removed := false
	for ip, b := range l.perIP {
		b.refill(now, perIPRate, perIPBurst)
		if b.tokens >= perIPBurst {
			delete(l.perIP, ip)
			removed = true
		}
	}
	return removed
}
