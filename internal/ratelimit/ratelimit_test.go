package ratelimit_test

import (
	"sync"
	"sync/atomic"
	"testing"
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

// timed runs f and returns how long it took.
func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

func TestUnlimitedNeverBlocks(t *testing.T) {
	for _, l := range []*ratelimit.Limiter{ratelimit.New(0), ratelimit.New(-5), nil} {
		if d := timed(func() { l.Wait(1<<30, nil) }); d > time.Second {
			t.Errorf("unlimited Wait(1 GiB) took %v", d)
		}
		if got := l.Limit(); got != 0 {
			t.Errorf("Limit() = %d, want 0", got)
		}
	}
	p := ratelimit.NewPeerLimiter(nil, []*ratelimit.Limiter{nil, ratelimit.New(0)})
	if d := timed(func() { p.WaitRead(1<<30, nil); p.WaitWrite(1<<30, nil) }); d > time.Second {
		t.Errorf("unlimited PeerLimiter took %v", d)
	}
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

// TestRate checks measured transfer times against the configured rate. The
// bucket starts full (burst = max(16 KiB, limit/10)), so the expected time is
// (bytes - burst) / rate. Margins are wide: the CPU is shared.
func TestRate(t *testing.T) {
	tests := []struct {
		name      string
		limit     int64
		bytes     int
		min, max  time.Duration
		long      bool
		chunkSize int // size of each Wait call; 0 means one call
	}{
		{name: "256KiB/s 320KiB one call", limit: 256 * kib, bytes: 320 * kib, min: 900 * time.Millisecond, max: 2500 * time.Millisecond},
		{name: "512KiB/s 640KiB in 16KiB waits", limit: 512 * kib, bytes: 640 * kib, min: 900 * time.Millisecond, max: 2500 * time.Millisecond, chunkSize: 16 * kib},
		{name: "1MiB/s 4MiB", limit: mib, bytes: 4 * mib, min: 3500 * time.Millisecond, max: 6 * time.Second, long: true, chunkSize: 100 * kib},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.long && testing.Short() {
				t.Skip("long timing test skipped in -short mode")
			}
			t.Parallel()
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
			if d < tc.min || d > tc.max {
				t.Errorf("%d bytes at %d B/s took %v, want between %v and %v", tc.bytes, tc.limit, d, tc.min, tc.max)
			}
		})
	}
}

func TestSetLimitRaisesRateMidTransfer(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(256 * kib)
	finished := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		l.Wait(64*mib, nil) // 256 s at the original rate
		finished <- time.Since(start)
	}()
	time.Sleep(300 * time.Millisecond)
	l.SetLimit(0)
	select {
	case d := <-finished:
		if d > 3*time.Second {
			t.Errorf("transfer finished after %v, want soon after the limit was lifted", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("transfer still blocked 10 s after the limit was lifted")
	}
}

func TestSetLimitLowersRate(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(0)
	l.Wait(10*mib, nil)
	l.SetLimit(128 * kib) // burst 16 KiB
	// 16 KiB pass at once, the remaining 144 KiB take about 1.1 s.
	if d := timed(func() { l.Wait(160*kib, nil) }); d < 800*time.Millisecond || d > 3*time.Second {
		t.Errorf("160 KiB at 128 KiB/s took %v, want about 1.1 s", d)
	}
}

func TestDoneUnblocksPendingWait(t *testing.T) {
	t.Parallel()
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
			done := make(chan struct{})
			returned := make(chan time.Time, 1)
			go func() {
				tc.wait(done)
				returned <- time.Now()
			}()
			time.Sleep(100 * time.Millisecond)
			closed := time.Now()
			close(done)
			select {
			case at := <-returned:
				if d := at.Sub(closed); d > time.Second {
					t.Errorf("Wait returned %v after done was closed", d)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Wait did not return after done was closed")
			}
		})
	}
}

func TestClosedDoneReturnsPromptly(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	close(done)
	l := ratelimit.New(kib)
	if d := timed(func() { l.Wait(10*mib, done) }); d > time.Second {
		t.Errorf("Wait with closed done took %v", d)
	}
}

// TestFairShare runs four goroutines against one limiter; each must get
// within 50% of the mean number of bytes.
func TestFairShare(t *testing.T) {
	t.Parallel()
	const workers = 4
	l := ratelimit.New(2 * mib)
	stop := make(chan struct{})
	var counts [workers]atomic.Int64
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Large requests: chunking must still interleave them.
				l.Wait(256*kib, stop)
				counts[i].Add(256 * kib)
			}
		}()
	}
	time.Sleep(2 * time.Second)
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
	// About 2 s at 2 MiB/s plus the burst; completed calls only, so less.
	if total > 6*mib {
		t.Errorf("total %d bytes in 2 s exceeds the 2 MiB/s limit", total)
	}
}

// TestPeerLimiterChain checks that a connection waits on every limiter in its
// chain, so the slowest governs, and that a shared (session) limiter is split
// between connections.
func TestPeerLimiterChain(t *testing.T) {
	t.Parallel()
	t.Run("slowest governs", func(t *testing.T) {
		t.Parallel()
		torrent := ratelimit.New(0)
		session := ratelimit.New(256 * kib) // burst 25.6 KiB
		p := ratelimit.NewPeerLimiter(nil, []*ratelimit.Limiter{torrent, session})
		if d := timed(func() { p.WaitWrite(256*kib, nil) }); d < 700*time.Millisecond || d > 3*time.Second {
			t.Errorf("256 KiB through a 256 KiB/s chain took %v, want about 0.9 s", d)
		}
		// Reads are not charged to upload limiters.
		if d := timed(func() { p.WaitRead(10*mib, nil) }); d > 500*time.Millisecond {
			t.Errorf("read through an unlimited chain took %v", d)
		}
	})
	t.Run("shared global", func(t *testing.T) {
		t.Parallel()
		global := ratelimit.New(256 * kib)
		a := ratelimit.NewPeerLimiter([]*ratelimit.Limiter{ratelimit.New(0), global}, nil)
		b := ratelimit.NewPeerLimiter([]*ratelimit.Limiter{ratelimit.New(0), global}, nil)
		var wg sync.WaitGroup
		d := timed(func() {
			for _, p := range []*ratelimit.PeerLimiter{a, b} {
				wg.Add(1)
				go func() { defer wg.Done(); p.WaitRead(160*kib, nil) }()
			}
			wg.Wait()
		})
		// 320 KiB in total at 256 KiB/s after a 25.6 KiB burst: about 1.15 s.
		if d < 800*time.Millisecond || d > 3*time.Second {
			t.Errorf("two connections sharing 256 KiB/s took %v for 320 KiB, want about 1.15 s", d)
		}
	})
}
