package session

import (
	"errors"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

func TestSetLocationAndReannounce(t *testing.T) {
	s, err := New(Config{DownloadDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data, hash := testutil.BigTorrent(t, "reloc", 4)
	if _, err := s.Add(t.Context(), AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLocation(hash, "relative/dir"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("relative directory: %v, want ErrInvalid", err)
	}
	testutil.WaitFor(t, 10*time.Second, "the first check", func() bool {
		d, err := s.Get(hash)
		return err == nil && d.State == StateDownloading
	})
	dir := t.TempDir()
	if err := s.SetLocation(hash, dir); err != nil {
		t.Fatal(err)
	}
	d, err := s.Get(hash)
	if err != nil || d.SaveDir != dir {
		t.Fatalf("save dir %q (%v), want %q", d.SaveDir, err, dir)
	}
	if err := s.Reannounce(hash); !errors.Is(err, ErrConflict) {
		t.Fatalf("reannounce of a torrent without trackers: %v, want ErrConflict", err)
	}
	if err := s.SetLocation("00"+hash[2:], dir); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown torrent: %v", err)
	}
}
