package torrent

import "testing"

func TestBufferPoolReusesAndBounds(t *testing.T) {
	p := newBufferPool(1024, 2)
	a := p.get(1024)
	b := p.get(100)
	c := p.get(1024)
	if len(b) != 100 || cap(b) != 1024 {
		t.Fatalf("short buffer: len %d cap %d, want 100 and 1024", len(b), cap(b))
	}
	a[0] = 42
	p.put(a)
	p.put(b)
	p.put(c) // above the idle limit: dropped
	if n := p.idle(); n != 2 {
		t.Fatalf("idle = %d, want 2", n)
	}
	p.put(make([]byte, 10)) // wrong size: dropped
	if n := p.idle(); n != 2 {
		t.Fatalf("idle after a foreign buffer = %d, want 2", n)
	}
	got := map[*byte]bool{&p.get(1)[0]: true, &p.get(1)[0]: true}
	if !got[&b[0]] || !got[&a[0]] {
		t.Fatal("get did not hand back the idle buffers")
	}
	if n := p.idle(); n != 0 {
		t.Fatalf("idle after two gets = %d, want 0", n)
	}
	if p.made != 3 {
		t.Fatalf("made = %d, want 3 (reused buffers are not new)", p.made)
	}
	if d := p.get(1024); &d[0] == &a[0] || &d[0] == &b[0] {
		t.Fatal("an empty pool handed out a buffer still in use")
	}
}

func BenchmarkBufferPool(b *testing.B) {
	p := newBufferPool(1<<20, 4)
	b.ReportAllocs()
	for b.Loop() {
		p.put(p.get(1 << 20))
	}
}

func TestRequestRoom(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name              string
		pieceLen          int64
		buffers, requests int
		want              int
	}{
		{"idle, 1 MiB pieces", mib, 0, 0, 512},
		{"requests use room", mib, 0, 100, 412},
		{"buffers use room", mib, 3, 0, 512 - 3*64},
		{"both", mib, 4, 200, 512 - 4*64 - 200},
		{"full", mib, 8, 0, 0},
		{"over budget", mib, 6, 300, 512 - 6*64 - 300},
		{"16 KiB pieces", 16 << 10, 10, 10, 512 - 20},
		// Huge pieces: room for three at once, so a download can progress.
		{"16 MiB pieces, idle", 16 * mib, 0, 0, 3 * 1024},
		{"16 MiB pieces, two held", 16 * mib, 2, 0, 1024},
	}
	for _, tt := range tests {
		if got := requestRoom(tt.pieceLen, tt.buffers, tt.requests); got != tt.want {
			t.Errorf("%s: requestRoom = %d, want %d", tt.name, got, tt.want)
		}
	}
	if n := maxPieceBuffers(mib); n != 8 {
		t.Errorf("maxPieceBuffers(1 MiB) = %d, want 8", n)
	}
	if n := maxPieceBuffers(16 * mib); n != 3 {
		t.Errorf("maxPieceBuffers(16 MiB) = %d, want 3", n)
	}
}
