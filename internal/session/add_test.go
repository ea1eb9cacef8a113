package session

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestAddManyOneCommit checks that a batch of adds saves every record in
// one store commit, fails bad and duplicate requests alone, in their
// places, and that the torrents come back after a restart.
func TestAddManyOneCommit(t *testing.T) {
	cfg := Config{DownloadDir: t.TempDir(), DataDir: t.TempDir(), Port: -1}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	const n = 200
	reqs := make([]AddRequest, 0, n+2)
	for i := range n {
		reqs = append(reqs, AddRequest{Torrent: makeNamedTorrent(t, fmt.Sprintf("batch-%03d.bin", i)), Paused: i%2 == 0})
	}
	reqs = append(reqs, AddRequest{Torrent: []byte("not a torrent")}, AddRequest{Torrent: reqs[5].Torrent})
	before := s.db.Commits()
	sts, errs := s.AddMany(context.Background(), reqs)
	if got := s.db.Commits() - before; got != 1 {
		t.Errorf("AddMany of %d torrents took %d store commits, want 1", n, got)
	}
	for i := range n {
		if errs[i] != nil || sts[i].InfoHash == "" {
			t.Fatalf("request %d: %+v, %v", i, sts[i], errs[i])
		}
		if want := i%2 == 0; (sts[i].State == StatePaused) != want {
			t.Errorf("request %d: state %s, paused %v", i, sts[i].State, want)
		}
	}
	if !errors.Is(errs[n], ErrInvalid) {
		t.Errorf("garbage: err %v, want ErrInvalid", errs[n])
	}
	if !errors.Is(errs[n+1], ErrExists) {
		t.Errorf("duplicate in the batch: err %v, want ErrExists", errs[n+1])
	}
	if got := len(s.List()); got != n {
		t.Fatalf("listed %d torrents, want %d", got, n)
	}
	// Adding them again: each is refused, nothing is written.
	before = s.db.Commits()
	_, errs = s.AddMany(context.Background(), reqs[:n])
	for i, err := range errs {
		if !errors.Is(err, ErrExists) {
			t.Fatalf("second add of %d: err %v, want ErrExists", i, err)
		}
	}
	if got := s.db.Commits() - before; got != 0 {
		t.Errorf("a batch of duplicates took %d commits, want 0", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := len(s2.List()); got != n {
		t.Fatalf("after a restart %d torrents, want %d", got, n)
	}
}
