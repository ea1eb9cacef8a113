package swarmtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
)

// TestStateChangedSignalsEachChange follows a download by the session's
// state-change signal alone, never polling: each state it passes through
// (checking, downloading, seeding) must close the channel taken before it,
// and a pause and a resume must too. `gobit download` ends on this signal.
func TestStateChangedSignalsEachChange(t *testing.T) {
	_, _, data, mi, root, dir := seedOne(t, 2<<20+777, 64<<10)
	hash := mi.InfoHash.String()

	leech := NewSession(t, filepath.Join(dir, "leech"))
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	// The state is read from List, which shows the last published
	// snapshot (Get would publish a fresh one itself).
	//
	// Take the channel, then read the state; unless the download is over,
	// the channel must close: at the next change, or at once if the state
	// changed between taking the channel and reading it.
	var seen []session.State
	for {
		ch, err := leech.StateChanged(hash)
		if err != nil {
			t.Fatal(err)
		}
		st := listed(t, leech, hash).State
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		if st == session.StateSeeding || st == session.StateError {
			break
		}
		select {
		case <-ch:
		case <-time.After(60 * time.Second):
			t.Fatalf("no state change signalled; still %s (states seen: %v)", st, seen)
		}
	}
	if seen[len(seen)-1] != session.StateSeeding {
		t.Fatalf("states seen: %v, want them to end in seeding", seen)
	}
	t.Logf("states seen: %v", seen)
	SameTree(t, filepath.Dir(root), filepath.Join(dir, "leech"))

	// A seeding torrent that does not change does not signal.
	ch, err := leech.StateChanged(hash)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatalf("signalled with the state unchanged (%s)", Status(t, leech, hash).State)
	case <-time.After(200 * time.Millisecond):
	}
	if err := leech.Pause(hash); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal("pause not signalled")
	}
	if st := Status(t, leech, hash).State; st != session.StatePaused {
		t.Fatalf("after pause: %s", st)
	}
	if _, err := leech.StateChanged("00"); err == nil {
		t.Error("StateChanged of an unknown torrent: no error")
	}
}

// listed returns the torrent's status as List shows it.
func listed(t *testing.T, s *session.Session, hash string) session.Status {
	t.Helper()
	for _, st := range s.List() {
		if st.InfoHash == hash {
			return st
		}
	}
	t.Fatalf("torrent %s not listed", hash)
	return session.Status{}
}
