package swarmtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// TestRestartResumes: a daemon downloads part of a torrent, stops cleanly,
// starts again from its data directory, and completes without fetching the
// verified part again.
func TestRestartResumes(t *testing.T) {
	const size = 8 << 20
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "resume.bin", 11, map[string]int{"": size})
	data, mi := MakeTorrent(t, root, 256<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), UploadLimit: 4 << 20})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)

	cfg := session.Config{DownloadDir: filepath.Join(dir, "leech"), DataDir: filepath.Join(dir, "state")}
	leech := NewSessionWith(t, cfg)
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "half the download", func() bool {
		st, _ := leech.Get(hash)
		return st.Progress >= 0.4
	})
	if err := leech.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := leech.Get(hash)
	if before.Progress >= 1 {
		t.Skip("download finished before the restart; nothing to resume")
	}

	leech2 := NewSessionWith(t, cfg)
	list := leech2.List()
	if len(list) != 1 || list[0].InfoHash != hash {
		t.Fatalf("after restart the session has %v, want the torrent back", list)
	}
	st := WaitState(t, leech2, hash, 60*time.Second, session.StateSeeding)
	t.Logf("progress at restart %.2f; all-time downloaded %d of %d", before.Progress, st.Downloaded, size)
	if st.Downloaded > size+size/8 {
		t.Errorf("downloaded %d bytes in all for a %d-byte torrent: the verified part was fetched again", st.Downloaded, size)
	}
	if st.Downloaded < size/2 {
		t.Errorf("all-time downloaded %d: totals were not carried over", st.Downloaded)
	}
	SameTree(t, filepath.Dir(root), filepath.Join(dir, "leech"))

	// Removing forgets it: a third start has no torrents.
	if err := leech2.Remove(hash, false); err != nil {
		t.Fatal(err)
	}
	leech2.Close()
	leech3 := NewSessionWith(t, cfg)
	if n := len(leech3.List()); n != 0 {
		t.Fatalf("removed torrent came back: %d torrents", n)
	}
}

// TestRestartKeepsPausedAndLimits: paused state and limits survive.
func TestRestartKeepsPausedAndLimits(t *testing.T) {
	dir := t.TempDir()
	root := Payload(t, dir, "p.bin", 3, map[string]int{"": 100000})
	data, mi := MakeTorrent(t, root, 16<<10)
	cfg := session.Config{DownloadDir: dir, DataDir: filepath.Join(dir, "state"), Port: -1}
	s1 := NewSessionWith(t, cfg)
	if _, err := s1.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	hash := mi.InfoHash.String()
	WaitState(t, s1, hash, 10*time.Second, session.StateSeeding)
	up := int64(12345)
	ratio := 2.5
	if _, err := s1.UpdateTorrent(hash, session.TorrentUpdate{UploadLimit: &up, RatioLimit: &ratio}); err != nil {
		t.Fatal(err)
	}
	if err := s1.Pause(hash); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	s2 := NewSessionWith(t, cfg)
	st := WaitState(t, s2, hash, 10*time.Second, session.StatePaused)
	if st.UploadLimit != up || st.RatioLimit != ratio {
		t.Fatalf("limits lost: %+v", st)
	}
	if err := s2.Resume(hash); err != nil {
		t.Fatal(err)
	}
	WaitState(t, s2, hash, 10*time.Second, session.StateSeeding)
}

// TestSettingsAndCorruptDatabase: session settings changed through the API
// survive a restart; a database that is garbage is moved aside with a
// warning and the session starts afresh instead of failing or losing it.
func TestSettingsAndCorruptDatabase(t *testing.T) {
	dir := t.TempDir()
	cfg := session.Config{DownloadDir: dir, DataDir: filepath.Join(dir, "state"), Port: -1}
	s1 := NewSessionWith(t, cfg)
	up, ratio := int64(1<<20), 3.0
	if _, err := s1.UpdateSettings(session.SettingsUpdate{UploadLimit: &up, RatioLimit: &ratio}); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	s2 := NewSessionWith(t, cfg)
	if st := s2.Settings(); st.UploadLimit != up || st.RatioLimit != ratio {
		t.Fatalf("settings after restart: %+v", st)
	}
	s2.Close()

	db := filepath.Join(cfg.DataDir, "gobit.db")
	if err := os.WriteFile(db, []byte("this is not a database, it is a sentence of exactly sixty-four bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	s3 := NewSessionWith(t, cfg)
	if n := len(s3.List()); n != 0 {
		t.Fatalf("fresh session has %d torrents", n)
	}
	matches, _ := filepath.Glob(db + ".corrupt-*")
	if len(matches) != 1 {
		t.Fatalf("corrupt database not moved aside: %v", matches)
	}
	if b, _ := os.ReadFile(matches[0]); !strings.HasPrefix(string(b), "this is not a database") {
		t.Fatal("moved-aside file lost its contents")
	}
}
