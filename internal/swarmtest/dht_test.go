package swarmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// TestDHTOnlyMagnet: a magnet with no tracker and no peers completes
// between gobit sessions that find each other through the DHT alone.
func TestDHTOnlyMagnet(t *testing.T) {
	dir := t.TempDir()
	boot := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "boot"), DHT: true})
	bootAddr := []string{fmt.Sprintf("127.0.0.1:%d", boot.Port())}

	root := Payload(t, filepath.Join(dir, "seed"), "dht.bin", 61, map[string]int{"": 1 << 20})
	data, mi := MakeTorrent(t, root, 64<<10)
	hash := mi.InfoHash.String()
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), DHT: true, DHTBootstrap: bootAddr})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 10*time.Second, session.StateSeeding)
	// The seeder's announce reaches the bootstrap node in the background;
	// a leecher asking before it finds nobody and asks again later
	// (dhtRetryEmpty), so waiting here keeps the test short.
	testutil.WaitFor(t, 30*time.Second, "the seeder's DHT announce", func() bool {
		st, ok := boot.DHTStats()
		return ok && st.PeersStored > 0
	})

	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), DHT: true, DHTBootstrap: bootAddr})
	magnet := metainfo.Magnet{InfoHash: mi.InfoHash}
	if _, err := leech.Add(context.Background(), session.AddRequest{URI: magnet.String()}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, hash, 45*time.Second, session.StateSeeding)
	SameTree(t, filepath.Dir(root), filepath.Join(dir, "leech"))

	st, ok := leech.DHTStats()
	if !ok || st.Nodes == 0 || st.QueriesOut == 0 {
		t.Fatalf("DHT stats after the download: %+v (ok=%v)", st, ok)
	}
	// GET /api/v1/dht reports the same node.
	srv := httptest.NewServer(api.NewHandler(leech, api.Options{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/dht")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		ID    string `json:"id"`
		Nodes int    `json:"nodes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 || got.ID != st.ID {
		t.Fatalf("GET /api/v1/dht: %d %+v %v", resp.StatusCode, got, err)
	}
}

// TestDHTOffForPrivateTorrents: a private torrent is never announced to the
// DHT, so a leecher that only has the DHT cannot find it.
func TestDHTOffForPrivateTorrents(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a DHT lookup that must fail")
	}
	dir := t.TempDir()
	boot := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "boot"), DHT: true})
	bootAddr := []string{fmt.Sprintf("127.0.0.1:%d", boot.Port())}
	root := Payload(t, filepath.Join(dir, "seed"), "p.bin", 62, map[string]int{"": 128 << 10})
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: root, PieceLength: 32 << 10, Private: true})
	if err != nil {
		t.Fatal(err)
	}
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), DHT: true, DHTBootstrap: bootAddr})
	seed.Add(context.Background(), session.AddRequest{Torrent: data})
	WaitState(t, seed, mi.InfoHash.String(), 10*time.Second, session.StateSeeding)
	// A sleep: the test checks that an announce never happens, and nothing
	// signals an announce not made; a public torrent is announced within
	// this time (TestDHTFindsSeeder).
	time.Sleep(6 * time.Second)
	if st, _ := boot.DHTStats(); st.AnnouncesStored != 0 {
		t.Fatalf("private torrent announced to the DHT: %+v", st)
	}
}

// TestDHTTableSurvivesRestart: the node ID and the routing table are saved
// in the data directory; a restart without any bootstrap node gets its
// nodes back from there.
func TestDHTTableSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	boot := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "boot"), DHT: true})
	cfg := session.Config{DownloadDir: filepath.Join(dir, "a"), DataDir: filepath.Join(dir, "state"), DHT: true,
		DHTBootstrap: []string{fmt.Sprintf("127.0.0.1:%d", boot.Port())}}
	a := NewSessionWith(t, cfg)
	testutil.WaitFor(t, 10*time.Second, "bootstrap", func() bool {
		st, _ := a.DHTStats()
		return st.GoodNodes > 0
	})
	before, _ := a.DHTStats()
	a.Close()

	cfg.DHTBootstrap = nil
	a2 := NewSessionWith(t, cfg)
	testutil.WaitFor(t, 10*time.Second, "saved nodes back in the table", func() bool {
		st, _ := a2.DHTStats()
		return st.Nodes > 0
	})
	after, _ := a2.DHTStats()
	if after.ID != before.ID {
		t.Errorf("node ID changed across the restart: %s → %s", before.ID, after.ID)
	}
}
