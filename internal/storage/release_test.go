package storage

import (
	"bytes"
	"os"
	"testing"
)

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

// TestReleaseHandles: after writes and reads, ReleaseHandles closes the
// file handles and the save directory's root; later operations open them
// again, and a handle in use is left open until released.
func TestReleaseHandles(t *testing.T) {
	tt := makeTorrent(t, 16<<10, []fileSpec{{path: "a/one", length: 40 << 10}, {path: "a/two", length: 30 << 10}}, 5)
	dir := t.TempDir()
	before := countFDs(t)
	s := tt.open(t, dir, Options{BufferedWrites: true})
	for p := 0; p < tt.layout.NumPieces(); p++ {
		if err := s.WritePiece(p, tt.piece(p)); err != nil {
			t.Fatal(err)
		}
	}
	if n := countFDs(t); n < before+3 {
		t.Fatalf("%d descriptors after writing two files, %d before: want the files and the root open", n, before)
	}
	if n := s.ReleaseHandles(); n < 3 {
		t.Errorf("ReleaseHandles closed %d descriptors, want the two files and the root", n)
	}
	if n := countFDs(t); n != before {
		t.Errorf("%d descriptors after ReleaseHandles, want %d", n, before)
	}
	// Reads open what they need again.
	buf := make([]byte, 100)
	if err := s.ReadAt(buf, 35<<10); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, tt.data[35<<10:35<<10+100]) {
		t.Error("read after ReleaseHandles returned wrong data")
	}
	// A handle in use survives: it is closed when its user lets go.
	h, err := s.cache.acquire(1, false)
	if err != nil {
		t.Fatal(err)
	}
	s.ReleaseHandles()
	if _, err := h.f.Stat(); err != nil {
		t.Errorf("handle in use was closed: %v", err)
	}
	h.Release()
	if n := countFDs(t); n != before+1 {
		t.Errorf("%d descriptors, want %d (file 1 stays cached after its use)", n, before+1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countFDs(t); n != before {
		t.Errorf("%d descriptors after Close, want %d", n, before)
	}
}
