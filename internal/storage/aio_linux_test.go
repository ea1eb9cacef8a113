//go:build linux && (amd64 || arm64)

package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestReleaseAsyncWriter: the storage's AIO context is released, and the
// next direct write sets up a new one; the data of writes on both sides of
// the release is on disk. (The AIO lifecycle itself is tested in
// internal/diskio.)
func TestReleaseAsyncWriter(t *testing.T) {
	const pl = 64 << 10
	l := Layout{PieceLength: pl, TotalLength: 2 * pl, Files: []File{{Path: "d.bin", Length: 2 * pl}}}
	dir := t.TempDir()
	s, err := Open(dir, l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p0, p1 := alignedBuf(pl), alignedBuf(pl)
	for i := range p0 {
		p0[i], p1[i] = byte(i), byte(i*7)
	}
	if err := s.WritePiece(0, p0); err != nil {
		t.Fatal(err)
	}
	if !s.io.Stats().AsyncReady {
		t.Skipf("no AIO context after a direct write (mode %v): AIO or direct I/O is unavailable here", s.io.Stats().Mode)
	}
	s.ReleaseAsyncWriter()
	if s.io.Stats().AsyncReady {
		t.Fatal("the context is still set up after ReleaseAsyncWriter")
	}
	if err := s.WritePiece(1, p1); err != nil {
		t.Fatalf("write after the release: %v", err)
	}
	if !s.io.Stats().AsyncReady {
		t.Fatal("the write after the release set up no new AIO context")
	}
	got, err := os.ReadFile(filepath.Join(dir, "d.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:pl], p0) || !bytes.Equal(got[pl:], p1) {
		t.Fatal("the file does not hold the data written around the release")
	}
}
