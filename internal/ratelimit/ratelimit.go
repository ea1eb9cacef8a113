// Package ratelimit throttles payload bytes with token buckets.
//
// A Limiter governs one direction of traffic (upload or download) for one
// scope (a torrent or the whole session). It is safe for concurrent use by
// any number of goroutines: its mutable state is an immutable snapshot
// (rate, token bucket, change signal) swapped atomically by SetLimit, and the
// token bucket itself (golang.org/x/time/rate) has its own lock. No lock is
// held while a caller waits.
//
// Invariants:
//   - A limit of 0 (or less) means unlimited; Wait then never blocks.
//   - The bucket's burst is max(ChunkSize, limit/10), so a full bucket never
//     holds more than about a tenth of a second of traffic (or one chunk).
//   - Wait takes tokens in chunks of at most ChunkSize bytes, so that many
//     goroutines sharing a Limiter are served in turn instead of one large
//     transfer starving the others.
//   - SetLimit applies to waits already in progress: they are woken, and the
//     remainder of their transfer is charged at the new rate.
//
// PeerLimiter chains several Limiters (for example the torrent's and the
// session's) and implements the peer.Limiter interface used by peer
// connections.
package ratelimit

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// ChunkSize is the largest number of bytes a single token reservation covers.
// It equals the BitTorrent block size, so one block costs one reservation.
const ChunkSize = 16 << 10

// Limiter is a token bucket for one direction of traffic. The zero value is
// not usable; create one with New. A nil *Limiter is treated as unlimited by
// every method, so callers may leave optional limiters unset.
type Limiter struct {
	mu    sync.Mutex // serializes SetLimit
	state atomic.Pointer[limiterState]
}

// limiterState is one immutable configuration of a Limiter. SetLimit replaces
// it wholesale and closes changed so that pending waits re-read it.
type limiterState struct {
	bytesPerSec int64
	bucket      *rate.Limiter // nil when unlimited
	changed     chan struct{} // closed when this state is replaced
}

// New returns a Limiter that lets bytesPerSec bytes pass per second.
// A bytesPerSec of 0 or less means unlimited.
func New(bytesPerSec int64) *Limiter {
	l := &Limiter{}
	l.state.Store(newState(bytesPerSec))
	return l
}

// newState builds the snapshot for a limit, starting with a full bucket.
func newState(bytesPerSec int64) *limiterState {
	s := &limiterState{changed: make(chan struct{})}
	if bytesPerSec <= 0 {
		return s
	}
	s.bytesPerSec = bytesPerSec
	s.bucket = rate.NewLimiter(rate.Limit(bytesPerSec), burstFor(bytesPerSec))
	return s
}

// burstFor returns the bucket size for a limit: max(ChunkSize, limit/10),
// capped so it fits in an int on every platform.
func burstFor(bytesPerSec int64) int {
	b := bytesPerSec / 10
	if b < ChunkSize {
		b = ChunkSize
	}
	const maxBurst = 1 << 30
	if b > maxBurst {
		b = maxBurst
	}
	return int(b)
}

// SetLimit changes the rate at run time. A bytesPerSec of 0 or less means
// unlimited. Waits in progress are woken and continue at the new rate; the
// new bucket starts full, so a change may let up to one burst pass at once.
func (l *Limiter) SetLimit(bytesPerSec int64) {
	if l == nil {
		return
	}
	if bytesPerSec < 0 {
		bytesPerSec = 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.state.Load()
	if old.bytesPerSec == bytesPerSec {
		return
	}
	l.state.Store(newState(bytesPerSec))
	close(old.changed)
}

// Limit returns the current rate in bytes per second, 0 meaning unlimited.
func (l *Limiter) Limit() int64 {
	if l == nil {
		return 0
	}
	return l.state.Load().bytesPerSec
}

// Wait blocks until n bytes may pass, or until done is closed, whichever
// comes first. n may exceed the bucket size: the bytes are taken in chunks of
// at most ChunkSize. A nil done never fires. Wait returns immediately when
// the limit is unlimited or n <= 0.
func (l *Limiter) Wait(n int, done <-chan struct{}) {
	if l == nil {
		return
	}
	var t timer
	defer t.stop()
	for n > 0 {
		c := min(n, ChunkSize)
		if !l.waitChunk(c, done, &t) {
			return
		}
		n -= c
	}
}

// waitChunk takes c <= ChunkSize tokens, waiting as needed. It reports false
// if done was closed first.
func (l *Limiter) waitChunk(c int, done <-chan struct{}, t *timer) bool {
	for {
		s := l.state.Load()
		if s.bucket == nil {
			return true
		}
		now := time.Now()
		r := s.bucket.ReserveN(now, c) // always ok: c <= ChunkSize <= burst
		if !r.OK() {
			return true // cannot happen; never block forever on a bug
		}
		d := r.DelayFrom(now)
		if d <= 0 {
			return true
		}
		select {
		case <-t.after(d):
			return true
		case <-s.changed:
			// The limit changed: give the tokens back and retry under the
			// new state. (The old bucket is discarded anyway.)
			r.CancelAt(time.Now())
		case <-done:
			r.CancelAt(time.Now())
			return false
		}
	}
}

// timer is a lazily created, reusable timer for one Wait call.
type timer struct{ t *time.Timer }

// after returns a channel that fires after d.
func (t *timer) after(d time.Duration) <-chan time.Time {
	if t.t == nil {
		t.t = time.NewTimer(d)
	} else {
		t.t.Reset(d) // since Go 1.23, Reset discards any stale value
	}
	return t.t.C
}

// stop releases the timer, if any.
func (t *timer) stop() {
	if t.t != nil {
		t.t.Stop()
	}
}
