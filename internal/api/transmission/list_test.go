package transmission

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/gobit/gobit/internal/api/creds"
	"github.com/gobit/gobit/internal/session"
)

// countingSession counts the details asked of the session.
type countingSession struct {
	*session.Session
	gets atomic.Int64
}

func (c *countingSession) Get(infoHash string) (session.Detail, error) {
	c.gets.Add(1)
	return c.Session.Get(infoHash)
}

// TestListWithoutDetails checks that the fields of a UI's periodic list
// (trackers, peer counts) are answered for a torrent without peers
// without fetching its detail, which waits for the torrent's loop: with
// thousands of torrents that made the list take seconds.
func TestListWithoutDetails(t *testing.T) {
	g := newRig(t, creds.Credentials{})
	cs := &countingSession{Session: g.sess}
	g.h = New(cs, Options{Version: "test"})
	srv := httptest.NewServer(g.h)
	t.Cleanup(srv.Close)
	g.srv = srv
	data, _ := payload(t, g.dir, "list")
	if res, _ := g.call("torrent-add", map[string]any{"metainfo": base64.StdEncoding.EncodeToString(data), "paused": true}); res != "success" {
		t.Fatalf("torrent-add: %q", res)
	}
	res, args := g.call("torrent-get", map[string]any{"fields": []string{"id", "trackers", "trackerList", "trackerStats",
		"peersSendingToUs", "peersGettingFromUs"}})
	if res != "success" {
		t.Fatalf("torrent-get: %q", res)
	}
	var ts []struct {
		Trackers []struct {
			Announce string `json:"announce"`
		} `json:"trackers"`
		TrackerList      string `json:"trackerList"`
		TrackerStats     []any  `json:"trackerStats"`
		PeersSendingToUs int    `json:"peersSendingToUs"`
	}
	b, _ := json.Marshal(args["torrents"])
	if err := json.Unmarshal(b, &ts); err != nil || len(ts) != 1 {
		t.Fatalf("torrents %s: %v", b, err)
	}
	const url = "http://127.0.0.1:1/announce"
	if len(ts[0].Trackers) != 1 || ts[0].Trackers[0].Announce != url || ts[0].TrackerList != url || len(ts[0].TrackerStats) != 1 {
		t.Errorf("trackers = %+v", ts[0])
	}
	if n := cs.gets.Load(); n != 0 {
		t.Errorf("the list fetched %d torrent details, want none", n)
	}
}
