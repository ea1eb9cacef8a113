package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/testutil"
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

// TestRestartLogsChecksOnce restarts a session with torrents whose data
// is on disk: the log sums their checks up in one info line (each
// torrent's own line is at debug level), and a batch add logs one line
// for the batch, not one per torrent.
func TestRestartLogsChecksOnce(t *testing.T) {
	const n = 60
	dl := t.TempDir()
	reqs := make([]AddRequest, n)
	for i := range reqs {
		p := filepath.Join(dl, fmt.Sprintf("logged-%02d.bin", i))
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte(i)}, 20000+i), 0o644); err != nil {
			t.Fatal(err)
		}
		data, _, err := metainfo.Create(metainfo.CreateOptions{Path: p})
		if err != nil {
			t.Fatal(err)
		}
		reqs[i] = AddRequest{Torrent: data}
	}
	logs := &syncLog{}
	cfg := Config{DownloadDir: dl, DataDir: t.TempDir(), Port: -1, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	allSeeding := func(s *Session) func() bool {
		return func() bool {
			l := s.List()
			for _, st := range l {
				if st.State != StateSeeding {
					return false
				}
			}
			return len(l) == n
		}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, errs := s.AddMany(context.Background(), reqs); errors.Join(errs...) != nil {
		t.Fatal(errors.Join(errs...))
	}
	testutil.WaitFor(t, 30*time.Second, "the added torrents to seed", allSeeding(s))
	s.Close()
	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "the restored torrents to seed", allSeeding(s))
	s.Close() // writes the summary still gathering

	var added, checkLines, checked int
	for line := range strings.Lines(logs.String()) {
		switch {
		case strings.Contains(line, "msg=\"torrent added\""):
			added++
		case strings.Contains(line, "msg=\"torrents added\""):
			if !strings.Contains(line, fmt.Sprintf("count=%d", n)) {
				t.Errorf("batch line %q: want count=%d", line, n)
			}
		case strings.Contains(line, "msg=\"data checked\""):
			checkLines++
			k, c := 1, 1 // a lone check's line names its torrent
			if i := strings.Index(line, "torrents="); i >= 0 {
				if _, err := fmt.Sscanf(line[i:], "torrents=%d complete=%d", &k, &c); err != nil {
					t.Errorf("summary line %q: %v", line, err)
				}
			}
			if k != c {
				t.Errorf("summary line %q: want every torrent complete", line)
			}
			checked += k
		}
	}
	if added != 0 {
		t.Errorf("%d info lines \"torrent added\" for a batch add and a restart, want 0", added)
	}
	// Two starts of 60 torrents each: a line or two each (the window may
	// split one start's checks), never one per torrent.
	if checkLines == 0 || checkLines > 4 || checked != 2*n {
		t.Errorf("%d \"data checked\" lines summing %d checks, want 1 to 4 lines summing %d:\n%s", checkLines, checked, 2*n, logs.String())
	}
}

// TestBatchAddHoldsNoDescriptors: torrents added together with their data
// on disk close the files their checks opened as soon as the checks end,
// not when they idle: thousands added at once would otherwise hold two
// descriptors each (the save directory and the file) and run the daemon
// out of them.
func TestBatchAddHoldsNoDescriptors(t *testing.T) {
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skipf("cannot count descriptors: %v", err)
		}
		return len(ents)
	}
	const n = 200
	dl := t.TempDir()
	reqs := make([]AddRequest, n)
	for i := range reqs {
		p := filepath.Join(dl, fmt.Sprintf("fd-%03d.bin", i))
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte(i)}, 20000), 0o644); err != nil {
			t.Fatal(err)
		}
		data, _, err := metainfo.Create(metainfo.CreateOptions{Path: p})
		if err != nil {
			t.Fatal(err)
		}
		reqs[i] = AddRequest{Torrent: data}
	}
	// HandleIdle far away: only the end of the checks may close them.
	s, err := New(Config{DownloadDir: dl, DataDir: t.TempDir(), Port: -1, HandleIdle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := fds()
	start := time.Now()
	if _, errs := s.AddMany(context.Background(), reqs); errors.Join(errs...) != nil {
		t.Fatal(errors.Join(errs...))
	}
	testutil.WaitFor(t, 60*time.Second, "every torrent to seed", func() bool {
		for _, st := range s.List() {
			if st.State != StateSeeding {
				return false
			}
		}
		return true
	})
	now := fds()
	if time.Since(start) > 5*time.Second {
		t.Skip("the checks took longer than a torrent takes to park (which closes its files too)")
	}
	if now > before+n/4 {
		t.Errorf("%d descriptors open after checking %d torrents, %d before", now, n, before)
	}
}
