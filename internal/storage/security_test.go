package storage

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestOpenRejectsBadLayouts(t *testing.T) {
	one := func(p string) []File { return []File{{Path: p, Length: 10}} }
	tests := []struct {
		name   string
		layout Layout
		want   error
	}{
		{"dotdot", Layout{PieceLength: 4, TotalLength: 10, Files: one(filepath.Join("..", "x"))}, ErrOutsideDir},
		{"inner dotdot", Layout{PieceLength: 4, TotalLength: 10, Files: one(filepath.Join("a", "..", "..", "x"))}, ErrOutsideDir},
		{"lexically local dotdot", Layout{PieceLength: 4, TotalLength: 10, Files: one("a" + string(filepath.Separator) + ".." + string(filepath.Separator) + "b")}, ErrOutsideDir},
		{"bare dotdot", Layout{PieceLength: 4, TotalLength: 10, Files: one("..")}, ErrOutsideDir},
		{"absolute", Layout{PieceLength: 4, TotalLength: 10, Files: one(filepath.Join(string(filepath.Separator), "etc", "x"))}, ErrOutsideDir},
		{"dot", Layout{PieceLength: 4, TotalLength: 10, Files: one(".")}, ErrOutsideDir},
		{"empty path", Layout{PieceLength: 4, TotalLength: 10, Files: one("")}, ErrOutsideDir},
		{"unclean", Layout{PieceLength: 4, TotalLength: 10, Files: one("a" + string(filepath.Separator) + string(filepath.Separator) + "b")}, ErrOutsideDir},
		{"trailing sep", Layout{PieceLength: 4, TotalLength: 10, Files: one("a" + string(filepath.Separator))}, ErrOutsideDir},
		{"zero piece length", Layout{PieceLength: 0, TotalLength: 10, Files: one("a")}, ErrInvalidLayout},
		{"zero total", Layout{PieceLength: 4, TotalLength: 0, Files: []File{{Path: "a"}}}, ErrInvalidLayout},
		{"no files", Layout{PieceLength: 4, TotalLength: 10}, ErrInvalidLayout},
		{"sum mismatch", Layout{PieceLength: 4, TotalLength: 11, Files: one("a")}, ErrInvalidLayout},
		{"past total", Layout{PieceLength: 4, TotalLength: 5, Files: one("a")}, ErrInvalidLayout},
		{"negative length", Layout{PieceLength: 4, TotalLength: 10, Files: []File{{Path: "a", Length: -1}, {Path: "b", Length: 11, Offset: -1}}}, ErrInvalidLayout},
		{"gap", Layout{PieceLength: 4, TotalLength: 10, Files: []File{{Path: "a", Length: 5}, {Path: "b", Length: 5, Offset: 6}}}, ErrInvalidLayout},
		{"overlap", Layout{PieceLength: 4, TotalLength: 10, Files: []File{{Path: "a", Length: 5}, {Path: "b", Length: 5, Offset: 4}}}, ErrInvalidLayout},
		{"duplicate", Layout{PieceLength: 4, TotalLength: 10, Files: []File{{Path: "a", Length: 5}, {Path: "a", Length: 5, Offset: 5}}}, ErrInvalidLayout},
		{"file is parent", Layout{PieceLength: 4, TotalLength: 10, Files: []File{{Path: "a", Length: 5}, {Path: filepath.Join("a", "b"), Length: 5, Offset: 5}}}, ErrInvalidLayout},
		{"parent is file", Layout{PieceLength: 4, TotalLength: 10, Files: []File{{Path: filepath.Join("a", "b"), Length: 5}, {Path: "a", Length: 5, Offset: 5}}}, ErrInvalidLayout},
		{"hash count", Layout{PieceLength: 4, TotalLength: 10, Files: one("a"), Hashes: make([][20]byte, 2)}, ErrInvalidLayout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(t.TempDir(), tc.layout, Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %v, want %v", err, tc.want)
			}
		})
	}
	// Pad files are never touched, so their path is not checked.
	ok := Layout{PieceLength: 4, TotalLength: 10, Hashes: make([][20]byte, 3), Files: []File{
		{Path: "a", Length: 5}, {Path: "..", Length: 5, Offset: 5, Pad: true}}}
	if _, err := Open(t.TempDir(), ok, Options{}); err != nil {
		t.Fatalf("Open with odd pad path: %v", err)
	}
}

// plantTorrent is a two-file torrent under directory "t".
func plantTorrent(t *testing.T) *testTorrent {
	return makeTorrent(t, 256, []fileSpec{
		{path: "t/sub/a.bin", length: 300},
		{path: "t/b.bin", length: 300},
	}, 31)
}

func TestSymlinkedDirOutsideIsRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	tt := plantTorrent(t)
	dir, outside := t.TempDir(), t.TempDir()
	// t/sub -> outside: a.bin would land outside the save directory.
	if err := os.MkdirAll(filepath.Join(dir, "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "t", "sub")); err != nil {
		t.Fatal(err)
	}
	s := tt.open(t, dir, Options{})
	err := s.WritePiece(0, tt.piece(0))
	if !errors.Is(err, ErrOutsideDir) {
		t.Fatalf("WritePiece through escaping symlink: %v, want ErrOutsideDir", err)
	}
	if err := s.ReadBlock(0, 0, make([]byte, 10)); !errors.Is(err, ErrOutsideDir) {
		t.Fatalf("ReadBlock through escaping symlink: %v, want ErrOutsideDir", err)
	}
	assertEmptyDir(t, outside)

	// Relative escape: t/sub -> ../../<outside base>.
	os.Remove(filepath.Join(dir, "t", "sub"))
	rel, err := filepath.Rel(filepath.Join(dir, "t"), outside)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(rel, filepath.Join(dir, "t", "sub")); err != nil {
		t.Fatal(err)
	}
	if err := s.WritePiece(0, tt.piece(0)); !errors.Is(err, ErrOutsideDir) {
		t.Fatalf("WritePiece through relative escaping symlink: %v", err)
	}
	assertEmptyDir(t, outside)

	// Remove must not follow it either.
	if err := os.WriteFile(filepath.Join(outside, "a.bin"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = s.Remove()
	if _, err := os.Stat(filepath.Join(outside, "a.bin")); err != nil {
		t.Fatalf("Remove deleted a file outside the save directory: %v", err)
	}
}

func TestSymlinkedFileOutsideIsRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	tt := plantTorrent(t)
	dir, outside := t.TempDir(), t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "t", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "t", "sub", "a.bin")); err != nil {
		t.Fatal(err)
	}
	s := tt.open(t, dir, Options{})
	if err := s.WritePiece(0, tt.piece(0)); !errors.Is(err, ErrOutsideDir) {
		t.Fatalf("WritePiece onto escaping symlink: %v, want ErrOutsideDir", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious" {
		t.Fatalf("victim changed: %q", got)
	}
	// Check does not read through it either: the piece is absent.
	have, err := s.Check(t.Context(), 1, nil)
	if err != nil || have.Count() != 0 {
		t.Fatalf("Check = %v, %v", have, err)
	}
	// Remove deletes the link, not its target.
	if err := s.Remove(); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious" {
		t.Fatalf("victim changed by Remove: %q", got)
	}
}

func TestSymlinkInsideIsFollowed(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	tt := plantTorrent(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "elsewhere"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "elsewhere"), filepath.Join(dir, "t", "sub")); err != nil {
		t.Fatal(err)
	}
	s := tt.open(t, dir, Options{})
	tt.writeAll(t, s)
	if _, err := os.Stat(filepath.Join(dir, "elsewhere", "a.bin")); err != nil {
		t.Fatalf("write through an inside symlink: %v", err)
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Fatalf("%s is not empty: %v", dir, ents)
	}
}

func TestRemove(t *testing.T) {
	tl := testLayouts[3] // files under t/, t/sub, t/d/e
	tt := makeTorrent(t, tl.pieceLen, tl.files, 4)
	dir := t.TempDir()
	// Things that are not ours.
	mustWrite(t, filepath.Join(dir, "unrelated.txt"))
	mustWrite(t, filepath.Join(dir, "t", "sub", "user-notes.txt"))
	s := tt.open(t, dir, Options{})
	tt.writeAll(t, s)
	if err := s.CreateEmptyFiles(); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	for _, f := range tt.layout.Files {
		if _, err := os.Lstat(filepath.Join(dir, f.Path)); !os.IsNotExist(err) {
			t.Errorf("%q still exists: %v", f.Path, err)
		}
	}
	for _, gone := range []string{"t/d/e", "t/d"} {
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(gone))); !os.IsNotExist(err) {
			t.Errorf("empty directory %q kept: %v", gone, err)
		}
	}
	for _, kept := range []string{"unrelated.txt", "t/sub/user-notes.txt"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(kept))); err != nil {
			t.Errorf("%q removed: %v", kept, err)
		}
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("save directory removed: %v", err)
	}
	// Removing again (nothing left) is fine, and so is removing with a
	// save directory that never existed.
	s2 := tt.open(t, dir, Options{})
	if err := s2.Remove(); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	s3 := tt.open(t, filepath.Join(dir, "never"), Options{})
	if err := s3.Remove(); err != nil {
		t.Fatalf("Remove with missing save dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "never")); !os.IsNotExist(err) {
		t.Fatalf("Remove created the save directory: %v", err)
	}
}

func mustWrite(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not ours"), 0o644); err != nil {
		t.Fatal(err)
	}
}
