package storage

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReadRoundTrip(t *testing.T) {
	for i, tl := range testLayouts {
		t.Run(tl.name, func(t *testing.T) {
			tt := makeTorrent(t, tl.pieceLen, tl.files, uint64(i+1))
			dir := t.TempDir()
			s := tt.open(t, dir, Options{})
			tt.writeAll(t, s)
			tt.checkFilesOnDisk(t, dir)

			// Every piece, read whole and as blocks cut at every boundary.
			for p := 0; p < tt.layout.NumPieces(); p++ {
				want := tt.piece(p)
				got := make([]byte, len(want))
				if err := s.ReadBlock(p, 0, got); err != nil {
					t.Fatalf("ReadBlock(%d, 0, %d): %v", p, len(got), err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("piece %d differs", p)
				}
				for _, blk := range []int{1, 7, 100, 256} {
					for begin := 0; begin < len(want); begin += blk {
						n := min(blk, len(want)-begin)
						b := make([]byte, n)
						if err := s.ReadBlock(p, begin, b); err != nil {
							t.Fatalf("ReadBlock(%d, %d, %d): %v", p, begin, n, err)
						}
						if !bytes.Equal(b, want[begin:begin+n]) {
							t.Fatalf("piece %d block at %d len %d differs", p, begin, n)
						}
					}
				}
				ok, err := s.VerifyPiece(p, tt.layout.Hashes[p])
				if err != nil || !ok {
					t.Fatalf("VerifyPiece(%d) = %v, %v", p, ok, err)
				}
			}
		})
	}
}

func TestWriteAtSpanningFiles(t *testing.T) {
	tl := testLayouts[3] // multi
	tt := makeTorrent(t, tl.pieceLen, tl.files, 42)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{})
	// Write in odd-sized chunks that cross file and piece boundaries.
	const chunk = 333
	for off := int64(0); off < tt.layout.TotalLength; off += chunk {
		end := min(off+chunk, tt.layout.TotalLength)
		if err := s.WriteAt(tt.data[off:end], off); err != nil {
			t.Fatalf("WriteAt(%d): %v", off, err)
		}
	}
	tt.checkFilesOnDisk(t, dir)
	got := make([]byte, tt.layout.TotalLength)
	if err := s.ReadAt(got, 0); err != nil {
		t.Fatalf("ReadAt: %v", err)
	}
	if !bytes.Equal(got, tt.data) {
		t.Fatal("ReadAt of the whole torrent differs")
	}
}

func TestPadFilesReadAsZerosAndAreNeverCreated(t *testing.T) {
	tl := testLayouts[4] // pads
	tt := makeTorrent(t, tl.pieceLen, tl.files, 7)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{})
	// Write garbage over the pad spans: it must not reach the disk.
	junk := bytes.Repeat([]byte{0xff}, int(tt.layout.TotalLength))
	if err := s.WriteAt(junk, 0); err != nil {
		t.Fatalf("WriteAt: %v", err)
	}
	tt.writeAll(t, s)
	if err := s.CreateEmptyFiles(); err != nil {
		t.Fatal(err)
	}
	tt.checkFilesOnDisk(t, dir) // also asserts pad files are absent
	pad := tt.layout.Files[1]
	b := bytes.Repeat([]byte{1}, int(pad.Length))
	if err := s.ReadAt(b, pad.Offset); err != nil {
		t.Fatalf("ReadAt pad: %v", err)
	}
	if !bytes.Equal(b, make([]byte, pad.Length)) {
		t.Fatal("pad span did not read as zeros")
	}
	if _, err := os.Lstat(filepath.Join(dir, "p", ".pad")); !os.IsNotExist(err) {
		t.Fatalf(".pad directory exists: %v", err)
	}
}

func TestCreateEmptyFiles(t *testing.T) {
	tl := testLayouts[3] // multi, with three zero-length files
	tt := makeTorrent(t, tl.pieceLen, tl.files, 3)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{})
	tt.writeAll(t, s)
	if err := s.CreateEmptyFiles(); err != nil {
		t.Fatalf("CreateEmptyFiles: %v", err)
	}
	for _, f := range tt.layout.Files {
		fi, err := os.Stat(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatalf("%q: %v", f.Path, err)
		}
		if fi.Size() != f.Length {
			t.Errorf("%q: size %d, want %d", f.Path, fi.Size(), f.Length)
		}
	}
	// Idempotent, and does not truncate anything.
	if err := s.CreateEmptyFiles(); err != nil {
		t.Fatalf("second CreateEmptyFiles: %v", err)
	}
	tt.checkFilesOnDisk(t, dir)
}

