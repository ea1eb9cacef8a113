package transmission

import (
	"encoding/base64"
	"fmt"
	"github.com/gobit/gobit/internal/api/creds"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// TestTorrentGetLeavesParkedTorrentsParked: a torrent-get asking for the
// fields that need each torrent's detail (peers, trackers, files, pieces)
// reads idle torrents without waking them, and its answer still carries
// their trackers and files. Closing the session then stops them all.
func TestTorrentGetLeavesParkedTorrentsParked(t *testing.T) {
	g := newRig(t, creds.Credentials{})
	const n = 12
	for i := range n {
		data, _ := payload(t, g.dir, fmt.Sprintf("parked-%02d", i))
		if res, _ := g.call("torrent-add", map[string]any{"metainfo": base64.StdEncoding.EncodeToString(data)}); res != "success" {
			t.Fatalf("torrent-add %d: %s", i, res)
		}
	}
	// Seeding torrents with no peers park after a few seconds of quiet.
	testutil.WaitFor(t, 60*time.Second, "every torrent to park", func() bool { return g.sess.Parked() == n })
	fields := []string{"id", "name", "status", "peers", "peersConnected", "trackers", "trackerStats",
		"files", "fileStats", "wanted", "priorities", "pieces", "pieceCount", "magnetLink", "desiredAvailable"}
	for range 3 {
		res, args := g.call("torrent-get", map[string]any{"fields": fields})
		if res != "success" {
			t.Fatalf("torrent-get: %s", res)
		}
		list, _ := args["torrents"].([]any)
		if len(list) != n {
			t.Fatalf("torrent-get listed %d torrents, want %d", len(list), n)
		}
		for _, x := range list {
			m := x.(map[string]any)
			files, _ := m["files"].([]any)
			trs, _ := m["trackerStats"].([]any)
			if len(files) != 2 || len(trs) != 1 || m["pieceCount"].(float64) == 0 {
				t.Fatalf("torrent %v: %d files, %d tracker stats, %v pieces; want 2, 1, some", m["name"], len(files), len(trs), m["pieceCount"])
			}
		}
		if p := g.sess.Parked(); p != n {
			t.Fatalf("after a torrent-get with detail fields %d of %d torrents are parked", p, n)
		}
	}
	start := time.Now()
	if err := g.sess.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("closing %d parked torrents took %s", n, d)
	}
	if p := g.sess.Parked(); p != 0 {
		t.Errorf("%d torrents still parked after Close", p)
	}
}
