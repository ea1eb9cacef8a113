package ratelimit_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/ratelimit"
)

// PeerLimiter must satisfy the interface peer connections take.
var _ peer.Limiter = (*ratelimit.PeerLimiter)(nil)

const (
	kib = 1 << 10
	mib = 1 << 20
)

// Every test runs in a synctest bubble: the limiter's timers run on fake
// time, which advances only when every goroutine of the test is blocked, so
// a wait takes exactly the time its token bucket says, however busy the
// machine is, and a test of seconds of traffic runs at once.

// timed runs f and returns how long it took (in the bubble's fake time).
func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// expected is how long n bytes take through a fresh limiter of limit B/s:
// the bucket starts full with max(ChunkSize, limit/10) tokens and refills at
// limit per second.
func expected(limit int64, n int) time.Duration {
	burst := max(ratelimit.ChunkSize, limit/10)
	return time.Duration(float64(int64(n)-burst) / float64(limit) * float64(time.Second))
}

// near reports whether got is within 1% (and a millisecond) of want: only
// the token bucket's float arithmetic separates them.
func near(got, want time.Duration) bool {
	diff := got - want
	if diff < 0 {
		diff = -diff
	}
	return diff <= want/100+time.Millisecond
}

func TestUnlimitedNeverBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, l := range []*ratelimit.Limiter{ratelimit.New(0), ratelimit.New(-5), nil} {
			if d := timed(func() { l.Wait(1<<30, nil) }); d != 0 {
				t.Errorf("unlimited Wait(1 GiB) took %v", d)
			}
			if got := l.Limit(); got != 0 {
				t.Errorf("Limit() = %d, want 0", got)
			}
		}
		p := ratelimit.NewPeerLimiter(nil, []*ratelimit.Limiter{nil, ratelimit.New(0)})
		if d := timed(func() { p.WaitRead(1<<30, nil); p.WaitWrite(1<<30, nil) }); d != 0 {
			t.Errorf("unlimited PeerLimiter took %v", d)
		}
	})
}

func TestLimitAndSetLimit(t *testing.T) {
	l := ratelimit.New(1000)
	if got := l.Limit(); got != 1000 {
		t.Fatalf("Limit() = %d, want 1000", got)
	}
	l.SetLimit(5 * mib)
	if got := l.Limit(); got != 5*mib {
		t.Fatalf("Limit() after SetLimit = %d, want %d", got, 5*mib)
	}
	l.SetLimit(-1)
	if got := l.Limit(); got != 0 {
		t.Fatalf("Limit() after SetLimit(-1) = %d, want 0", got)
	}
	var nilL *ratelimit.Limiter
	nilL.SetLimit(10) // must not panic
}

// TestRate checks transfer times against the configured rate: the bucket
// starts full, so n bytes take (n - burst) / rate.
func TestRate(t *testing.T) {
	tests := []struct {
		name      string
		limit     int64
		bytes     int
		chunkSize int // size of each Wait call; 0 means one call
	}{
		{name: "256KiB/s 320KiB one call", limit: 256 * kib, bytes: 320 * kib},
		{name: "512KiB/s 640KiB in 16KiB waits", limit: 512 * kib, bytes: 640 * kib, chunkSize: 16 * kib},
		{name: "1MiB/s 4MiB in 100KiB waits", limit: mib, bytes: 4 * mib, chunkSize: 100 * kib},
		{name: "16KiB/s 1MiB in odd waits", limit: 16 * kib, bytes: mib, chunkSize: 10000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := ratelimit.New(tc.limit)
				d := timed(func() {
					if tc.chunkSize == 0 {
						l.Wait(tc.bytes, nil)
						return
					}
					for left := tc.bytes; left > 0; left -= tc.chunkSize {
						l.Wait(min(left, tc.chunkSize), nil)
					}
				})
				if want := expected(tc.limit, tc.bytes); !near(d, want) {
					t.Errorf("%d bytes at %d B/s took %v, want %v", tc.bytes, tc.limit, d, want)
				}
			})
		})
	}
}

func TestSetLimitRaisesRateMidTransfer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(256 * kib)
		finished := make(chan time.Duration, 1)
		start := time.Now()
		go func() {
			l.Wait(64*mib, nil) // 256 s at the original rate
			finished <- time.Since(start)
		}()
		time.Sleep(300 * time.Millisecond)
		l.SetLimit(0)
		synctest.Wait()
		select {
		case d := <-finished:
			if d != 300*time.Millisecond {
				t.Errorf("transfer finished after %v, want at once when the limit was lifted at 300ms", d)
			}
		default:
			t.Fatal("transfer still blocked after the limit was lifted")
		}
	})
}

func TestSetLimitLowersRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(0)
		l.Wait(10*mib, nil)
		l.SetLimit(128 * kib) // burst 16 KiB
		// 16 KiB pass at once, the remaining 144 KiB take 1.125 s.
		if d := timed(func() { l.Wait(160*kib, nil) }); !near(d, 1125*time.Millisecond) {
			t.Errorf("160 KiB at 128 KiB/s took %v, want 1.125 s", d)
		}
	})
}

