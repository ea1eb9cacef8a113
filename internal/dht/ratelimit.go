package dht

import (
	"net/netip"
	"sync"
	"time"
)

// maxLimiterSources bounds the per-source buckets of the rate limiter;
// sources beyond it share one overflow bucket.
const maxLimiterSources = 8192

// rateLimiter is a token bucket per source: per IP, or per IP and port for
// loopback sources (on loopback every test node shares one IP). It is safe
// for concurrent use.
type rateLimiter struct {
	mu       sync.Mutex
	rate     float64 // tokens per second; <= 0 means unlimited
	burst    float64
	sources  map[netip.AddrPort]*tokenBucket
	overflow tokenBucket
}

// tokenBucket is one source's bucket.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

// newRateLimiter returns a limiter allowing rate queries per second per
// source with a burst of twice that (at least 1).
func newRateLimiter(rate float64) *rateLimiter {
	return &rateLimiter{rate: rate, burst: max(2*rate, 1), sources: make(map[netip.AddrPort]*tokenBucket)}
}

// sourceKey returns the key a source is limited under.
func sourceKey(from netip.AddrPort) netip.AddrPort {
	ip := from.Addr().Unmap()
	if ip.IsLoopback() {
		return netip.AddrPortFrom(ip, from.Port())
	}
	return netip.AddrPortFrom(ip, 0)
}

// allow takes one token from the source's bucket and reports whether there
// was one.
func (r *rateLimiter) allow(from netip.AddrPort, now time.Time) bool {
	if r.rate <= 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	key := sourceKey(from)
	b := r.sources[key]
	if b == nil {
		if len(r.sources) >= maxLimiterSources {
			r.sweepLocked(now)
		}
		if len(r.sources) >= maxLimiterSources {
			b = &r.overflow
		} else {
			b = &tokenBucket{tokens: r.burst, last: now}
			r.sources[key] = b
		}
	}
	b.tokens = min(r.burst, b.tokens+now.Sub(b.last).Seconds()*r.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets sources whose bucket has refilled completely.
func (r *rateLimiter) sweep(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(now)
}

func (r *rateLimiter) sweepLocked(now time.Time) {
	for k, b := range r.sources {
		if b.tokens+now.Sub(b.last).Seconds()*r.rate >= r.burst {
			delete(r.sources, k)
		}
	}
}
