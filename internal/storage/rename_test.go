package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// multiTorrent is the "multi" test layout.
func multiTorrent(t *testing.T) *testTorrent {
	t.Helper()
	for _, l := range testLayouts {
		if l.name == "multi" {
			return makeTorrent(t, l.pieceLen, l.files, 7)
		}
	}
	t.Fatal("no multi layout")
	return nil
}

// fileIndex returns the layout index of the file at path p (slashes).
func fileIndex(t *testing.T, tt *testTorrent, p string) int {
	t.Helper()
	for i, f := range tt.layout.Files {
		if f.Path == filepath.FromSlash(p) {
			return i
		}
	}
	t.Fatalf("no file %q", p)
	return -1
}

func readBack(t *testing.T, s *Storage, tt *testTorrent) {
	t.Helper()
	got := make([]byte, tt.layout.TotalLength)
	if err := s.ReadAt(got, 0); err != nil {
		t.Fatalf("ReadAt: %v", err)
	}
	if !bytes.Equal(got, tt.data) {
		t.Fatal("data read back differs")
	}
}

func TestRenameMovesWrittenFileAndLaterIOUsesNewPath(t *testing.T) {
	tt := multiTorrent(t)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{})
	// Write the pieces covering a.bin and sub/*, read once so that handles
	// are cached, then rename.
	for p := 0; p < 2; p++ {
		if err := s.WritePiece(p, tt.piece(p)); err != nil {
			t.Fatal(err)
		}
	}
	a := fileIndex(t, tt, "t/a.bin")
	f := fileIndex(t, tt, "t/d/e/f.bin")
	if err := s.ReadBlock(0, 0, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename(map[int]string{a: filepath.FromSlash("renamed/x/A.bin"), f: filepath.FromSlash("t/F.bin")}); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t", "a.bin")); !os.IsNotExist(err) {
		t.Fatalf("old file still there: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "renamed", "x", "A.bin"))
	if err != nil || !bytes.Equal(got, tt.data[:300]) {
		t.Fatalf("renamed file: %v, %d bytes", err, len(got))
	}
	// f.bin was not written yet (piece 2 and up): only the mapping moved,
	// and nothing exists at its old path.
	if _, err := os.Stat(filepath.Join(dir, "t", "d")); !os.IsNotExist(err) {
		t.Fatalf("directory of the unwritten file exists: %v", err)
	}
	for p := 2; p < tt.layout.NumPieces(); p++ {
		if err := s.WritePiece(p, tt.piece(p)); err != nil {
			t.Fatal(err)
		}
	}
	ff := tt.layout.Files[f]
	got, err = os.ReadFile(filepath.Join(dir, "t", "F.bin"))
	if err != nil || !bytes.Equal(got, tt.data[ff.Offset:ff.Offset+ff.Length]) {
		t.Fatalf("file written after its rename: %v, %d bytes", err, len(got))
	}
	readBack(t, s, tt)
	if p := s.Paths(); p[a] != filepath.FromSlash("renamed/x/A.bin") || p[f] != filepath.FromSlash("t/F.bin") {
		t.Fatalf("Paths = %q", p)
	}
	bf, err := s.Check(context.Background(), 2, nil)
	if err != nil || !bf.Full() {
		t.Fatalf("Check after rename: %v, %d of %d", err, bf.Count(), bf.Len())
	}
	// Stamps (fast resume) of a renamed file are those of the file at its
	// new path.
	st, err := s.Stamps()
	if err != nil || st[a].Size != 300 {
		t.Fatalf("Stamps: %v, %+v", err, st[a])
	}
}

func TestRenameFolderMovesEveryFileAndRemovesEmptyDirs(t *testing.T) {
	tt := multiTorrent(t)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{})
	tt.writeAll(t, s)
	if err := s.CreateEmptyFiles(); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Stamps()
	// A foreign file in the old folder keeps it.
	if err := os.WriteFile(filepath.Join(dir, "t", "d", "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	ren := map[int]string{}
	for i, p := range s.Paths() {
		if tt.layout.Files[i].Pad {
			continue
		}
		ren[i] = filepath.Join("New Name", p[len("t/"):])
	}
	if err := s.Rename(ren); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	for i, p := range ren {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("file %d not at %q: %v", i, p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "t", "sub")); !os.IsNotExist(err) {
		t.Errorf("emptied directory t/sub kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t", "d", "notes.txt")); err != nil {
		t.Errorf("foreign file lost: %v", err)
	}
	readBack(t, s, tt)
	after, _ := s.Stamps()
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("file %d: stamp %+v became %+v: fast resume would rehash it", i, before[i], after[i])
		}
	}
	// A new Storage opened with the renamed layout trusts the resume data.
	l := tt.layout
	l.Files = append([]File(nil), l.Files...)
	for i, p := range ren {
		l.Files[i].Path = p
	}
	s2, err := Open(dir, l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	hashed := 0
	s2.onRead = func(int) { hashed++ }
	full, _ := s.Check(context.Background(), 1, nil)
	bf, err := s2.CheckResume(context.Background(), 1, full, after, nil)
	if err != nil || !bf.Full() || hashed != 0 {
		t.Fatalf("CheckResume after rename: %v, %d of %d, %d reads", err, bf.Count(), bf.Len(), hashed)
	}
}

func TestRenameConflictsAndBadPaths(t *testing.T) {
	tt := multiTorrent(t)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{})
	tt.writeAll(t, s)
	a := fileIndex(t, tt, "t/a.bin")
	g := fileIndex(t, tt, "t/g.bin")
	h := fileIndex(t, tt, "t/h.bin")
	if err := os.WriteFile(filepath.Join(dir, "foreign"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ren  map[int]string
		want error
	}{
		{"onto a foreign file", map[int]string{a: "foreign"}, ErrExists},
		{"onto another file of the torrent", map[int]string{a: filepath.FromSlash("t/g.bin")}, ErrInvalidLayout},
		{"two files to one path", map[int]string{a: "z", g: "z"}, ErrInvalidLayout},
		{"under another file", map[int]string{a: filepath.FromSlash("t/g.bin/a")}, ErrInvalidLayout},
		{"parent", map[int]string{a: ".."}, ErrOutsideDir},
		{"dot dot inside", map[int]string{a: filepath.FromSlash("t/../../x")}, ErrOutsideDir},
		{"absolute", map[int]string{a: string(filepath.Separator) + "tmp" + string(filepath.Separator) + "x"}, ErrOutsideDir},
		{"empty", map[int]string{a: ""}, ErrOutsideDir},
		{"empty component", map[int]string{a: "t" + string(filepath.Separator) + string(filepath.Separator) + "x"}, ErrOutsideDir},
		{"out of range", map[int]string{len(tt.layout.Files): "x"}, ErrOutOfRange},
		// A chain in one call: h's old path is taken when a moves there.
		{"chain", map[int]string{h: "hh", a: filepath.FromSlash("t/h.bin")}, ErrExists},
	}
	for _, c := range cases {
		err := s.Rename(c.ren)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// Nothing moved: every file still at its layout path, with its data.
	tt.checkFilesOnDisk(t, dir)
	for i, p := range s.Paths() {
		if p != tt.layout.Files[i].Path {
			t.Errorf("file %d mapped to %q after failed renames", i, p)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "foreign")); string(b) != "x" {
		t.Error("foreign file changed")
	}
}

func TestRenameThroughSymlinkLeavingTheSaveDirIsRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	tt := multiTorrent(t)
	dir, outside := t.TempDir(), t.TempDir()
	s := tt.open(t, dir, Options{})
	tt.writeAll(t, s)
	if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(filepath.Join(dir, "t"), outside)
	if err := os.Symlink(rel, filepath.Join(dir, "t", "rel")); err != nil {
		t.Fatal(err)
	}
	a := fileIndex(t, tt, "t/a.bin")
	for _, p := range []string{"out/a.bin", "out/deeper/a.bin", "t/rel/a.bin"} {
		if err := s.Rename(map[int]string{a: filepath.FromSlash(p)}); !errors.Is(err, ErrOutsideDir) {
			t.Errorf("rename to %q through an escaping symlink: %v, want ErrOutsideDir", p, err)
		}
	}
	assertEmptyDir(t, outside)
	tt.checkFilesOnDisk(t, dir)

	// A symlinked directory that stays inside the save directory is
	// followed, as for writes.
	if err := os.Mkdir(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "inside")); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename(map[int]string{a: filepath.FromSlash("inside/a.bin")}); err != nil {
		t.Fatalf("rename through a symlink inside: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "real", "a.bin")); err != nil || !bytes.Equal(got, tt.data[:300]) {
		t.Fatalf("file through the inner symlink: %v", err)
	}
	readBack(t, s, tt)
}

func TestRenameBeforeAnyWriteOnlyMaps(t *testing.T) {
	tt := multiTorrent(t)
	dir := filepath.Join(t.TempDir(), "not-yet")
	s := tt.open(t, dir, Options{})
	a := fileIndex(t, tt, "t/a.bin")
	if err := s.Rename(map[int]string{a: "first.bin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Rename created the save directory: %v", err)
	}
	tt.writeAll(t, s)
	if got, err := os.ReadFile(filepath.Join(dir, "first.bin")); err != nil || !bytes.Equal(got, tt.data[:300]) {
		t.Fatalf("first.bin: %v", err)
	}
	// Remove deletes the files where they are now.
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("left after Remove: %v", entries)
	}
}

// TestRenameKeepsSyncAndCheckPresentWorking: the directories a rename
// empties are not flushed by a later Sync (they are gone), and
// CheckPresent looks only for the top-level entries that hold verified
// data.
func TestRenameKeepsSyncAndCheckPresentWorking(t *testing.T) {
	tt := multiTorrent(t)
	dir := t.TempDir()
	s := tt.open(t, dir, Options{})
	if err := s.WritePiece(0, tt.piece(0)); err != nil { // t/a.bin and t/sub/b.bin
		t.Fatal(err)
	}
	ren := map[int]string{}
	for i, p := range s.Paths() {
		if !tt.layout.Files[i].Pad {
			ren[i] = filepath.Join("n"+filepath.Base(p), filepath.Base(p))
		}
	}
	if err := s.Rename(ren); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync after a rename emptied directories: %v", err)
	}
	have := newBits(tt.layout.NumPieces(), 0)
	if err := s.CheckPresent(have); err != nil {
		t.Fatalf("CheckPresent with top-level entries not written yet: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "na.bin")); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckPresent(have); !errors.Is(err, ErrVanished) {
		t.Fatalf("CheckPresent with a verified file's folder gone: %v, want ErrVanished", err)
	}
}
