package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobit/gobit/internal/metainfo"
)

// TestLayoutFromInfoCheck creates a torrent of a real directory with
// metainfo.Create and checks that Storage finds every piece, then that a
// fresh download into another directory reproduces the files.
func TestLayoutFromInfoCheck(t *testing.T) {
	src := t.TempDir()
	content := filepath.Join(src, "content")
	files := map[string]int{"a.bin": 40000, "sub/b.bin": 1, "sub/c.bin": 70001, "z.bin": 16384}
	tt := makeTorrent(t, 1<<20, []fileSpec{{path: "x", length: 200000}}, 5)
	off := 0
	for name, n := range files {
		mustWriteBytes(t, filepath.Join(content, filepath.FromSlash(name)), tt.data[off:off+n])
		off += n
	}
	_, mi, err := metainfo.Create(metainfo.CreateOptions{Path: content, PieceLength: 16384})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	l := LayoutFromInfo(&mi.Info)
	if l.NumPieces() != mi.Info.NumPieces() || l.TotalLength != 40000+1+70001+16384 || len(l.Files) != 4 {
		t.Fatalf("layout: %d pieces, total %d, %d files", l.NumPieces(), l.TotalLength, len(l.Files))
	}
	s, err := Open(src, l, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	have, err := s.Check(context.Background(), 2, nil)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if !have.Full() {
		t.Fatalf("Check found %d of %d pieces", have.Count(), have.Len())
	}

	// Copy piece by piece into a fresh directory.
	dst := t.TempDir()
	d, err := Open(dst, l, Options{MaxOpenFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for p := range l.NumPieces() {
		buf := make([]byte, l.PieceSize(p))
		if err := s.ReadBlock(p, 0, buf); err != nil {
			t.Fatal(err)
		}
		if !VerifyData(buf, l.Hashes[p]) {
			t.Fatalf("piece %d does not verify", p)
		}
		if err := d.WritePiece(p, buf); err != nil {
			t.Fatal(err)
		}
	}
	for name := range files {
		want, _ := os.ReadFile(filepath.Join(content, filepath.FromSlash(name)))
		got, err := os.ReadFile(filepath.Join(dst, "content", filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: copy differs (err %v)", name, err)
		}
	}
}

func TestLayoutFromInvalidInfo(t *testing.T) {
	l := LayoutFromInfo(&metainfo.Info{Name: "", PieceLength: 4, Length: 8, Pieces: make([]byte, 40)})
	if _, err := Open(t.TempDir(), l, Options{}); err == nil {
		t.Fatal("Open accepted the layout of an invalid info")
	}
}

func mustWriteBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
