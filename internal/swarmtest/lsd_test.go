package swarmtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
)

// TestLSDOnly: no tracker, no known peers: the leecher hears the seeder's
// local service discovery announce and downloads from it. Loopback unicast
// stands in for the multicast group (tests never send to the real group).
func TestLSDOnly(t *testing.T) {
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "lsd.bin", 51, map[string]int{"": 1 << 20})
	data, mi := MakeTorrent(t, root, 64<<10)
	hash := mi.InfoHash.String()

	// The leecher listens for LSD on loopback; its own announces go to a
	// discard address.
	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"),
		LSD: true, LSDGroup: "127.0.0.1:9", LSDListen: "127.0.0.1:0"})
	if !leech.LSDAddr().IsValid() {
		t.Fatal("LSD did not start")
	}
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"),
		LSD: true, LSDGroup: leech.LSDAddr().String(), LSDListen: "127.0.0.1:0"})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, hash, 20*time.Second, session.StateSeeding)
	if st.Downloaded == 0 {
		t.Fatal("nothing downloaded")
	}
	SameTree(t, filepath.Dir(root), filepath.Join(dir, "leech"))
}
