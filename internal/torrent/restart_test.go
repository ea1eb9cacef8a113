package torrent

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/wire"
)

// TestRestartRedialsAtOnce: a torrent stopped by an error or a pause and
// resumed dials its peers again at once, even when the connections it
// closed on stopping end only after the resume. Those ends used to put
// the 30 s redial backoff of a peer that left on the addresses the resume
// had just cleared, and the torrent sat with no peers for 30 s: found as
// TestWriteNotPermitted stalling under CI load, where the resume outran
// the closing connections' goroutines. Stopping and resuming in one call
// on the loop forces that order.
func TestRestartRedialsAtOnce(t *testing.T) {
	for _, c := range []struct {
		name string
		stop func(*Torrent)
	}{
		{"error", func(tr *Torrent) { tr.fail(errors.New("write piece 0: operation not permitted")) }},
		{"pause", func(tr *Torrent) { tr.pause() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, _ := downloadingTorrent(t, func(cfg *Config) { cfg.Encryption = peer.EncryptionDisable })
			fp := newListeningPeer(t, tr.hash)
			tr.AddPeers(SourceTracker, []netip.AddrPort{fp.addr})
			fp.waitConn(t, 10*time.Second)
			waitPeers(t, tr, 1)

			if err := tr.do(func() {
				c.stop(tr)
				tr.resume()
			}); err != nil {
				t.Fatal(err)
			}
			// Well under the 30 s backoff; the redial comes at the next
			// tick after the data check.
			fp.waitConn(t, 10*time.Second)
			waitPeers(t, tr, 1)
		})
	}
}

// listeningPeer accepts connections for one torrent, answers the
// handshake and then only reads, counting the connections it got.
type listeningPeer struct {
	addr  netip.AddrPort
	conns chan struct{}
}

func newListeningPeer(t *testing.T, hash [20]byte) *listeningPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	lp := &listeningPeer{addr: peer.AddrOf(ln.Addr()), conns: make(chan struct{}, 16)}
	ours := wire.Handshake{InfoHash: hash, PeerID: [20]byte([]byte("-XX0001-listeningpee"))}
	ours.SetFast()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				if _, err := peer.Accept(nc, 5*time.Second, func(ih [20]byte) (wire.Handshake, bool) { return ours, ih == hash }); err != nil {
					return
				}
				select {
				case lp.conns <- struct{}{}:
				default:
				}
				buf := make([]byte, 4096)
				for {
					if _, err := nc.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	return lp
}

// waitConn waits for the peer's next connection.
func (lp *listeningPeer) waitConn(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-lp.conns:
	case <-time.After(timeout):
		t.Fatalf("the torrent did not connect to %v within %v", lp.addr, timeout)
	}
}

// waitPeers waits until the torrent has n peers connected.
func waitPeers(t *testing.T, tr *Torrent, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got int
		if err := tr.do(func() { got = len(tr.peers) }); err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d peers, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFellowSeedRedialedWhenWanted: a torrent seeding with its file
// skipped closes a connection to a seed; the file is wanted again before
// that connection's end reaches the loop. The seed must be dialled again
// at once, not after the 30 s wait of a peer that left: found as
// TestSkippedFileNotDownloaded timing out when the un-skip raced the
// close. Doing all three in one call on the loop forces that order.
func TestFellowSeedRedialedWhenWanted(t *testing.T) {
	tr, _ := downloadingTorrent(t, func(cfg *Config) { cfg.Encryption = peer.EncryptionDisable })
	fp := newListeningPeer(t, tr.hash)
	tr.AddPeers(SourceTracker, []netip.AddrPort{fp.addr})
	fp.waitConn(t, 10*time.Second)
	waitPeers(t, tr, 1)

	var seeding, closed bool
	if err := tr.do(func() {
		tr.sel.prio = map[int]Priority{0: PrioritySkip}
		tr.applySelection()
		seeding = tr.state == StateSeeding
		for _, p := range tr.peers {
			tr.closeFellowSeed(p)
			closed = true
		}
		tr.sel.prio = nil
		tr.applySelection()
	}); err != nil {
		t.Fatal(err)
	}
	if !seeding || !closed {
		t.Fatalf("seeding %v with the file skipped, closed a peer %v: want both", seeding, closed)
	}
	fp.waitConn(t, 10*time.Second)
	waitPeers(t, tr, 1)
}
