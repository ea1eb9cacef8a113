// Package swarmtest runs in-process swarms on loopback for tests: gobit
// sessions as seeders and leechers around an in-process tracker, with
// helpers to create payloads and compare downloaded files.
//
// It is imported only from tests.
package swarmtest

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/tracker"
)

// Payload writes deterministic pseudo-random files under dir/name and
// returns that root. sizes maps relative paths to sizes; a single entry with
// an empty path makes a single-file payload dir/name.
func Payload(t testing.TB, dir, name string, seed uint64, sizes map[string]int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	root := filepath.Join(dir, name)
	for rel, n := range sizes {
		p := root
		if rel != "" {
			p = filepath.Join(root, rel)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// MakeTorrent builds a .torrent for path with the given trackers.
func MakeTorrent(t testing.TB, path string, pieceLength int64, trackers ...string) ([]byte, *metainfo.MetaInfo) {
	t.Helper()
	var tiers [][]string
	for _, tr := range trackers {
		tiers = append(tiers, []string{tr})
	}
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: path, PieceLength: pieceLength, Trackers: tiers, CreatedBy: "gobit tests"})
	if err != nil {
		t.Fatal(err)
	}
	return data, mi
}

// Logger returns a logger writing to the test log at the given level when
// GOBIT_TEST_LOG is set, and a discarding logger otherwise.
func Logger(t testing.TB) *slog.Logger {
	if os.Getenv("GOBIT_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// NewSession starts a gobit session listening on 127.0.0.1 with a free port,
// announcing often, saving into dir. It is closed at test cleanup.
func NewSession(t testing.TB, dir string) *session.Session {
	t.Helper()
	s, err := session.New(session.Config{
		DownloadDir:         dir,
		ListenAddr:          "127.0.0.1",
		Port:                0,
		AnnounceMinInterval: time.Second,
		Tracker:             tracker.ClientConfig{UDPTimeout: time.Second, UDPMaxRetries: 2},
		Logger:              Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// WaitState polls until the torrent reaches one of the states or the timeout
// passes, and returns the last status.
func WaitState(t testing.TB, s *session.Session, infoHash string, timeout time.Duration, states ...session.State) session.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last session.Status
	for {
		d, err := s.Get(infoHash)
		if err != nil {
			t.Fatalf("get %s: %v", infoHash, err)
		}
		last = d.Status
		for _, st := range states {
			if last.State == st {
				return last
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("torrent %s: still %q (progress %.3f, peers %d, err %q) after %v; wanted %v",
				infoHash, last.State, last.Progress, last.Peers, last.Error, timeout, states)
			return last
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SameTree fails the test unless every regular file under want exists under
// got with identical contents (and got has no extra files).
func SameTree(t testing.TB, want, got string) {
	t.Helper()
	count := 0
	err := filepath.WalkDir(want, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		a, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil {
			t.Errorf("missing %s: %v", rel, err)
			return nil
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs (%d vs %d bytes)", rel, len(a), len(b))
		}
		count++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	extra := 0
	filepath.WalkDir(got, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			extra++
		}
		return nil
	})
	if extra != count {
		t.Errorf("%s has %d files, %s has %d", got, extra, want, count)
	}
}