func TestReadMissingAndShort(t *testing.T) {
	tl := testLayouts[3]
	tt := makeTorrent(t, tl.pieceLen, tl.files, 5)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{})
	b := make([]byte, 100)
	// Nothing on disk, not even the save directory's torrent folder.
	if err := s.ReadBlock(0, 0, b); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadBlock on empty dir: %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t")); !os.IsNotExist(err) {
		t.Fatalf("a read created files: %v", err)
	}
	if err := s.WritePiece(1, tt.piece(1)); err != nil {
		t.Fatal(err)
	}
	// Piece 2 lies in t/d/e/f.bin, which holds only piece 1 so far.
	err := s.ReadBlock(2, 0, b)
	if !errors.Is(err, ErrShortRead) {
		t.Fatalf("ReadBlock(1) = %v, want ErrShortRead", err)
	}
	if !strings.Contains(err.Error(), filepath.FromSlash("t/d/e/f.bin")) {
		t.Errorf("error %q does not name the file", err)
	}
	if ok, err := s.VerifyPiece(2, tt.layout.Hashes[2]); ok || !errors.Is(err, ErrShortRead) {
		t.Fatalf("VerifyPiece(2) = %v, %v", ok, err)
	}
	// A missing save directory entirely.
	s2, err := Open(filepath.Join(dir, "nope"), tt.layout, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.ReadBlock(0, 0, b); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadBlock with missing save dir: %v", err)
	}
}

func TestRangeErrors(t *testing.T) {
	tl := testLayouts[0] // 10 full pieces of 1024 and one of 77
	tt := makeTorrent(t, tl.pieceLen, tl.files, 9)
	s := tt.open(t, t.TempDir(), Options{})
	tests := []struct {
		name string
		fn   func() error
	}{
		{"write piece -1", func() error { return s.WritePiece(-1, make([]byte, 1024)) }},
		{"write piece n", func() error { return s.WritePiece(11, make([]byte, 77)) }},
		{"write short piece", func() error { return s.WritePiece(0, make([]byte, 1023)) }},
		{"write long last piece", func() error { return s.WritePiece(10, make([]byte, 1024)) }},
		{"writeat past end", func() error { return s.WriteAt(make([]byte, 2), tt.layout.TotalLength-1) }},
		{"writeat negative", func() error { return s.WriteAt(make([]byte, 2), -1) }},
		{"read past piece", func() error { return s.ReadBlock(0, 1000, make([]byte, 25)) }},
		{"read past last piece", func() error { return s.ReadBlock(10, 0, make([]byte, 78)) }},
		{"read negative begin", func() error { return s.ReadBlock(0, -1, make([]byte, 1)) }},
		{"read bad piece", func() error { return s.ReadBlock(1<<30, 0, make([]byte, 1)) }},
		{"hash bad piece", func() error { _, err := s.HashPiece(-3); return err }},
	}
	for _, tc := range tests {
		if err := tc.fn(); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("%s: %v, want ErrOutOfRange", tc.name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "single.bin")); !os.IsNotExist(err) {
		t.Errorf("rejected writes created the file: %v", err)
	}
}

func TestWriteErrorNamesFileAndOffset(t *testing.T) {
	tl := testLayouts[3]
	tt := makeTorrent(t, tl.pieceLen, tl.files, 11)
	dir := t.TempDir()
	// A directory where t/sub/b.bin should be makes its open fail.
	if err := os.MkdirAll(filepath.Join(dir, "t", "sub", "b.bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := tt.open(t, dir, Options{})
	err := s.WritePiece(0, tt.piece(0))
	if err == nil {
		t.Fatal("WritePiece succeeded over a directory")
	}
	want := `storage: write "` + filepath.FromSlash("t/sub/b.bin") + `" at 0: `
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want prefix %q", err, want)
	}
}

func TestFileCompleted(t *testing.T) {
	tl := testLayouts[3] // pieces of 1000: files 300,0,250,450,0,2500,1,1998,0
	tt := makeTorrent(t, tl.pieceLen, tl.files, 1)
	s := tt.open(t, t.TempDir(), Options{})
	have := newBits(tt.layout.NumPieces(), 0, 3, 5)
	got := s.FileCompleted(have)
	// piece 0 = [0,1000): a, b, c fully. piece 3 = [3000,4000): f [1000,3500)
	// gets 500, g [3500] 1, h [3501,5499) gets 499. piece 5 = [5000,5499): h 499.
	want := []int64{300, 0, 250, 450, 0, 500, 1, 499 + 499, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("file %d %q: %d, want %d", i, tt.layout.Files[i].Path, got[i], want[i])
		}
	}
	full := s.FileCompleted(newBits(tt.layout.NumPieces(), 0, 1, 2, 3, 4, 5))
	for i, f := range tt.layout.Files {
		if full[i] != f.Length {
			t.Errorf("full: file %d: %d, want %d", i, full[i], f.Length)
		}
	}
}

