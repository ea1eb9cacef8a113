package torrent

import (
	"testing"
	"time"

	"github.com/gobit/gobit/internal/picker"
)

func TestRequestRoom(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name     string
		budget   int64
		held     int64
		requests int
		want     int
	}{
		{"idle", 12 * mib, 0, 0, 768},
		{"requests use room", 12 * mib, 0, 100, 668},
		{"held blocks use room", 12 * mib, 3 * mib, 0, 768 - 3*64},
		{"a partial block counts whole bytes", 12 * mib, 16<<10 + 1, 0, 766},
		{"both", 12 * mib, 4 * mib, 200, 768 - 4*64 - 200},
		{"full", 12 * mib, 12 * mib, 0, 0},
		{"over budget", 12 * mib, 10 * mib, 300, 768 - 10*64 - 300},
		{"bigger budget", 40 * mib, 10 * mib, 300, 40*64 - 10*64 - 300},
	}
	for _, tt := range tests {
		if got := requestRoom(tt.budget, tt.held, tt.requests); got != tt.want {
			t.Errorf("%s: requestRoom = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestBufferLimit(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name          string
		pieceLen, bdp int64
		want          int64
	}{
		{"loopback: no delay", mib, 0, bufferBudget},
		{"negative bdp ignored", mib, -5 * mib, bufferBudget},
		{"distant fast peers", mib, 2 * mib, bufferBudget + bdpFactor*2*mib},
		{"capped", mib, 100 * mib, maxBufferBudget},
		// Huge pieces: room for three at once, so a download can progress.
		{"16 MiB pieces", 16 * mib, 0, 48 * mib},
		{"32 MiB pieces above the cap", 32 * mib, 100 * mib, 96 * mib},
	}
	for _, tt := range tests {
		if got := bufferLimit(tt.pieceLen, tt.bdp); got != tt.want {
			t.Errorf("%s: bufferLimit(%d, %d) = %d, want %d", tt.name, tt.pieceLen, tt.bdp, got, tt.want)
		}
	}
}

func TestRequestDepth(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name    string
		rate    int64
		latency time.Duration
		limit   int
		want    int
	}{
		{"unknown rate", 0, 0, 0, initialQueue},
		{"unknown rate, small reqq", 0, 0, 10, 10},
		// 5 MB/s × (140 ms + 500 ms) = 3.2 MB = 196 blocks (rounded up).
		{"fast distant peer", 5e6, 140 * ms, 0, 196},
		{"fast distant peer, reqq 100", 5e6, 140 * ms, 100, 100},
		{"fast near peer", 5e6, 60 * ms, 0, 171},
		// 250 kB/s × 740 ms = 185 kB = 12 blocks.
		{"slow distant peer", 250e3, 240 * ms, 0, 12},
		{"very slow peer: minimum", 10e3, 240 * ms, 0, minQueue},
		{"minimum within reqq", 10e3, 240 * ms, 2, 2},
		{"latency unknown: margin only", 1e6, 0, 0, 31},
		{"loopback speed: capped", 1e9, 1 * ms, 0, defaultPeerReqq},
		{"loopback speed, big reqq: maxQueue", 1e9, 1 * ms, 5000, maxQueue},
	}
	for _, tt := range tests {
		if got := requestDepth(tt.rate, tt.latency, tt.limit); got != tt.want {
			t.Errorf("%s: requestDepth(%d, %v, %d) = %d, want %d", tt.name, tt.rate, tt.latency, tt.limit, got, tt.want)
		}
	}
}

func TestLatencyTracker(t *testing.T) {
	t0 := time.Unix(1000, 0)
	blk := func(piece, k int) picker.Block {
		return picker.Block{Piece: piece, Begin: k * 16384, Length: 16384}
	}
	var l latencyTracker
	for k := range 4 {
		l.requested(blk(1, k), t0)
	}
	l.received(blk(1, 0), t0.Add(200*time.Millisecond))
	if l.min != 200*time.Millisecond {
		t.Fatalf("min after first block = %v, want 200ms", l.min)
	}
	// Later blocks waited behind the first: no smaller sample.
	l.received(blk(1, 1), t0.Add(300*time.Millisecond))
	if l.min != 200*time.Millisecond {
		t.Fatalf("min = %v, want 200ms", l.min)
	}
	// Block 2 was rejected: block 3's arrival drops it too.
	l.received(blk(1, 3), t0.Add(400*time.Millisecond))
	if l.pending() != 0 {
		t.Fatalf("%d requests still recorded, want 0", l.pending())
	}
	// A block never requested (or already dropped) is no sample.
	l.received(blk(1, 2), t0.Add(10*time.Millisecond))
	if l.min != 200*time.Millisecond {
		t.Fatalf("min = %v after an unknown block, want 200ms", l.min)
	}
	// A quicker answer lowers the minimum.
	t1 := t0.Add(time.Second)
	l.requested(blk(2, 0), t1)
	l.received(blk(2, 0), t1.Add(80*time.Millisecond))
	if l.min != 80*time.Millisecond {
		t.Fatalf("min = %v, want 80ms", l.min)
	}
	// The record stays bounded when no block arrives.
	for k := range 3 * maxSentTimes {
		l.requested(blk(3, k%64), t1)
	}
	if l.pending() > maxSentTimes || len(l.sent) > 2*maxSentTimes {
		t.Fatalf("%d requests recorded in %d entries, want at most %d", l.pending(), len(l.sent), maxSentTimes)
	}
	l.clear()
	if l.pending() != 0 || l.min != 80*time.Millisecond {
		t.Fatalf("after clear: %d recorded, min %v; want 0 and 80ms", l.pending(), l.min)
	}
	// A steady pipeline: requests and blocks in order, the record stays
	// small and every block is matched.
	t2 := t1.Add(time.Second)
	for k := range 10 * maxSentTimes {
		l.requested(blk(4+k/64, k%64), t2)
		if k >= 100 {
			j := k - 100
			l.received(blk(4+j/64, j%64), t2.Add(50*time.Millisecond))
		}
		if l.pending() > 101 || len(l.sent) > 4*101 {
			t.Fatalf("request %d: %d pending in %d entries, want at most 101 pending", k, l.pending(), len(l.sent))
		}
	}
	if l.min != 50*time.Millisecond {
		t.Fatalf("min = %v after the steady pipeline, want 50ms", l.min)
	}
}
