package swarmtest

import (
	"slices"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// WaitState waits until the torrent reaches one of the states and returns
// its status then. If timeout passes first it fails the test showing the
// last status seen (state, progress, peers, error).
func WaitState(t testing.TB, s *session.Session, infoHash string, timeout time.Duration, states ...session.State) session.Status {
	t.Helper()
	var last session.Status
	if testutil.Eventually(timeout, func() bool {
		last = Status(t, s, infoHash)
		return slices.Contains(states, last.State)
	}) {
		return last
	}
	t.Fatalf("torrent %s: still %q (progress %.3f, peers %d, err %q) after %v; wanted %v",
		infoHash, last.State, last.Progress, last.Peers, last.Error, timeout, states)
	return last
}
