package swarmtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

func multiFile() map[string]int {
	return map[string]int{"a.bin": 1234567, "sub/b.bin": 300000, "c.txt": 6, "sub/deeper/d.bin": 70000}
}

func TestSwarmMultiFileTorrent(t *testing.T) {
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "multi", 1, multiFile())
	data, mi := MakeTorrent(t, root, 32<<10, tr.HTTPURL())

	seed := NewSession(t, filepath.Join(dir, "seed"))
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	hash := mi.InfoHash.String()
	WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)

	leech := NewSession(t, filepath.Join(dir, "leech"))
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, hash, 60*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
	}
	SameTree(t, root, filepath.Join(dir, "leech", "multi"))
}

func TestSwarmSingleFileMagnetUDP(t *testing.T) {
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "single.bin", 2, map[string]int{"": 3_000_000})
	data, mi := MakeTorrent(t, root, 64<<10, tr.UDPURL())

	seed := NewSession(t, filepath.Join(dir, "seed"))
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	hash := mi.InfoHash.String()
	WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)

	leech := NewSession(t, filepath.Join(dir, "leech"))
	m := mi.Magnet()
	if _, err := leech.Add(context.Background(), session.AddRequest{URI: m.String()}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, hash, 60*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
	}
	SameTree(t, filepath.Dir(root), filepath.Join(dir, "leech"))
}
