package swarmtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// seedAndLeech starts a seeder (configured by adjust) for a single file of
// size bytes and returns the seeder, a fresh leecher, the torrent and the
// payload root.
func seedAndLeech(t *testing.T, size int, adjust func(*session.Config)) (seed, leech *session.Session, data []byte, hash, root string) {
	t.Helper()
	tr := trackertest.New(t)
	dir := t.TempDir()
	root = Payload(t, filepath.Join(dir, "seed"), "payload.bin", 7, map[string]int{"": size})
	data, mi := MakeTorrent(t, root, 256<<10, tr.HTTPURL())
	cfg := session.Config{DownloadDir: filepath.Join(dir, "seed")}
	if adjust != nil {
		adjust(&cfg)
	}
	seed = NewSessionWith(t, cfg)
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	hash = mi.InfoHash.String()
	WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)
	leech = NewSession(t, filepath.Join(dir, "leech"))
	return seed, leech, data, hash, root
}

func TestUploadRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 8 s")
	}
	const limit = 2 << 20
	const size = 16 << 20
	_, leech, data, hash, root := seedAndLeech(t, size, func(c *session.Config) { c.UploadLimit = limit })
	start := time.Now()
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, hash, 60*time.Second, session.StateSeeding)
	elapsed := time.Since(start)
	rate := float64(size) / elapsed.Seconds()
	t.Logf("16 MiB at a 2 MiB/s upload limit: %.2fs, %.2f MiB/s", elapsed.Seconds(), rate/(1<<20))
	if elapsed < 7*time.Second {
		t.Errorf("transfer took %v, want >= 7s under a 2 MiB/s limit", elapsed)
	}
	if rate < 0.8*limit || rate > 1.2*limit {
		t.Errorf("measured rate %.0f B/s, want within 20%% of %d", rate, limit)
	}
	SameTree(t, filepath.Dir(root), filepath.Join(filepath.Dir(filepath.Dir(root)), "leech"))
}

func TestRateLimitChangedAtRunTime(t *testing.T) {
	const size = 8 << 20
	seed, leech, data, hash, _ := seedAndLeech(t, size, func(c *session.Config) { c.UploadLimit = 256 << 10 })
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	// At 256 KiB/s this would take 32 s; lift the limit after a moment. A
	// sleep: the test measures a real transfer over real sockets, which
	// synctest's clock cannot drive.
	time.Sleep(time.Second)
	st, _ := leech.Get(hash)
	if st.Progress > 0.5 {
		t.Fatalf("limit not in effect: progress %.2f after 1s", st.Progress)
	}
	zero := int64(0)
	if _, err := seed.UpdateSettings(session.SettingsUpdate{UploadLimit: &zero}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	WaitState(t, leech, hash, 20*time.Second, session.StateSeeding)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("after lifting the limit the rest took %v", d)
	}
}

func TestPerTorrentDownloadLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 4 s")
	}
	const size = 4 << 20
	_, leech, data, hash, _ := seedAndLeech(t, size, nil)
	st, err := leech.Add(context.Background(), session.AddRequest{Torrent: data, Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(1 << 20)
	if _, err := leech.UpdateTorrent(st.InfoHash, session.TorrentUpdate{DownloadLimit: &limit}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := leech.Resume(hash); err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	if d := time.Since(start); d < 3*time.Second {
		t.Errorf("4 MiB at a 1 MiB/s download limit took only %v", d)
	}
}

func TestRatioLimitStopsSeeding(t *testing.T) {
	seed, leech, data, hash, _ := seedAndLeech(t, 1<<20, func(c *session.Config) { c.RatioLimit = 1.0 })
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	// The seeder uploaded the whole torrent once: ratio 1 reached.
	st := WaitState(t, seed, hash, 10*time.Second, session.StatePaused)
	if !st.Finished || st.Ratio < 1.0 {
		t.Fatalf("seeder paused without reaching its ratio: %+v", st)
	}
}

func TestSeedTimeLimitPerTorrent(t *testing.T) {
	seed, _, _, hash, _ := seedAndLeech(t, 64<<10, nil)
	one := int64(1)
	if _, err := seed.UpdateTorrent(hash, session.TorrentUpdate{SeedTimeLimit: &one}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, seed, hash, 10*time.Second, session.StatePaused)
	if !st.Finished {
		t.Fatalf("paused but not marked finished: %+v", st)
	}
}
