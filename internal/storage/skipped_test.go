package storage

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSkippedFiles: with preallocation on, a skipped file gets only the
// bytes written to it while the others are allocated in full, and a
// skipped empty file is not created.
func TestSkippedFiles(t *testing.T) {
	tl := testLayouts[3]
	tt := makeTorrent(t, tl.pieceLen, tl.files, 13)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{Preallocate: true})
	skip := make([]bool, len(tl.files))
	skip[5] = true // t/d/e/f.bin, [1000, 3500)
	s.SetSkipped(skip)
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
	skip[1] = true // t/empty0
	s.SetSkipped(skip)
	if err := s.CreateEmptyFiles(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t", "empty0")); !os.IsNotExist(err) {
		t.Fatalf("skipped empty file: stat err %v, want it not created", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t", "empty1")); err != nil {
		t.Fatalf("wanted empty file not created: %v", err)
	}
	s.SetSkipped(nil)
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
