// Package swarmtest runs in-process swarms on loopback for tests: gobit
// sessions as seeders and leechers around an in-process tracker, with
// helpers to create payloads and compare downloaded files.
//
// The helpers are grouped by purpose: sessions.go builds sessions and reads
// their status, wait.go waits for a torrent's state, files.go makes
// payloads and torrents and compares trees, rawpeer.go dials a hand-driven
// peer connection, fakeseeder.go runs hand-driven listening peers (a crafted
// seeder) and announces them. Waiting on any other condition uses
// testutil.WaitFor.
//
// It is imported only from tests.
package swarmtest

import (
	"bytes"
	"log/slog"
	"os"
	"testing"
)

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
