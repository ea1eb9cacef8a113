package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRelativeDirsRefused checks that neither Add nor Move resolves a
// relative directory against the working directory: both refuse it with
// ErrInvalid and create nothing.
func TestRelativeDirsRefused(t *testing.T) {
	s := newTestSession(t)
	data, _ := makeTorrent(t)
	wd := t.TempDir()
	t.Chdir(wd)

	for _, dir := range []string{"rel", "./rel", "../rel", "~/rel", "rel/../../x"} {
		_, err := s.Add(context.Background(), AddRequest{Torrent: data, DownloadDir: dir})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "absolute") {
			t.Errorf("Add with download dir %q: err %v, want ErrInvalid saying absolute", dir, err)
		}
	}
	if n := len(s.List()); n != 0 {
		t.Fatalf("refused adds left %d torrents", n)
	}

	st, err := s.Add(context.Background(), AddRequest{Torrent: data})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"moved", "./moved", "../moved"} {
		if err := s.Move(st.InfoHash, dir); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "absolute") {
			t.Errorf("Move to %q: err %v, want ErrInvalid saying absolute", dir, err)
		}
	}
	d, err := s.Get(st.InfoHash)
	if err != nil {
		t.Fatal(err)
	}
	if d.SaveDir != s.cfg.DownloadDir {
		t.Errorf("save dir after refused moves = %q, want %q", d.SaveDir, s.cfg.DownloadDir)
	}
	if ents, err := os.ReadDir(wd); err != nil || len(ents) != 0 {
		t.Errorf("working directory got entries %v (%v); nothing may be created there", ents, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(wd), "rel")); err == nil {
		t.Errorf("a directory was created next to the working directory")
	}
}

// TestDefaultDownloadDirIsAbsolute checks that a relative Config.DownloadDir
// is fixed when the session starts, not resolved again at each add.
func TestDefaultDownloadDirIsAbsolute(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	s, err := New(Config{DownloadDir: "dl", Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := filepath.Join(wd, "dl"); s.cfg.DownloadDir != want {
		t.Fatalf("DownloadDir = %q, want %q", s.cfg.DownloadDir, want)
	}
}
