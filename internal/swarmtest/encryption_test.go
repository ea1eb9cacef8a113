package swarmtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// TestEncryptedSwarm downloads between two sessions under pairs of
// encryption policies and checks, while the transfer runs (the leecher's
// download rate is capped so that it lasts), that the connection is
// RC4-encrypted exactly when the policies make it so.
func TestEncryptedSwarm(t *testing.T) {
	for _, tc := range []struct {
		seed, leech peer.Encryption
		encrypted   bool
		encryption  string // PeerStatus.Encryption
	}{
		{peer.EncryptionRequire, peer.EncryptionPrefer, true, "rc4"},
		{peer.EncryptionPrefer, peer.EncryptionRequire, true, "rc4"},
		{peer.EncryptionPrefer, peer.EncryptionPrefer, false, "plaintext"}, // obfuscated handshake, plaintext payload
		{peer.EncryptionDisable, peer.EncryptionPrefer, false, "none"},
	} {
		t.Run(fmt.Sprintf("seed %s, leech %s", tc.seed, tc.leech), func(t *testing.T) {
			tr := trackertest.New(t)
			dir := t.TempDir()
			root := Payload(t, filepath.Join(dir, "seed"), "enc.bin", 3, map[string]int{"": 3 << 20})
			data, mi := MakeTorrent(t, root, 64<<10, tr.HTTPURL())
			hash := mi.InfoHash.String()

			seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), Encryption: tc.seed})
			if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
				t.Fatal(err)
			}
			WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)
			leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), Encryption: tc.leech, DownloadLimit: 1 << 20})
			if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
				t.Fatal(err)
			}
			var seen session.PeerStatus
			testutil.WaitFor(t, 30*time.Second, "a peer on the leecher", func() bool {
				d, err := leech.Get(hash)
				if err != nil || len(d.PeerList) == 0 {
					return false
				}
				seen = d.PeerList[0]
				return true
			})
			if seen.Encrypted != tc.encrypted || seen.Encryption != tc.encryption {
				t.Errorf("peer %s (outgoing %v): encrypted %v, encryption %q, want %v, %q", seen.Addr, seen.Outgoing, seen.Encrypted, seen.Encryption, tc.encrypted, tc.encryption)
			}
			if seen.Transport != "tcp" || seen.IPVersion != 4 {
				t.Errorf("peer %s: transport %q, IP version %d, want tcp over IPv4", seen.Addr, seen.Transport, seen.IPVersion)
			}
			st := WaitState(t, leech, hash, 60*time.Second, session.StateSeeding, session.StateError)
			if st.State != session.StateSeeding {
				t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
			}
			SameTree(t, root, filepath.Join(dir, "leech", "enc.bin"))
		})
	}
}

// TestEncryptionRequireRefusesPlainPeers checks both directions of
// EncryptionRequire against a peer that speaks only the plain handshake:
// its incoming plain handshake is dropped unanswered, and the session never
// sends it one either.
func TestEncryptionRequireRefusesPlainPeers(t *testing.T) {
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "req.bin", 4, map[string]int{"": 100000})
	data, mi := MakeTorrent(t, root, 32<<10)
	s := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), Encryption: peer.EncryptionRequire})
	if _, err := s.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, s, mi.InfoHash.String(), 30*time.Second, session.StateSeeding)

	t.Run("incoming", func(t *testing.T) {
		p, err := TryDialRaw(s.Port(), mi.InfoHash, [20]byte([]byte("-XX0001-plain-peer01")))
		if err == nil {
			p.Conn.Close()
			t.Fatal("a plain handshake was answered under --encryption require")
		}
	})

	t.Run("outgoing", func(t *testing.T) {
		// A listener that records how each connection starts; it answers
		// nothing, as a plain-only peer answers nothing to MSE.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var mu sync.Mutex
		var starts [][]byte
		go func() {
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer nc.Close()
					nc.SetDeadline(time.Now().Add(5 * time.Second))
					b := make([]byte, 20)
					n, _ := io.ReadFull(nc, b)
					mu.Lock()
					starts = append(starts, b[:n])
					mu.Unlock()
				}()
			}
		}()
		leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), Encryption: peer.EncryptionRequire})
		m := metainfo.Magnet{InfoHash: mi.InfoHash, Peers: []string{ln.Addr().String()}}
		if _, err := leech.Add(context.Background(), session.AddRequest{URI: m.String()}); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 20*time.Second, "a connection from the session", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(starts) > 0
		})
		// Under prefer a plain redial would follow at once; give it a wide
		// margin to show up.
		time.Sleep(time.Second)
		mu.Lock()
		defer mu.Unlock()
		for _, b := range starts {
			if string(b) == "\x13BitTorrent protocol" {
				t.Fatal("the session sent a plain handshake under --encryption require")
			}
		}
	})
}

// TestEncryptionPreferReachesPlainPeer checks the fallback: under the
// default policy a peer that speaks only the plain handshake (and drops the
// MSE attempt) still serves the download, metadata included.
func TestEncryptionPreferReachesPlainPeer(t *testing.T) {
	e := makeEvil(t, "plain-only", nil, 200000)
	id := [20]byte([]byte("-XX0001-plain-seeder"))
	fake := StartFakePeer(t, e.hash, id, ServeTorrent(e.info, e.payload))
	dir := t.TempDir()
	s := NewSessionWith(t, session.Config{DownloadDir: dir, Encryption: peer.EncryptionPrefer})
	m := metainfo.Magnet{InfoHash: e.hash, Peers: []string{fmt.Sprintf("127.0.0.1:%d", fake.Port)}}
	if _, err := s.Add(context.Background(), session.AddRequest{URI: m.String()}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, s, metainfo.Hash(e.hash).String(), 30*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("ended in %s: %s", st.State, st.Error)
	}
	got, err := os.ReadFile(filepath.Join(dir, "plain-only"))
	if err != nil || string(got) != string(e.payload) {
		t.Fatalf("downloaded file differs (%v)", err)
	}
}
