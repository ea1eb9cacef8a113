package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// GC tuning for large pointer heaps.
//
// gcPercent keeps a download's heap, mostly pointer-free buffers the
// collector does not scan, close to its live data at little CPU cost. A
// daemon holding thousands of torrents has a different heap: hundreds of
// MiB of small pointer-rich objects (each torrent's state, channels and
// maps) that every cycle scans. With GOGC 10 a cycle comes every tenth of
// the live heap allocated, so each byte allocated costs about ten bytes
// scanned: at 10,000 torrents the collector took more than half of the
// CPU of adding torrents, and each list of them (6 MiB of JSON) ran a cycle
// of its own. After each cycle gcTune therefore sets GOGC so that the next
// one waits for at least a quarter of the scannable heap (gcScanShare)
// to be allocated, never less than gcPercent: at most four bytes scanned
// per byte allocated, for at most a quarter of the scannable heap more
// memory; a heap with little to scan (under gcTuneMin) keeps gcPercent.

// gcScanShare is the share (1/gcScanShare) of the scannable heap that a
// cycle lets be allocated before the next.
const gcScanShare = 4

// gcTuneMin is the scannable heap below which GOGC stays gcPercent: a
// cycle of a smaller one costs little however often it comes.
const gcTuneMin = 64 << 20

// gcPercentCap bounds the tuned GOGC.
const gcPercentCap = 100

// gcPercentFor returns the GOGC for a heap with live bytes live, of which
// scan are scannable.
func gcPercentFor(live, scan uint64) int {
	if live == 0 || scan < gcTuneMin {
		return gcPercent
	}
	p := int(scan * 100 / gcScanShare / live)
	return min(max(p, gcPercent), gcPercentCap)
}

// gcTuner runs gcPercentFor after every GC cycle.
type gcTuner struct {
	samples []metrics.Sample
	percent int
	// tuned counts the tunings, and stopped ends them (tests).
	tuned   atomic.Int64
	stopped atomic.Bool
}

// startGCTuner starts tuning GOGC after each cycle, from gcPercent. It is
// not called when the environment sets GOGC.
func startGCTuner() *gcTuner {
	g := &gcTuner{
		samples: []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/heap:bytes"}},
		percent: gcPercent,
	}
	debug.SetGCPercent(gcPercent)
	g.arm()
	return g
}

// gcSentinel is allocated for each cycle; its cleanup runs once a cycle
// found it unreachable. The pointer keeps it out of the tiny allocator,
// whose blocks are freed together.
type gcSentinel struct {
	_ *int
	_ [16]byte
}

// arm has tune run after the next cycle.
func (g *gcTuner) arm() {
	runtime.AddCleanup(new(gcSentinel), func(g *gcTuner) { g.tune() }, g)
}

// tune sets GOGC for the heap the last cycle found, and arms the next.
// Cleanups run one at a time on the runtime's cleanup goroutine.
func (g *gcTuner) tune() {
	if g.stopped.Load() {
		return
	}
	metrics.Read(g.samples)
	var live, scan uint64
	if v := g.samples[0].Value; v.Kind() == metrics.KindUint64 {
		live = v.Uint64()
	}
	if v := g.samples[1].Value; v.Kind() == metrics.KindUint64 {
		scan = v.Uint64()
	}
	if p := gcPercentFor(live, scan); p != g.percent {
		g.percent = p
		debug.SetGCPercent(p)
	}
	g.tuned.Add(1)
	g.arm()
}
