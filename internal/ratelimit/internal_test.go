package ratelimit

import "testing"

func TestBurstFor(t *testing.T) {
	tests := []struct {
		limit int64
		want  int
	}{
		{1, ChunkSize},
		{100 << 10, ChunkSize},
		{160 << 10, ChunkSize},
		{1 << 20, (1 << 20) / 10},
		{100 << 20, (100 << 20) / 10},
		{1 << 62, 1 << 30},
	}
	for _, tc := range tests {
		if got := burstFor(tc.limit); got != tc.want {
			t.Errorf("burstFor(%d) = %d, want %d", tc.limit, got, tc.want)
		}
	}
}

// BenchmarkWaitUnlimited measures the cost of a block-sized wait on an
// unlimited chain (torrent plus session), the common case.
func BenchmarkWaitUnlimited(b *testing.B) {
	p := NewPeerLimiter([]*Limiter{New(0), New(0)}, nil)
	for b.Loop() {
		p.WaitRead(ChunkSize, nil)
	}
}

// BenchmarkWaitHighLimit measures a block-sized wait on a chain whose limit
// is far above the benchmark's throughput, so it never sleeps.
func BenchmarkWaitHighLimit(b *testing.B) {
	p := NewPeerLimiter(nil, []*Limiter{New(1 << 50), New(1 << 50)})
	for b.Loop() {
		p.WaitWrite(ChunkSize, nil)
	}
}
