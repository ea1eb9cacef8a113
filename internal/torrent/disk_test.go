package torrent

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// TestDiskPoolBoundsAndRunsAll submits many jobs at once, some blocking:
// Go never blocks, every job runs exactly once, and never more than the
// bound run at a time.
func TestDiskPoolBoundsAndRunsAll(t *testing.T) {
	const bound, jobs = 3, 200
	d := NewDiskPool(bound)
	var running, peak, done atomic.Int64
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(jobs)
	ran := make([]atomic.Int32, jobs)
	submitted := make(chan struct{})
	go func() {
		for i := range jobs {
			d.Go(func() {
				defer wg.Done()
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				if i < bound {
					<-release // the first jobs hold every worker
				}
				ran[i].Add(1)
				running.Add(-1)
				done.Add(1)
			})
		}
		close(submitted)
	}()
	select {
	case <-submitted:
	case <-time.After(20 * time.Second):
		t.Fatal("Go blocked while every worker was busy")
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p > bound {
		t.Errorf("%d jobs ran at once, bound %d", p, bound)
	}
	for i := range ran {
		if n := ran[i].Load(); n != 1 {
			t.Fatalf("job %d ran %d times", i, n)
		}
	}
}

// TestDiskPoolReusesAndRetiresWorkers: jobs submitted one after another run
// on the same worker goroutine, and idle workers exit after the linger.
func TestDiskPoolReusesAndRetiresWorkers(t *testing.T) {
	d := NewDiskPool(4)
	d.linger = 50 * time.Millisecond
	base := runtime.NumGoroutine()
	for range 20 {
		ch := make(chan struct{})
		d.Go(func() { close(ch) })
		<-ch
		// The worker marks itself idle just after the job; wait for it so
		// that the next job is handed to it rather than to a new worker.
		testutil.WaitFor(t, 10*time.Second, "the worker to become idle", func() bool {
			d.mu.Lock()
			defer d.mu.Unlock()
			return len(d.idle) == 1
		})
	}
	d.mu.Lock()
	workers := d.workers
	d.mu.Unlock()
	if workers != 1 {
		t.Errorf("%d workers for 20 jobs run one at a time, want 1", workers)
	}
	if !testutil.Eventually(20*time.Second, func() bool {
		d.mu.Lock()
		workers = d.workers
		d.mu.Unlock()
		return workers == 0 && runtime.NumGoroutine() <= base
	}) {
		t.Fatalf("%d workers still running long after the linger", workers)
	}
	// A retired pool starts workers again.
	ch := make(chan struct{})
	d.Go(func() { close(ch) })
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatal("job after retirement did not run")
	}
}
