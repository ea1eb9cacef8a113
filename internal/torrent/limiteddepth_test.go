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
