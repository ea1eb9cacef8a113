package storage

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheckResume(t *testing.T) {
	tl := testLayouts[3] // multi
	tt := makeTorrent(t, tl.pieceLen, tl.files, 7)
	n := tt.layout.NumPieces()
	dir := t.TempDir()
	s := tt.open(t, dir, Options{})
	tt.writeAll(t, s)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	stamps, err := s.Stamps()
	if err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int64
	s.onRead = func(int) { reads.Add(1) }
	full := newBits(n)
	full.SetAll()

	// Everything matches: nothing is read, everything is present.
	have, err := s.CheckResume(context.Background(), 2, full, stamps, nil)
	if err != nil || !have.Full() || reads.Load() != 0 {
		t.Fatalf("matching stamps: have %d/%d, %d reads, err %v", have.Count(), n, reads.Load(), err)
	}

	// Resume data only claims piece 0: the rest is hashed (and found good).
	have, err = s.CheckResume(context.Background(), 2, newBits(n, 0), stamps, nil)
	if err != nil || !have.Full() || reads.Load() == 0 {
		t.Fatalf("partial resume: have %d/%d, %d reads, err %v", have.Count(), n, reads.Load(), err)
	}

	// Corrupt the big file and change its mtime: the pieces it spans are
	// re-hashed and the damaged one is found; pieces of untouched files are
	// still trusted.
	big := filepath.Join(dir, "t/d/e/f.bin")
	data, _ := os.ReadFile(big)
	data[1200] ^= 0xff
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(big, later, later)
	reads.Store(0)
	have, err = s.CheckResume(context.Background(), 2, full, stamps, nil)
	if err != nil {
		t.Fatal(err)
	}
	if have.Full() || have.Count() != n-1 {
		t.Fatalf("changed file: have %d/%d, want exactly one piece missing", have.Count(), n)
	}
	if reads.Load() == 0 {
		t.Fatal("changed file was not re-read")
	}

	// A deleted file: its pieces are absent even though resume says have.
	os.Remove(filepath.Join(dir, "t/a.bin"))
	have, err = s.CheckResume(context.Background(), 2, full, stamps, nil)
	if err != nil || have.Has(0) {
		t.Fatalf("deleted file: piece 0 present=%v err %v", have.Has(0), err)
	}

	// Wrong-length stamps fall back to a full check.
	have, err = s.CheckResume(context.Background(), 2, full, stamps[:1], nil)
	if err != nil || have.Has(0) || have.Count() != n-2 {
		t.Fatalf("fallback: have %d err %v", have.Count(), err)
	}
}
