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
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// swarmOver downloads a torrent from a seeder with cfgSeed to a leecher
// with cfgLeech and returns the transports the leecher's peers used.
func swarmOver(t *testing.T, cfgSeed, cfgLeech session.Config) map[string]bool {
	t.Helper()
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "utp.bin", 71, map[string]int{"": 6 << 20})
	data, mi := MakeTorrent(t, root, 64<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()
	cfgSeed.DownloadDir = filepath.Join(dir, "seed")
	seed := NewSessionWith(t, cfgSeed)
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)
	cfgLeech.DownloadDir = filepath.Join(dir, "leech")
	leech := NewSessionWith(t, cfgLeech)
	seen := WatchTransports(t, leech, hash)
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, hash, 90*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
	}
	SameTree(t, root, filepath.Join(dir, "leech", "utp.bin"))
	return seen()
}

// TestSwarmUTPOnly: with TCP off on both sides, the download runs over uTP.
func TestSwarmUTPOnly(t *testing.T) {
	cfg := session.Config{UTP: true, NoTCP: true}
	seen := swarmOver(t, cfg, cfg)
	if !seen["utp"] || seen["tcp"] {
		t.Fatalf("transports seen: %v, want utp only", seen)
	}
}

// TestSwarmPrefersUTP: with both transports on both sides, the leecher's
// connection is uTP (tried first, answered at once on loopback).
func TestSwarmPrefersUTP(t *testing.T) {
	cfg := session.Config{UTP: true}
	seen := swarmOver(t, cfg, cfg)
	if !seen["utp"] {
		t.Fatalf("transports seen: %v, want utp", seen)
	}
}

// TestSwarmUTPFallsBackToTCP: a seeder without uTP is reached over TCP by
// a leecher that tries uTP first.
func TestSwarmUTPFallsBackToTCP(t *testing.T) {
	seen := swarmOver(t, session.Config{}, session.Config{UTP: true})
	if !seen["tcp"] || seen["utp"] {
		t.Fatalf("transports seen: %v, want tcp only", seen)
	}
}

// TestDHTBesideUTP: a trackerless magnet completes between sessions whose
// DHT shares the UDP port with uTP, over uTP only.
func TestDHTBesideUTP(t *testing.T) {
	dir := t.TempDir()
	cfg := func(name string, boot []string) session.Config {
		return session.Config{DownloadDir: filepath.Join(dir, name), DHT: true, DHTBootstrap: boot, UTP: true, NoTCP: true}
	}
	boot := NewSessionWith(t, cfg("boot", nil))
	bootAddr := []string{fmt.Sprintf("127.0.0.1:%d", boot.Port())}
	root := Payload(t, filepath.Join(dir, "seed"), "dht.bin", 72, map[string]int{"": 1 << 20})
	data, mi := MakeTorrent(t, root, 64<<10)
	hash := mi.InfoHash.String()
	seed := NewSessionWith(t, cfg("seed", bootAddr))
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 10*time.Second, session.StateSeeding)
	testutil.WaitFor(t, 30*time.Second, "the seeder's DHT announce", func() bool {
		st, ok := boot.DHTStats()
		return ok && st.PeersStored > 0
	})
	leech := NewSessionWith(t, cfg("leech", bootAddr))
	seen := WatchTransports(t, leech, hash)
	if _, err := leech.Add(context.Background(), session.AddRequest{URI: metainfo.Magnet{InfoHash: mi.InfoHash}.String()}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, hash, 45*time.Second, session.StateSeeding)
	SameTree(t, filepath.Dir(root), filepath.Join(dir, "leech"))
	if s := seen(); !s["utp"] || s["tcp"] {
		t.Fatalf("transports seen: %v, want utp only", s)
	}
}
