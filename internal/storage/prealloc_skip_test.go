package storage

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNoPreallocateSkipped: a file marked not to preallocate gets only the
// bytes written to it, while the others are still allocated in full.
func TestNoPreallocateSkipped(t *testing.T) {
	tl := testLayouts[3]
	tt := makeTorrent(t, tl.pieceLen, tl.files, 13)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{Preallocate: true})
	skip := make([]bool, len(tl.files))
	skip[5] = true // t/d/e/f.bin, [1000, 3500)
	s.SetNoPreallocate(skip)
	// Piece 0 touches a.bin, b.bin, c.bin; piece 1 only f.bin's first 1000.
	for _, p := range []int{0, 1} {
		if err := s.WritePiece(p, tt.piece(p)); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "t", "d", "e", "f.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 1000 {
		t.Fatalf("skipped file size %d, want only the 1000 bytes written", fi.Size())
	}
	s.SetNoPreallocate(nil)
	if err := s.WritePiece(3, tt.piece(3)); err != nil {
		t.Fatal(err)
	}
	// Piece 3 touches f.bin (already open) and g.bin and h.bin: h.bin is
	// allocated in full.
	fi, err = os.Stat(filepath.Join(dir, "t", "h.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 1998 {
		t.Fatalf("wanted file size %d, want 1998 preallocated", fi.Size())
	}
}
