package storage

import (
	"bytes"
	"crypto/sha1"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// fileSpec describes one file of a test layout.
type fileSpec struct {
	path   string
	length int64
	pad    bool
}

// testTorrent is a layout together with its content.
type testTorrent struct {
	layout Layout
	data   []byte // whole torrent, zeros in pad spans
}

// makeTorrent builds a layout of files with random content (zeros in pad
// files) and correct piece hashes.
func makeTorrent(t testing.TB, pieceLen int64, files []fileSpec, seed uint64) *testTorrent {
	t.Helper()
	var total int64
	var fs []File
	for _, f := range files {
		fs = append(fs, File{Path: filepath.FromSlash(f.path), Length: f.length, Offset: total, Pad: f.pad})
		total += f.length
	}
	data := make([]byte, total)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, f := range fs {
		if f.Pad {
			clear(data[f.Offset : f.Offset+f.Length])
		}
	}
	l := Layout{PieceLength: pieceLen, TotalLength: total, Files: fs}
	for p := 0; p < l.NumPieces(); p++ {
		l.Hashes = append(l.Hashes, sha1.Sum(pieceData(&l, data, p)))
	}
	return &testTorrent{layout: l, data: data}
}

func pieceData(l *Layout, data []byte, p int) []byte {
	off := int64(p) * l.PieceLength
	return data[off : off+l.PieceSize(p)]
}

func (tt *testTorrent) piece(p int) []byte { return pieceData(&tt.layout, tt.data, p) }

// open opens a Storage for tt in dir and closes it at the end of the test.
func (tt *testTorrent) open(t testing.TB, dir string, opts Options) *Storage {
	t.Helper()
	s, err := Open(dir, tt.layout, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writeAll writes every piece.
func (tt *testTorrent) writeAll(t testing.TB, s *Storage) {
	t.Helper()
	for p := 0; p < tt.layout.NumPieces(); p++ {
		if err := s.WritePiece(p, tt.piece(p)); err != nil {
			t.Fatalf("WritePiece(%d): %v", p, err)
		}
	}
}

// checkFilesOnDisk asserts that every non-pad file with content holds
// exactly its slice of the torrent and that no pad file exists.
func (tt *testTorrent) checkFilesOnDisk(t testing.TB, dir string) {
	t.Helper()
	for _, f := range tt.layout.Files {
		path := filepath.Join(dir, f.Path)
		if f.Pad {
			if _, err := os.Lstat(path); !os.IsNotExist(err) {
				t.Errorf("pad file %q exists (err %v)", f.Path, err)
			}
			continue
		}
		if f.Length == 0 {
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("read %q: %v", f.Path, err)
			continue
		}
		if !bytes.Equal(got, tt.data[f.Offset:f.Offset+f.Length]) {
			t.Errorf("file %q: content differs (len %d, want %d)", f.Path, len(got), f.Length)
		}
	}
}

// layouts used by several tests. Pieces of 1000 bytes span several small
// files, zero-length files sit at piece boundaries and inside pieces, and a
// pad file aligns the last file.
var testLayouts = []struct {
	name     string
	pieceLen int64
	files    []fileSpec
}{
	{"single", 1024, []fileSpec{{path: "single.bin", length: 10*1024 + 77}}},
	{"single exact", 512, []fileSpec{{path: "exact.bin", length: 4 * 512}}},
	{"single short", 4096, []fileSpec{{path: "tiny.bin", length: 10}}},
	{"multi", 1000, []fileSpec{
		{path: "t/a.bin", length: 300},
		{path: "t/empty0", length: 0},
		{path: "t/sub/b.bin", length: 250},
		{path: "t/sub/c.bin", length: 450}, // ends exactly at piece 1's start
		{path: "t/empty1", length: 0},
		{path: "t/d/e/f.bin", length: 2500},
		{path: "t/g.bin", length: 1},
		{path: "t/h.bin", length: 1998},
		{path: "t/empty2", length: 0},
	}},
	{"pads", 1024, []fileSpec{
		{path: "p/a.bin", length: 1500},
		{path: "p/.pad/548", length: 548, pad: true},
		{path: "p/b.bin", length: 2048},
		{path: "p/c.bin", length: 10},
		{path: "p/.pad/1014", length: 1014, pad: true},
		{path: "p/d.bin", length: 700},
	}},
}
