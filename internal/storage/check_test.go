package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/gobit/gobit/internal/bitfield"
)

func newBits(n int, set ...int) *bitfield.Bitfield {
	bf := bitfield.New(n)
	for _, i := range set {
		bf.Set(i)
	}
	return bf
}

func TestCheck(t *testing.T) {
	for i, tl := range testLayouts {
		t.Run(tl.name, func(t *testing.T) {
			tt := makeTorrent(t, tl.pieceLen, tl.files, uint64(100+i))
			n := tt.layout.NumPieces()
			dir := t.TempDir()
			s := tt.open(t, dir, Options{})
			var reads atomic.Int64
			s.onRead = func(int) { reads.Add(1) }

			// Empty directory: nothing present, nothing read.
			var last int
			have, err := s.Check(context.Background(), 2, func(c int) { last = c })
			if err != nil {
				t.Fatalf("Check empty: %v", err)
			}
			if have.Count() != 0 {
				t.Fatalf("Check empty: %d pieces", have.Count())
			}
			if reads.Load() != 0 {
				t.Fatalf("Check empty read %d times", reads.Load())
			}
			if last != n {
				t.Fatalf("progress ended at %d, want %d", last, n)
			}

			// Complete data.
			tt.writeAll(t, s)
			have, err = s.Check(context.Background(), 3, nil)
			if err != nil {
				t.Fatalf("Check complete: %v", err)
			}
			if !have.Full() {
				t.Fatalf("Check complete: %d of %d pieces", have.Count(), n)
			}

			// One corrupted byte in the middle of the last real file.
			var f File
			for _, x := range tt.layout.Files {
				if !x.Pad && x.Length > 0 {
					f = x
				}
			}
			bad := f.Offset + f.Length/2
			corruptByte(t, filepath.Join(dir, f.Path), f.Length/2)
			have, err = s.Check(context.Background(), 2, nil)
			if err != nil {
				t.Fatalf("Check corrupted: %v", err)
			}
			badPiece := int(bad / tt.layout.PieceLength)
			for p := 0; p < n; p++ {
				if have.Has(p) == (p == badPiece) {
					t.Errorf("piece %d: have=%v, corrupted piece is %d", p, have.Has(p), badPiece)
				}
			}
		})
	}
}

func corruptByte(t *testing.T, path string, off int64) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	b := make([]byte, 1)
	if _, err := fh.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x01
	if _, err := fh.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestCheckPartialSkipsMissingFiles(t *testing.T) {
	tl := testLayouts[3] // multi; pieces 0 (a,b,c), 1-2 (f), 3 (f,g,h), 4-5 (h)
	tt := makeTorrent(t, tl.pieceLen, tl.files, 77)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{})
	for _, p := range []int{0, 1, 5} {
		if err := s.WritePiece(p, tt.piece(p)); err != nil {
			t.Fatal(err)
		}
	}
	var readFiles [16]atomic.Int64
	s.onRead = func(i int) { readFiles[i].Add(1) }
	have, err := s.Check(context.Background(), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < tt.layout.NumPieces(); p++ {
		want := p == 0 || p == 1 || p == 5
		if have.Has(p) != want {
			t.Errorf("piece %d: have=%v want %v", p, have.Has(p), want)
		}
	}
	// f.bin is 1000 bytes long: piece 2 and 3 must be skipped without
	// reading it, so f.bin is read only for piece 1. g.bin does not exist.
	if got := readFiles[5].Load(); got != 1 {
		t.Errorf("f.bin read %d times, want 1", got)
	}
	if got := readFiles[6].Load(); got != 0 {
		t.Errorf("missing g.bin read %d times", got)
	}
}

func TestCheckCancel(t *testing.T) {
	tl := testLayouts[0]
	tt := makeTorrent(t, tl.pieceLen, tl.files, 8)
	s := tt.open(t, t.TempDir(), Options{})
	tt.writeAll(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	s.onRead = func(int) { cancel() }
	_, err := s.Check(ctx, 2, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Check after cancel: %v, want context.Canceled", err)
	}
}

func TestCheckNoHashes(t *testing.T) {
	l := Layout{PieceLength: 4, TotalLength: 8, Files: []File{{Path: "x", Length: 8}}}
	s, err := Open(t.TempDir(), l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Check(context.Background(), 1, nil); !errors.Is(err, ErrNoHashes) {
		t.Fatalf("Check without hashes: %v", err)
	}
}

func TestVerifyData(t *testing.T) {
	tt := makeTorrent(t, 64, []fileSpec{{path: "x", length: 100}}, 1)
	if !VerifyData(tt.piece(0), tt.layout.Hashes[0]) {
		t.Fatal("VerifyData rejected correct data")
	}
	if VerifyData(tt.piece(1), tt.layout.Hashes[0]) {
		t.Fatal("VerifyData accepted wrong data")
	}
}
