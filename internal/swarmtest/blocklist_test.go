package swarmtest

import (
	"compress/gzip"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// TestBlocklist: a leecher whose blocklist holds the seeder's address
// neither dials it nor accepts its connections (and counts them), and
// downloads once the file is rewritten without it (reloaded on change).
// The file is gzip-compressed PeerGuardian P2P.
func TestBlocklist(t *testing.T) {
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "bl.bin", 9, map[string]int{"": 512 << 10})
	data, mi := MakeTorrent(t, root, 64<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()
	list := filepath.Join(dir, "list.p2p.gz")
	writeGz := func(content string) {
		f, err := os.Create(list + ".tmp")
		if err != nil {
			t.Fatal(err)
		}
		zw := gzip.NewWriter(f)
		zw.Write([]byte(content))
		zw.Close()
		f.Close()
		if err := os.Rename(list+".tmp", list); err != nil {
			t.Fatal(err)
		}
	}
	writeGz("Loopback:127.0.0.0-127.255.255.255\n")

	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed")})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)
	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), Blocklist: list, BlocklistPoll: 50 * time.Millisecond})
	if st := leech.Settings(); st.BlocklistSize != 1 || st.Blocklist != list || st.BlocklistLoaded == "" {
		t.Fatalf("settings %+v", st.NetPathStatus)
	}
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	// The seeder learns of the leecher from the tracker and dials it: the
	// leecher refuses before the handshake; the leecher drops the seeder's
	// address from the tracker.
	testutil.WaitFor(t, 30*time.Second, "blocked attempts counted", func() bool {
		return leech.Settings().BlockedConnections >= 2
	})
	d, err := leech.Get(hash)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.PeerList) != 0 || d.Status.Completed > 0 {
		t.Fatalf("connected to a blocked peer: %+v", d.PeerList)
	}

	// Rewritten without loopback: reloaded, and the download completes.
	writeGz("# nothing of ours\n10.0.0.0/8\n")
	testutil.WaitFor(t, 30*time.Second, "the reload", func() bool {
		st := leech.Settings()
		return st.BlocklistSize == 1 && !leech.Blocked(mustAddr("127.0.0.1"))
	})
	if err := leech.Reannounce(hash); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, hash, 60*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
	}
	SameTree(t, root, filepath.Join(dir, "leech", "bl.bin"))

	// A broken rewrite keeps the list in use and says why.
	writeGz("garbage\n")
	testutil.WaitFor(t, 30*time.Second, "the load error", func() bool {
		return leech.Settings().BlocklistError != ""
	})
	if !leech.Blocked(mustAddr("10.1.2.3")) {
		t.Fatal("the previous list was dropped after a failed load")
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