func TestDoneUnblocksPendingWait(t *testing.T) {
	tests := []struct {
		name string
		wait func(done <-chan struct{})
	}{
		{"Limiter", func(done <-chan struct{}) { ratelimit.New(kib).Wait(mib, done) }},
		{"PeerLimiter read", func(done <-chan struct{}) {
			ratelimit.NewPeerLimiter([]*ratelimit.Limiter{ratelimit.New(0), ratelimit.New(kib)}, nil).WaitRead(mib, done)
		}},
		{"PeerLimiter write", func(done <-chan struct{}) {
			ratelimit.NewPeerLimiter(nil, []*ratelimit.Limiter{ratelimit.New(kib), ratelimit.New(kib)}).WaitWrite(mib, done)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				done := make(chan struct{})
				returned := make(chan struct{})
				go func() {
					tc.wait(done)
					close(returned)
				}()
				time.Sleep(100 * time.Millisecond)
				synctest.Wait()
				select {
				case <-returned:
					t.Fatal("Wait for 1 MiB at 1 KiB/s returned within 100 ms")
				default:
				}
				close(done)
				synctest.Wait()
				select {
				case <-returned:
				default:
					t.Fatal("Wait did not return after done was closed")
				}
			})
		})
	}
}

func TestClosedDoneReturnsPromptly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := make(chan struct{})
		close(done)
		l := ratelimit.New(kib)
		if d := timed(func() { l.Wait(10*mib, done) }); d != 0 {
			t.Errorf("Wait with closed done took %v", d)
		}
	})
}

// TestFairShare runs four goroutines against one limiter for 2 s; each must
// get within 50% of the mean number of bytes, and together they must get
// what the limit allows.
func TestFairShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			workers = 4
			limit   = 2 * mib
			call    = 256 * kib
			period  = 2 * time.Second
		)
		l := ratelimit.New(limit)
		stop := make(chan struct{})
		var counts [workers]atomic.Int64
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					// Large requests: chunking must still interleave them.
					l.Wait(call, stop)
					select {
					case <-stop:
						return // Wait gave up: the call did not complete
					default:
						counts[i].Add(call)
					}
				}
			})
		}
		time.Sleep(period)
		close(stop)
		wg.Wait()
		var total int64
		for i := range counts {
			total += counts[i].Load()
		}
		mean := float64(total) / workers
		for i := range counts {
			got := float64(counts[i].Load())
			if got < 0.5*mean || got > 1.5*mean {
				t.Errorf("worker %d got %.0f bytes, mean %.0f: not within 50%%", i, got, mean)
			}
		}
		// The bucket's burst plus 2 s at the limit; only completed calls
		// count, so each worker may be short of one call.
		most := int64(limit/10 + 2*limit)
		if total > most || total < most-workers*call-limit/10 {
			t.Errorf("total %d bytes in %v at %d B/s, want between %d and %d", total, period, limit, most-workers*call-limit/10, most)
		}
	})
}

// TestPeerLimiterChain checks that a connection waits on every limiter in its
// chain, so the slowest governs, and that a shared (session) limiter is split
// between connections.
func TestPeerLimiterChain(t *testing.T) {
	t.Run("slowest governs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			torrent := ratelimit.New(0)
			session := ratelimit.New(256 * kib) // burst 25.6 KiB
			p := ratelimit.NewPeerLimiter(nil, []*ratelimit.Limiter{torrent, session})
			if d, want := timed(func() { p.WaitWrite(256*kib, nil) }), expected(256*kib, 256*kib); !near(d, want) {
				t.Errorf("256 KiB through a 256 KiB/s chain took %v, want %v", d, want)
			}
			// Reads are not charged to upload limiters.
			if d := timed(func() { p.WaitRead(10*mib, nil) }); d != 0 {
				t.Errorf("read through an unlimited chain took %v", d)
			}
		})
	})
	t.Run("shared global", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			global := ratelimit.New(256 * kib)
			a := ratelimit.NewPeerLimiter([]*ratelimit.Limiter{ratelimit.New(0), global}, nil)
			b := ratelimit.NewPeerLimiter([]*ratelimit.Limiter{ratelimit.New(0), global}, nil)
			var wg sync.WaitGroup
			d := timed(func() {
				for _, p := range []*ratelimit.PeerLimiter{a, b} {
					wg.Go(func() { p.WaitRead(160*kib, nil) })
				}
				wg.Wait()
			})
			// 320 KiB in total at 256 KiB/s after a 25.6 KiB burst.
			if want := expected(256*kib, 320*kib); !near(d, want) {
				t.Errorf("two connections sharing 256 KiB/s took %v for 320 KiB, want %v", d, want)
			}
		})
	})
}
