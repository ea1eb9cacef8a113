package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/testutil"
)

// renamePayload writes a three-file torrent "pack" (a.bin, sub/b.bin,
// sub/c.bin) of random bytes into dir and returns its .torrent and contents
// by path.
func renamePayload(t *testing.T, dir string) ([]byte, map[string][]byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	files := map[string][]byte{}
	for name, n := range map[string]int{"a.bin": 1 << 20, "sub/b.bin": 2 << 20, "sub/c.bin": 1<<20 + 333} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		files[name] = b
		p := filepath.Join(dir, "pack", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, _, err := metainfo.Create(metainfo.CreateOptions{Path: filepath.Join(dir, "pack"), PieceLength: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return data, files
}

func filePaths(d Detail) map[string]bool {
	out := map[string]bool{}
	for _, f := range d.Files {
		out[filepath.ToSlash(f.Path)] = true
	}
	return out
}

// TestRenameWhileDownloadingAndAfterRestart renames a file and a folder
// while the torrent downloads from a seeder: the download completes with
// every file at its new path, and a restart finds them there, trusting its
// resume data (a byte changed behind gobit's back with the stamp kept is
// not noticed, so nothing was hashed again).
func TestRenameWhileDownloadingAndAfterRestart(t *testing.T) {
	seedDir := t.TempDir()
	data, files := renamePayload(t, seedDir)
	seeder, err := New(Config{DownloadDir: seedDir, ListenAddr: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer seeder.Close()
	if _, err := seeder.Add(context.Background(), AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "seeder seeding", func() bool { return states(seeder)["pack"] == StateSeeding })

	leechDir := t.TempDir()
	cfg := Config{DownloadDir: leechDir, DataDir: t.TempDir(), Port: -1}
	leecher, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { leecher.Close() }()
	st, err := leecher.Add(context.Background(), AddRequest{Torrent: data})
	if err != nil {
		t.Fatal(err)
	}
	h := st.InfoHash
	limit := int64(256 << 10)
	if _, err := leecher.UpdateTorrent(h, TorrentUpdate{DownloadLimit: &limit}); err != nil {
		t.Fatal(err)
	}
	if err := leecher.AddPeers(h, fmt.Sprintf("127.0.0.1:%d", seeder.Port())); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "the download under way", func() bool {
		d, err := leecher.Get(h)
		return err == nil && d.Completed > 64<<10
	})

	// Bad requests change nothing.
	for _, c := range []struct {
		from, to string
		want     error
	}{
		{"pack/sub", "../escape", ErrInvalid},
		{"pack/sub", "/abs", ErrInvalid},
		{"pack/none", "x", ErrInvalid},
		{"pack/a.bin", "pack/sub/b.bin", ErrConflict},
	} {
		if _, err := leecher.RenamePath(h, c.from, c.to); !errors.Is(err, c.want) {
			t.Errorf("RenamePath(%q, %q): %v, want %v", c.from, c.to, err, c.want)
		}
	}
	if _, err := leecher.RenameFile(h, 3, "x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("RenameFile of file 3 of 3: %v, want ErrInvalid", err)
	}

	d, err := leecher.RenamePath(h, "pack/sub", "Renamed/inner")
	if err != nil {
		t.Fatalf("RenamePath: %v", err)
	}
	var aIndex = -1
	for _, f := range d.Files {
		if filepath.ToSlash(f.Path) == "pack/a.bin" {
			aIndex = f.Index
		}
	}
	d, err = leecher.RenameFile(h, aIndex, "first/a.bin")
	if err != nil {
		t.Fatalf("RenameFile: %v", err)
	}
	if d.ContentPath != leechDir {
		t.Errorf("content path of files spread over two folders: %q, want %q", d.ContentPath, leechDir)
	}
	if d.Completed >= d.TotalSize || d.State != StateDownloading {
		t.Fatalf("renamed after the download (%d of %d, %s): the test proves nothing", d.Completed, d.TotalSize, d.State)
	}
	want := map[string]string{"first/a.bin": "a.bin", "Renamed/inner/b.bin": "sub/b.bin", "Renamed/inner/c.bin": "sub/c.bin"}
	for p := range want {
		if !filePaths(d)[p] {
			t.Errorf("files after the renames: %v, want %s", filePaths(d), p)
		}
	}
	zero := int64(0)
	if _, err := leecher.UpdateTorrent(h, TorrentUpdate{DownloadLimit: &zero}); err != nil {
		t.Fatal(err)
	}
	if !testutil.Eventually(60*time.Second, func() bool {
		d, err := leecher.Get(h)
		return err == nil && d.State == StateSeeding
	}) {
		d, err := leecher.Get(h)
		t.Fatalf("the download did not complete: %+v, %v", d, err)
	}
	for p, orig := range want {
		got, err := os.ReadFile(filepath.Join(leechDir, filepath.FromSlash(p)))
		if err != nil || !bytes.Equal(got, files[orig]) {
			t.Errorf("%s: %v, content equal: %v", p, err, bytes.Equal(got, files[orig]))
		}
	}
	if _, err := os.Stat(filepath.Join(leechDir, "pack")); !os.IsNotExist(err) {
		t.Errorf("the old folder is still there: %v", err)
	}

	// A display name is shown as name; original_name keeps the torrent's.
	name := "My pack"
	if s, err := leecher.UpdateTorrent(h, TorrentUpdate{Name: &name}); err != nil || s.Name != name || s.OriginalName != "pack" {
		t.Fatalf("display name: %+v, %v", s, err)
	}
	leecher.Close()

	// Change a byte of a renamed file, keeping its size and time: only a
	// hash would notice.
	p := filepath.Join(leechDir, "Renamed", "inner", "b.bin")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{files["sub/b.bin"][100] ^ 0xff}, 100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}

	leecher, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !testutil.Eventually(30*time.Second, func() bool {
		d, err := leecher.Get(h)
		return err == nil && d.State == StateSeeding
	}) {
		d, err := leecher.Get(h)
		t.Fatalf("the restarted torrent is not seeding: %+v, %v", d, err)
	}
	d, err = leecher.Get(h)
	if err != nil {
		t.Fatal(err)
	}
	for p := range want {
		if !filePaths(d)[p] {
			t.Errorf("files after a restart: %v, want %s", filePaths(d), p)
		}
	}
	if d.Completed != d.TotalSize {
		t.Errorf("after a restart %d of %d bytes verified: the resume data was not trusted", d.Completed, d.TotalSize)
	}
	if d.Name != name || d.OriginalName != "pack" {
		t.Errorf("after a restart name %q, original %q", d.Name, d.OriginalName)
	}
}

// TestRenameBeforeMetadataAndWhilePaused: a magnet without its metadata
// cannot rename files; a paused torrent renames its files on disk.
func TestRenameBeforeMetadataAndWhilePaused(t *testing.T) {
	s := newTestSession(t)
	st, err := s.Add(context.Background(), AddRequest{URI: "magnet:?xt=urn:btih:" + fmt.Sprintf("%040x", 7), Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RenameFile(st.InfoHash, 0, "x"); !errors.Is(err, ErrConflict) {
		t.Errorf("rename before the metadata: %v, want ErrConflict", err)
	}

	dir := t.TempDir()
	data, files := renamePayload(t, dir)
	st, err = s.Add(context.Background(), AddRequest{Torrent: data, DownloadDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "seeding", func() bool { d, _ := s.Get(st.InfoHash); return d.State == StateSeeding })
	if err := s.Pause(st.InfoHash); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Get(st.InfoHash); d.ContentPath != filepath.Join(dir, "pack") {
		t.Errorf("content path %q", d.ContentPath)
	}
	if d, err := s.RenamePath(st.InfoHash, "pack", "other"); err != nil || d.ContentPath != filepath.Join(dir, "other") {
		t.Fatalf("rename of the top folder: %v, content path %q", err, d.ContentPath)
	}
	got, err := os.ReadFile(filepath.Join(dir, "other", "sub", "c.bin"))
	if err != nil || !bytes.Equal(got, files["sub/c.bin"]) {
		t.Fatalf("renamed while paused: %v", err)
	}
	if err := s.Resume(st.InfoHash); err != nil {
		t.Fatal(err)
	}
	if err := s.Recheck(st.InfoHash); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "seeding after a recheck at the new paths", func() bool { d, _ := s.Get(st.InfoHash); return d.State == StateSeeding })
}
