package storage

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/testutil"
)

// ltCreatePadded makes a v1 torrent with BEP 47 pad files (libtorrent's
// canonical_files flag) of the directory src/content, written to out.
const ltCreatePadded = `
import sys, libtorrent as lt
src, out = sys.argv[1], sys.argv[2]
fs = lt.file_storage()
lt.add_files(fs, src + "/content")
ct = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only | lt.create_torrent.canonical_files)
lt.set_piece_hashes(ct, src)
open(out, "wb").write(lt.bencode(ct.generate()))
`

// TestLibtorrentPadFiles checks the layout of a torrent with pad files made
// by libtorrent: the original data checks complete, and a copy written
// piece by piece reproduces the files without creating any pad file.
func TestLibtorrentPadFiles(t *testing.T) {
	py := testutil.NeedPythonModule(t, "libtorrent", "python3-libtorrent")
	src := t.TempDir()
	tt := makeTorrent(t, 1<<20, []fileSpec{{path: "x", length: 120000}}, 23)
	files := map[string][]byte{
		"a.bin":     tt.data[:40000],
		"b.bin":     tt.data[40000:40005],
		"sub/c.bin": tt.data[40005:110006],
	}
	for name, b := range files {
		mustWriteBytes(t, filepath.Join(src, "content", filepath.FromSlash(name)), b)
	}
	torrent := filepath.Join(t.TempDir(), "padded.torrent")
	if out, err := exec.Command(py, "-c", ltCreatePadded, src, torrent).CombinedOutput(); err != nil {
		t.Fatalf("libtorrent create: %v\n%s", err, out)
	}
	mi, err := metainfo.Load(torrent)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	l := LayoutFromInfo(&mi.Info)
	pads := 0
	for _, f := range l.Files {
		if f.Pad {
			pads++
		}
	}
	if pads == 0 {
		t.Fatalf("libtorrent made no pad files: %+v", l.Files)
	}

	s, err := Open(src, l, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	have, err := s.Check(context.Background(), 2, nil)
	if err != nil || !have.Full() {
		t.Fatalf("Check of the source: %d of %d pieces, err %v", have.Count(), have.Len(), err)
	}

	dst := t.TempDir()
	d, err := Open(dst, l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for p := range l.NumPieces() {
		buf := make([]byte, l.PieceSize(p))
		if err := s.ReadBlock(p, 0, buf); err != nil {
			t.Fatal(err)
		}
		if err := d.WritePiece(p, buf); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dst, "content", filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: copy differs (err %v)", name, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(dst, "content", ".pad")); !os.IsNotExist(err) {
		t.Errorf("pad directory created: %v", err)
	}
	have, err = d.Check(context.Background(), 1, nil)
	if err != nil || !have.Full() {
		t.Fatalf("Check of the copy: %d of %d pieces, err %v", have.Count(), have.Len(), err)
	}
}
