package session

import (
	"bytes"
	"context"
	"crypto/sha1"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/bencode"
	"github.com/gobit/gobit/internal/testutil"
)

// TestAddLiberalTorrent adds a torrent that a strict parser refuses but
// libtorrent opens: trailing bytes after the dictionary, file paths that
// collide (also only after sanitizing or case folding), "." and ".."
// components, and a symbolic link aimed outside the save directory. The
// data is placed beforehand under the names libtorrent gives the files;
// the torrent must check complete, create the link as an empty regular
// file, and leave nothing outside its save directory.
func TestAddLiberalTorrent(t *testing.T) {
	root := t.TempDir()
	saveDir := filepath.Join(root, "save")
	if err := os.Mkdir(saveDir, 0o755); err != nil {
		t.Fatal(err)
	}
	type file struct {
		path   []any
		onDisk string // where the data must be, below saveDir
		data   []byte
	}
	files := []file{
		{[]any{"a.txt"}, "d/a.txt", bytes.Repeat([]byte("1"), 5000)},
		{[]any{"a.txt"}, "d/a.1.txt", bytes.Repeat([]byte("2"), 7000)},
		{[]any{"A.TXT"}, "d/A.2.TXT", bytes.Repeat([]byte("3"), 3000)},
		{[]any{"sub", ".", "b"}, "d/sub/b", bytes.Repeat([]byte("4"), 20000)},
		{[]any{"sub", "", "b"}, "d/sub/b.1", bytes.Repeat([]byte("5"), 100)},
		{[]any{"..", "..", "escape"}, "d/_/_/escape", bytes.Repeat([]byte("6"), 999)},
		{[]any{"sub"}, "d/sub.1", bytes.Repeat([]byte("7"), 10)},
	}
	var payload []byte
	var list []any
	for _, f := range files {
		payload = append(payload, f.data...)
		list = append(list, map[string]any{"length": int64(len(f.data)), "path": f.path})
		p := filepath.Join(saveDir, filepath.FromSlash(f.onDisk))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list = append(list, map[string]any{"attr": "l", "path": []any{"link"}, "symlink path": []any{"..", "..", "..", "etc", "passwd"}})
	const pieceLength = 16384
	var pieces []byte
	for off := 0; off < len(payload); off += pieceLength {
		h := sha1.Sum(payload[off:min(off+pieceLength, len(payload))])
		pieces = append(pieces, h[:]...)
	}
	info := map[string]any{"name": "d", "piece length": int64(pieceLength), "pieces": pieces, "files": list}
	data, err := bencode.Marshal(map[string]any{"info": info, "url-list": "http://127.0.0.1:1/ws/"})
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "\r\ntrailing garbage"...)

	s, err := New(Config{DownloadDir: saveDir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	st, err := s.Add(context.Background(), AddRequest{Torrent: data})
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	var d Detail
	testutil.WaitFor(t, 30*time.Second, "the torrent to seed or fail", func() bool {
		if d, err = s.Get(st.InfoHash); err != nil {
			t.Fatal(err)
		}
		return d.State == StateSeeding || d.State == StateError
	})
	if d.State != StateSeeding || d.Progress != 1 {
		t.Fatalf("state %s, progress %v, error %q: want seeding with everything verified", d.State, d.Progress, d.Error)
	}
	var got, want []string
	for _, f := range d.Files {
		got = append(got, filepath.ToSlash(f.Path))
	}
	for _, f := range files {
		want = append(want, f.onDisk)
	}
	want = append(want, "d/link")
	if !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	if fi, err := os.Lstat(filepath.Join(saveDir, "d", "link")); err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
		t.Errorf("symbolic link entry: %v, %v: want an empty regular file", fi, err)
	}
	// Nothing outside the save directory: root holds only it (and the
	// session's own state lives elsewhere).
	err = filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root && p != saveDir && !strings.HasPrefix(p, saveDir+string(filepath.Separator)) {
			t.Errorf("%s is outside the save directory", p)
		}
		if de.Type()&fs.ModeSymlink != 0 {
			t.Errorf("symbolic link %s created", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
