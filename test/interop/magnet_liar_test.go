package interop

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// liarMetadataID is the ut_metadata message ID the lying peer announces.
const liarMetadataID = 3

// lyingPeer is a raw-wire peer that claims a wrong metadata_size in its
// extension handshake and answers metadata requests as answer says.
type lyingPeer struct {
	port     int
	requests atomic.Int32 // metadata requests received
	open     atomic.Int32 // connections open now
	conns    atomic.Int32 // connections accepted
}

// startLyingPeer listens on loopback for gobit's connections to the
// torrent hash. answer returns the reply to a request for piece (nil:
// none).
func startLyingPeer(t *testing.T, hash metainfo.Hash, claim int, answer func(piece int) *wire.MetadataMessage) *lyingPeer {
	t.Helper()
	l := &lyingPeer{}
	eh := wire.ExtendedHandshake{M: map[string]int{wire.ExtMetadata: liarMetadataID}, V: "liar 1.0", MetadataSize: claim}
	payload, err := eh.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	fake := swarmtest.StartFakePeer(t, hash, [20]byte([]byte("-XX0001-lying-peer01")), func(nc net.Conn, _ wire.Handshake) {
		l.conns.Add(1)
		l.open.Add(1)
		defer l.open.Add(-1)
		write := func(m wire.Message) bool {
			nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_, err := nc.Write(m.AppendTo(nil))
			return err == nil
		}
		if !write(wire.Message{ID: wire.Extended, ExtendedID: wire.ExtendedHandshakeID, Payload: payload}) {
			return
		}
		theirs := 0
		var buf []byte
		for {
			nc.SetReadDeadline(time.Now().Add(3 * time.Minute))
			m, nb, err := wiretest.ReadMessage(nc, buf)
			if err != nil {
				return
			}
			buf = nb
			if m.KeepAlive || m.ID != wire.Extended {
				continue
			}
			if m.ExtendedID == wire.ExtendedHandshakeID {
				if h, err := wire.ParseExtendedHandshake(m.Payload); err == nil {
					theirs = h.M[wire.ExtMetadata]
				}
				continue
			}
			req, err := wire.ParseMetadataMessage(m.Payload)
			if m.ExtendedID != liarMetadataID || err != nil || req.Type != wire.MetadataRequest {
				continue
			}
			l.requests.Add(1)
			resp := answer(req.Piece)
			if resp == nil || theirs <= 0 || theirs > 255 {
				continue
			}
			if !write(wire.Message{ID: wire.Extended, ExtendedID: uint8(theirs), Payload: resp.Marshal()}) {
				return
			}
		}
	})
	l.port = fake.Port
	return l
}

// garbagePiece answers a request with piece of a metadata of total bytes,
// all of them 'x'.
func garbagePiece(total int) func(int) *wire.MetadataMessage {
	return func(piece int) *wire.MetadataMessage {
		lo := piece * wire.MetadataPieceSize
		if lo >= total {
			return &wire.MetadataMessage{Type: wire.MetadataReject, Piece: piece}
		}
		n := min(wire.MetadataPieceSize, total-lo)
		return &wire.MetadataMessage{Type: wire.MetadataData, Piece: piece, TotalSize: total, Data: []byte(strings.Repeat("x", n))}
	}
}

