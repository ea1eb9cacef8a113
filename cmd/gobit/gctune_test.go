package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		live, scan uint64
		want       int
	}{
		{0, 0, gcPercent},
		{24 * mib, 2 * mib, gcPercent},        // a download: buffers, little to scan
		{300 * mib, 280 * mib, 23},            // thousands of torrents: a quarter of the scan heap
		{300 * mib, 300 * mib, 25},            // all of it scannable
		{100 * mib, 2000 * mib, gcPercentCap}, // bounded
	}
	for _, tt := range tests {
		if got := gcPercentFor(tt.live, tt.scan); got != tt.want {
			t.Errorf("gcPercentFor(%d MiB, %d MiB) = %d, want %d", tt.live/mib, tt.scan/mib, got, tt.want)
		}
	}
}

// TestGCTunerFollowsTheHeap: with a large heap of pointers live, the tuner
// raises GOGC after a cycle, and lowers it back once that heap is gone.
func TestGCTunerFollowsTheHeap(t *testing.T) {
	old := debug.SetGCPercent(gcPercent)
	defer debug.SetGCPercent(old)
	g := startGCTuner()
	defer g.stopped.Store(true)
	cycle := func() int {
		n := g.tuned.Load()
		runtime.GC()
		deadline := time.Now().Add(10 * time.Second)
		for g.tuned.Load() == n && time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
		if g.tuned.Load() == n {
			t.Fatal("no tuning after a GC cycle")
		}
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		return int(s[0].Value.Uint64())
	}
	// 128 MiB of pointers.
	heap := make([]*[8]*int, 2<<20)
	for i := range heap {
		heap[i] = new([8]*int)
	}
	if p := cycle(); p <= gcPercent {
		t.Errorf("GOGC %d with a heap of pointers, want more than %d", p, gcPercent)
	}
	runtime.KeepAlive(heap)
	heap = nil
	cycle()
	if p := cycle(); p != gcPercent {
		t.Errorf("GOGC %d once the heap of pointers is gone, want %d", p, gcPercent)
	}
}
