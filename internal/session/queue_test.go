package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
)

func TestQueuePolicy(t *testing.T) {
	dl := queueItem{Wants: true}
	seed := queueItem{Wants: true, Seeding: true}
	tests := []struct {
		name  string
		items []queueItem
		lim   QueueLimits
		want  []bool
	}{
		{"unlimited runs every wanted torrent", []queueItem{dl, seed, {}, dl}, QueueLimits{}, []bool{true, true, false, true}},
		{"download limit in queue order", []queueItem{dl, dl, dl}, QueueLimits{Downloads: 2}, []bool{true, true, false}},
		{"seed limit apart from downloads", []queueItem{seed, dl, seed, dl}, QueueLimits{Downloads: 1, Seeds: 1}, []bool{true, true, false, false}},
		{"active limit over both", []queueItem{seed, dl, dl}, QueueLimits{Active: 2}, []bool{true, true, false}},
		{"active limit with kind limits", []queueItem{dl, seed, seed, dl}, QueueLimits{Downloads: 2, Seeds: 2, Active: 3}, []bool{true, true, true, false}},
		{"paused torrents take no slot", []queueItem{{}, {Seeding: true}, dl}, QueueLimits{Downloads: 1, Active: 1}, []bool{false, false, true}},
		{"forced runs past the limit, holds no slot", []queueItem{{Wants: true, Forced: true}, dl, dl}, QueueLimits{Downloads: 1}, []bool{true, true, false}},
		{"forced but paused stays stopped", []queueItem{{Forced: true}, dl}, QueueLimits{Downloads: 1}, []bool{false, true}},
		{"stalled torrent frees its slot", []queueItem{{Wants: true, Stalled: true}, dl, dl}, QueueLimits{Downloads: 1}, []bool{true, true, false}},
		{"checking holds no slot", []queueItem{{Wants: true, Checking: true}, seed}, QueueLimits{Active: 1}, []bool{true, true}},
		{"zero limits everywhere", []queueItem{dl, seed}, QueueLimits{Downloads: 0, Seeds: 0, Active: 0}, []bool{true, true}},
		{"empty", nil, QueueLimits{Active: 1}, []bool{}},
	}
	for _, tt := range tests {
		got := queuePolicy(tt.items, tt.lim)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMoveInOrder(t *testing.T) {
	a, b, c := metainfo.Hash{1}, metainfo.Hash{2}, metainfo.Hash{3}
	tests := []struct {
		h    metainfo.Hash
		move QueueMove
		want []metainfo.Hash
	}{
		{c, QueueTop, []metainfo.Hash{c, a, b}},
		{a, QueueBottom, []metainfo.Hash{b, c, a}},
		{b, QueueUp, []metainfo.Hash{b, a, c}},
		{a, QueueUp, []metainfo.Hash{a, b, c}},
		{b, QueueDown, []metainfo.Hash{a, c, b}},
		{c, QueueDown, []metainfo.Hash{a, b, c}},
		{metainfo.Hash{9}, QueueTop, []metainfo.Hash{a, b, c}},
	}
	for _, tt := range tests {
		got := moveInOrder([]metainfo.Hash{a, b, c}, tt.h, tt.move)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%x %s: got %x, want %x", tt.h[:1], tt.move, got, tt.want)
		}
	}
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// states returns each torrent's state, in queue order, by name.
func states(s *Session) map[string]State {
	out := map[string]State{}
	for _, st := range s.List() {
		out[st.Name] = st.State
	}
	return out
}

func TestQueueLimitsMovesAndForceStart(t *testing.T) {
	cfg := Config{
		DownloadDir: t.TempDir(), DataDir: t.TempDir(), Port: -1,
		MaxActiveDownloads: 1, QueueInterval: 20 * time.Millisecond, StallTimeout: time.Hour,
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	ctx := context.Background()
	var hashes []string
	for _, n := range []string{"q1", "q2", "q3"} {
		st, err := s.Add(ctx, AddRequest{Torrent: makeNamedTorrent(t, n)})
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, st.InfoHash)
	}
	waitFor(t, "one download running, two queued", func() bool {
		m := states(s)
		return m["q1"] == StateDownloading && m["q2"] == StateQueued && m["q3"] == StateQueued
	})

	// q3 to the top: it runs, q1 waits.
	if err := s.MoveInQueue(hashes[2], QueueTop); err != nil {
		t.Fatal(err)
	}
	if err := s.MoveInQueue(hashes[2], "sideways"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad move: %v", err)
	}
	waitFor(t, "q3 running after moving to the top", func() bool {
		m := states(s)
		return m["q3"] == StateDownloading && m["q1"] == StateQueued
	})
	if l := s.List(); l[0].Name != "q3" || l[0].QueuePosition != 1 || l[2].QueuePosition != 3 {
		t.Errorf("queue order: %s@%d %s@%d", l[0].Name, l[0].QueuePosition, l[2].Name, l[2].QueuePosition)
	}

	// Force start bypasses the limit.
	if err := s.ForceStart(hashes[1]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "forced q2 running", func() bool { return states(s)["q2"] == StateDownloading })
	if d, _ := s.Get(hashes[1]); !d.Forced {
		t.Error("force-started torrent not shown forced")
	}
	time.Sleep(100 * time.Millisecond) // several ticks: the queue must leave it running
	if m := states(s); m["q2"] != StateDownloading || m["q3"] != StateDownloading || m["q1"] != StateQueued {
		t.Fatalf("after force start: %v", m)
	}

	// A user's pause is a pause, not a queue wait, and frees the slot.
	if err := s.Pause(hashes[2]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "q1 takes the freed slot", func() bool {
		m := states(s)
		return m["q3"] == StatePaused && m["q1"] == StateDownloading
	})

	// A resumed torrent waits for a slot rather than exceed the limit.
	if err := s.Resume(hashes[2]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "resumed q3 back at the top, q1 queued", func() bool {
		m := states(s)
		return m["q3"] == StateDownloading && m["q1"] == StateQueued
	})

	// Order, forced and queued state survive a restart.
	s.Close()
	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range s.List() {
		names = append(names, st.Name)
		if st.Forced != (st.Name == "q2") {
			t.Errorf("%s: forced %v after restart", st.Name, st.Forced)
		}
	}
	if strings.Join(names, ",") != "q3,q1,q2" {
		t.Errorf("queue after restart: %v", names)
	}
	waitFor(t, "the same torrents running after a restart", func() bool {
		m := states(s)
		return m["q3"] == StateDownloading && m["q2"] == StateDownloading && m["q1"] == StateQueued
	})

	// Raising the limit through the settings starts the queued one.
	unlimited := int64(0)
	if _, err := s.UpdateSettings(SettingsUpdate{MaxActiveDownloads: &unlimited}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "everything running without limits", func() bool { return states(s)["q1"] == StateDownloading })
	bad := int64(-1)
	if _, err := s.UpdateSettings(SettingsUpdate{MaxActive: &bad}); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative limit: %v", err)
	}
	// Limits set through the API outlive a restart, over the flags'.
	s.Close()
	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if set := s.Settings(); set.MaxActiveDownloads != 0 {
		t.Errorf("after a restart: max_active_downloads %d, want the saved 0", set.MaxActiveDownloads)
	}
}

func TestStalledTorrentFreesSlot(t *testing.T) {
	s, err := New(Config{
		DownloadDir: t.TempDir(), Port: -1,
		MaxActiveDownloads: 1, QueueInterval: 20 * time.Millisecond, StallTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []string{"s1", "s2"} {
		if _, err := s.Add(context.Background(), AddRequest{Torrent: makeNamedTorrent(t, n)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "s2 queued behind s1", func() bool { return states(s)["s2"] == StateQueued })
	// No peers: s1 moves no payload, stalls, and stops holding the slot.
	waitFor(t, "s2 started once s1 stalled", func() bool {
		m := states(s)
		return m["s1"] == StateDownloading && m["s2"] == StateDownloading
	})
}

func TestSeedLimit(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Config{
		DownloadDir: dir, Port: -1,
		MaxActiveSeeds: 1, QueueInterval: 20 * time.Millisecond, StallTimeout: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Two complete torrents: their data is already in the download dir.
	for _, n := range []string{"seed1", "seed2"} {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte(strings.Repeat(n, 3000)), 0o644); err != nil {
			t.Fatal(err)
		}
		data, _, err := metainfo.Create(metainfo.CreateOptions{Path: p})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Add(context.Background(), AddRequest{Torrent: data}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "one seeding, one queued", func() bool {
		m := states(s)
		return m["seed1"] == StateSeeding && m["seed2"] == StateQueued
	})
}

// TestResumeFinishedTorrentWithQueueLimits: a torrent stopped by a seeding
// limit resumes when asked, with queue limits set (the queue must not keep
// it waiting for a mark only the torrent's own resume clears).
func TestResumeFinishedTorrentWithQueueLimits(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Config{
		DownloadDir: dir, Port: -1, SeedTimeLimit: time.Second,
		MaxActiveSeeds: 3, QueueInterval: 20 * time.Millisecond, StallTimeout: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := filepath.Join(dir, "fin")
	if err := os.WriteFile(p, []byte(strings.Repeat("fin", 3000)), 0o644); err != nil {
		t.Fatal(err)
	}
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(context.Background(), AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	h := mi.InfoHash.String()
	waitFor(t, "seeding stopped by the seed time limit", func() bool {
		d, _ := s.Get(h)
		return d.Finished && d.State == StatePaused
	})
	none := int64(0)
	if _, err := s.UpdateSettings(SettingsUpdate{SeedTimeLimit: &none}); err != nil {
		t.Fatal(err)
	}
	if err := s.Resume(h); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "seeding again", func() bool { d, _ := s.Get(h); return d.State == StateSeeding })
}

// TestQueueTickIdleWithoutLimits: while no queue limit was ever set,
// nothing can be queued and the tick looks at no torrent; once a limit is
// set it does its bookkeeping again.
func TestQueueTickIdleWithoutLimits(t *testing.T) {
	s := newTestSession(t)
	st, err := s.Add(context.Background(), AddRequest{URI: "magnet:?xt=urn:btih:" + strings.Repeat("ab", 20) + "&dn=q"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.lookup(st.InfoHash)
	if err != nil {
		t.Fatal(err)
	}
	lastActive := func() time.Time {
		s.mu.Lock()
		defer s.mu.Unlock()
		return e.q.lastActive
	}
	s.queueTick(time.Now())
	if !lastActive().IsZero() {
		t.Error("the tick looked at a torrent with no queue limit ever set")
	}
	one := int64(1)
	if _, err := s.UpdateSettings(SettingsUpdate{MaxActive: &one}); err != nil {
		t.Fatal(err)
	}
	s.queueTick(time.Now())
	if lastActive().IsZero() {
		t.Error("the tick skipped its bookkeeping with a limit set")
	}
}