// TestMagnetLyingPeerAndLibtorrentSeeder: a raw peer that claims 5000
// bytes of metadata too many connects first, and gobit starts fetching
// from it; then an honest libtorrent seeder is added. The magnet (no
// tracker; peers given directly) must complete from the seeder, whatever
// the liar answers, and the honest seeder must never be dropped. Before
// per-peer sizes, gobit kept the liar's size and dropped libtorrent on
// every metadata piece ("metadata total_size 1311, expected 6311").
func TestMagnetLyingPeerAndLibtorrentSeeder(t *testing.T) {
	skipShort(t)
	for _, tc := range []struct {
		name string
		// answer builds the liar's answers from the true size and its claim.
		answer func(size, claim int) func(int) *wire.MetadataMessage
		// dropped says gobit must close the liar; otherwise it must stay
		// connected for the whole fetch.
		dropped bool
	}{
		{"garbage of the claimed size", func(_, claim int) func(int) *wire.MetadataMessage { return garbagePiece(claim) }, true},
		{"total_size against its own claim", func(size, _ int) func(int) *wire.MetadataMessage { return garbagePiece(size) }, true},
		{"never answers and stays", func(_, _ int) func(int) *wire.MetadataMessage {
			return func(int) *wire.MetadataMessage { return nil }
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			libtorrent.need(t)
			dir := t.TempDir()
			seedDir := filepath.Join(dir, "seed")
			root := swarmtest.Payload(t, seedDir, payloadName, seedFor(t.Name()), payloadFiles)
			torrent, mi := swarmtest.MakeTorrent(t, root, 1<<pieceLog2) // no tracker
			torrentPath := filepath.Join(dir, payloadName+".torrent")
			if err := os.WriteFile(torrentPath, torrent, 0o644); err != nil {
				t.Fatal(err)
			}
			size := len(mi.InfoBytes)
			claim := size + 5000

			lt := startLT(t, "libtorrent seeder", "seed", "--torrent", torrentPath, "--save", seedDir)
			ready := lt.waitOutput(t, "READY", startTimeout)
			var ltPort int
			if _, err := fmt.Sscanf(ready[strings.Index(ready, "READY"):], "READY port=%d", &ltPort); err != nil || ltPort <= 0 {
				t.Fatalf("libtorrent READY line %q: %v", ready, err)
			}

			liar := startLyingPeer(t, mi.InfoHash, claim, tc.answer(size, claim))
			out := filepath.Join(dir, "out")
			s := gobitSession(t, out)
			hash := mi.InfoHash.String()
			m := metainfo.Magnet{InfoHash: mi.InfoHash, Peers: []string{fmt.Sprintf("127.0.0.1:%d", liar.port)}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := s.Add(ctx, session.AddRequest{URI: m.String()}); err != nil {
				t.Fatalf("gobit add: %v", err)
			}
			// The liar's claim is seen first: gobit asks it for metadata.
			testutil.WaitFor(t, 30*time.Second, "gobit to ask the lying peer for metadata", func() bool {
				return liar.requests.Load() > 0
			})

			start := time.Now()
			if err := s.AddPeers(hash, fmt.Sprintf("127.0.0.1:%d", ltPort)); err != nil {
				t.Fatal(err)
			}
			var gotInfo time.Duration
			testutil.WaitFor(t, 60*time.Second, "gobit to fetch the metadata", func() bool {
				if st := swarmtest.Status(t, s, hash); st.State != session.StateMetadata && st.TotalSize > 0 {
					gotInfo = time.Since(start)
					return true
				}
				return false
			})
			st := swarmtest.WaitState(t, s, hash, 60*time.Second, session.StateSeeding, session.StateError)
			done := time.Since(start)
			if st.State != session.StateSeeding {
				t.Fatalf("gobit ended in %s: %s", st.State, st.Error)
			}
			swarmtest.SameTree(t, seedDir, out)
			t.Logf("metadata %v, download complete %v after the libtorrent seeder was added; the liar got %d metadata requests on %d connection(s)",
				gotInfo.Round(time.Millisecond), done.Round(time.Millisecond), liar.requests.Load(), liar.conns.Load())
			if done > 15*time.Second {
				t.Errorf("the download took %v after the seeder was added, want a few seconds", done)
			}
			if tc.dropped {
				testutil.WaitFor(t, 10*time.Second, "gobit to drop the lying peer", func() bool { return liar.open.Load() == 0 })
				if n := liar.conns.Load(); n != 1 {
					t.Errorf("the lying peer was connected %d times, want 1 (banned after its lie)", n)
				}
			} else if liar.open.Load() != 1 || liar.conns.Load() != 1 {
				t.Errorf("the silent liar: %d connection(s) open of %d, want it connected throughout", liar.open.Load(), liar.conns.Load())
			}
		})
	}
}
