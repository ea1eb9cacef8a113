package torrent

import (
	"testing"
	"time"
)

// TestLimitedDepth: under a download limit a peer's depth covers what the
// limit lets in within its latency and the margin, never more than its
// depth without the limit, and never less than minLimitedQueue.
func TestLimitedDepth(t *testing.T) {
	tests := []struct {
		name    string
		depth   int
		limit   int64
		latency time.Duration
		want    int
	}{
		{"no limit", 300, 0, 50 * time.Millisecond, 300},
		{"128 KiB/s, 0.5 s margin: 4 blocks", 32, 128 << 10, 0, 4},
		{"latency adds", 32, 128 << 10, 500 * time.Millisecond, 8},
		{"the peer's own depth is lower", 3, 128 << 10, 500 * time.Millisecond, 3},
		{"tiny limit keeps two blocks", 32, 1 << 10, 0, minLimitedQueue},
		{"high limit leaves the depth", 100, 100 << 20, 100 * time.Millisecond, 100},
	}
	for _, tc := range tests {
		if got := limitedDepth(tc.depth, tc.limit, tc.latency); got != tc.want {
			t.Errorf("%s: limitedDepth(%d, %d, %v) = %d, want %d", tc.name, tc.depth, tc.limit, tc.latency, got, tc.want)
		}
	}
}

// TestStreamDeadlines: a window's pieces are due one step apart from the
// time it was set, the first at once; a piece in two readers' windows takes
// the earlier deadline; pieces outside every window have none.
func TestStreamDeadlines(t *testing.T) {
	s := streams{win: map[int]streamWindow{
		1: {first: 10, n: 4, at: 1000, step: 100},
		2: {first: 12, n: 4, at: 1050, step: 10},
	}}
	tests := []struct {
		piece int
		want  int64
		ok    bool
	}{
		{9, 0, false},
		{10, 1000, true},
		{11, 1100, true},
		{12, 1050, true}, // reader 2's first piece: 1050 < 1200
		{13, 1060, true},
		{15, 1080, true},
		{16, 0, false},
	}
	for _, tc := range tests {
		if got, ok := s.deadline(tc.piece); got != tc.want || ok != tc.ok {
			t.Errorf("deadline(%d) = %d, %v; want %d, %v", tc.piece, got, ok, tc.want, tc.ok)
		}
	}
	// The clock starts at the first call.
	var c streams
	t0 := time.Unix(100, 0)
	if got := c.clock(t0); got != 0 {
		t.Fatalf("first clock reading %d, want 0", got)
	}
	if got := c.clock(t0.Add(time.Second)); got != int64(time.Second) {
		t.Fatalf("clock a second later %d", got)
	}
}
