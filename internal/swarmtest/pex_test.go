package swarmtest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// TestPexOnly: with no tracker at all, A knows only B; B learned about C
// (the seeder); B tells A about C over ut_pex and A connects to C.
func TestPexOnly(t *testing.T) {
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "c"), "pex.bin", 41, map[string]int{"": 2 << 20})
	data, mi := MakeTorrent(t, root, 64<<10) // no trackers
	hash := mi.InfoHash.String()

	// C uploads slowly so B is still downloading from it (PEX lists only
	// connected peers, and two seeds disconnect) when A arrives.
	c := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "c"), UploadLimit: 256 << 10})
	if _, err := c.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, c, hash, 10*time.Second, session.StateSeeding)

	magnetVia := func(port int) string {
		m := metainfo.Magnet{InfoHash: mi.InfoHash, Name: "pex.bin", Peers: []string{fmt.Sprintf("127.0.0.1:%d", port)}}
		return m.String()
	}
	b := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "b")})
	if _, err := b.Add(context.Background(), session.AddRequest{URI: magnetVia(c.Port())}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "B downloading from C", func() bool {
		st, err := b.Get(hash)
		return err == nil && st.Progress > 0
	})

	a := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "a")})
	if _, err := a.Add(context.Background(), session.AddRequest{URI: magnetVia(b.Port())}); err != nil {
		t.Fatal(err)
	}
	// A was told only of B; a second peer can only be C, learned through
	// PEX (by A from B, or by C from B — then C dials A).
	testutil.WaitFor(t, 20*time.Second, "A connected to C through PEX", func() bool {
		d, err := a.Get(hash)
		return err == nil && len(d.PeerList) >= 2
	})
	WaitState(t, a, hash, 30*time.Second, session.StateSeeding)
	SameTree(t, filepath.Dir(root), filepath.Join(dir, "a"))
}

// TestPrivateTorrentNoPex: a private torrent does not offer ut_pex, so peers
// never learn each other through PEX.
func TestPrivateTorrentNoPex(t *testing.T) {
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "c"), "priv.bin", 42, map[string]int{"": 256 << 10})
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: root, PieceLength: 32 << 10, Private: true})
	if err != nil {
		t.Fatal(err)
	}
	hash := mi.InfoHash.String()
	c := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "c")})
	c.Add(context.Background(), session.AddRequest{Torrent: data})
	WaitState(t, c, hash, 10*time.Second, session.StateSeeding)
	b := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "b")})
	b.Add(context.Background(), session.AddRequest{Torrent: data})
	a := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "a")})
	a.Add(context.Background(), session.AddRequest{Torrent: data})
	// Only manual introductions: B–C and A–B. A must never hear of C.
	b.AddPeers(hash, fmt.Sprintf("127.0.0.1:%d", c.Port()))
	a.AddPeers(hash, fmt.Sprintf("127.0.0.1:%d", b.Port()))
	WaitState(t, b, hash, 20*time.Second, session.StateSeeding)
	WaitState(t, a, hash, 20*time.Second, session.StateSeeding)
	// A sleep: the test checks that a PEX message never arrives, and nothing
	// signals one not sent; a PEX round would have happened by now.
	time.Sleep(1500 * time.Millisecond)
	d, _ := a.Get(hash)
	for _, p := range d.PeerList {
		if p.Source == "pex" {
			t.Fatalf("private torrent learned %s through PEX", p.Addr)
		}
	}
}