func TestCloseRefusesFurtherIO(t *testing.T) {
	tl := testLayouts[0]
	tt := makeTorrent(t, tl.pieceLen, tl.files, 2)
	s := tt.open(t, t.TempDir(), Options{})
	tt.writeAll(t, s)
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.ReadBlock(0, 0, make([]byte, 10)); !errors.Is(err, ErrClosed) {
		t.Fatalf("ReadBlock after Close: %v", err)
	}
	if err := s.WritePiece(0, tt.piece(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("WritePiece after Close: %v", err)
	}
	if n, _ := s.cache.numOpen(); n != 0 {
		t.Fatalf("%d handles open after Close", n)
	}
}

func TestPreallocate(t *testing.T) {
	tl := testLayouts[3]
	tt := makeTorrent(t, tl.pieceLen, tl.files, 13)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{Preallocate: true})
	if err := s.WritePiece(1, tt.piece(1)); err != nil {
		t.Fatal(err)
	}
	// Piece 1 touches t/d/e/f.bin, which must now have its full size.
	fi, err := os.Stat(filepath.Join(dir, "t", "d", "e", "f.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 2500 {
		t.Fatalf("preallocated size %d, want 2500", fi.Size())
	}
	tt.writeAll(t, s)
	tt.checkFilesOnDisk(t, dir)
}

func TestSyncFlushesFilesAndNewDirs(t *testing.T) {
	tl := testLayouts[3]
	tt := makeTorrent(t, tl.pieceLen, tl.files, 17)
	dir := t.TempDir()
	// One handle only: most written files are evicted before Sync.
	s := tt.open(t, dir, Options{MaxOpenFiles: 1})
	tt.writeAll(t, s)
	s.dirtyMu.Lock()
	nFiles, dirs := len(s.dirty), make(map[string]bool)
	for d := range s.newDirs {
		dirs[d] = true
	}
	s.dirtyMu.Unlock()
	if nFiles != 6 { // every non-empty file
		t.Fatalf("%d dirty files, want 6", nFiles)
	}
	for _, d := range []string{".", "t", filepath.Join("t", "sub"), filepath.Join("t", "d", "e")} {
		if !dirs[d] {
			t.Errorf("directory %q not marked for sync (have %v)", d, dirs)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	s.dirtyMu.Lock()
	left := len(s.dirty) + len(s.newDirs)
	s.dirtyMu.Unlock()
	if left != 0 {
		t.Fatalf("%d entries still dirty after Sync", left)
	}
	// Rewriting existing files creates no directory entry.
	tt.writeAll(t, s)
	s.dirtyMu.Lock()
	nd := len(s.newDirs)
	s.dirtyMu.Unlock()
	if nd != 0 {
		t.Fatalf("rewrite marked %d directories", nd)
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	if open, peak := s.cache.numOpen(); open > 1 || peak > 1 {
		t.Fatalf("open %d peak %d with MaxOpenFiles 1", open, peak)
	}
}

func TestAfterClose(t *testing.T) {
	tl := testLayouts[3]
	tt := makeTorrent(t, tl.pieceLen, tl.files, 19)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{})
	tt.writeAll(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(t.Context(), 1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Check after Close: %v", err)
	}
	if got := s.FileCompleted(nil); len(got) != len(tt.layout.Files) {
		t.Fatalf("FileCompleted(nil) = %v", got)
	}
	// Remove still works after Close (stop, then delete data).
	if err := s.Remove(); err != nil {
		t.Fatalf("Remove after Close: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "t")); !os.IsNotExist(err) {
		t.Fatalf("torrent directory left after Remove: %v", err)
	}
}
