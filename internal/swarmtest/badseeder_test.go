package swarmtest

import (
	"context"
	"encoding/binary"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// TestLeecherSurvivesHostileSeeders points a leecher at a fake seeder that
// claims every piece and answers requests with bad data of some kind, then
// adds a real seeder: the leecher must not crash or stall, and must end
// with correct data.
func TestLeecherSurvivesHostileSeeders(t *testing.T) {
	const size, pieceLen = 1 << 20, 32 << 10
	tests := []struct {
		name string
		// answer returns the bytes sent in reply to a request.
		answer func(req wire.Message) []byte
	}{
		{"misaligned blocks", func(r wire.Message) []byte {
			return (&wire.Message{ID: wire.Piece, Index: r.Index, Begin: r.Begin + 1, Block: make([]byte, r.Length)}).AppendTo(nil)
		}},
		{"one-byte blocks", func(r wire.Message) []byte {
			return (&wire.Message{ID: wire.Piece, Index: r.Index, Begin: r.Begin, Block: []byte{1}}).AppendTo(nil)
		}},
		{"block beyond the piece", func(r wire.Message) []byte {
			return (&wire.Message{ID: wire.Piece, Index: r.Index, Begin: 1 << 30, Block: make([]byte, r.Length)}).AppendTo(nil)
		}},
		{"piece index out of range", func(r wire.Message) []byte {
			return (&wire.Message{ID: wire.Piece, Index: 1<<32 - 1, Begin: r.Begin, Block: make([]byte, r.Length)}).AppendTo(nil)
		}},
		{"oversized block", func(r wire.Message) []byte {
			return (&wire.Message{ID: wire.Piece, Index: r.Index, Begin: r.Begin, Block: make([]byte, 200<<10)}).AppendTo(nil)
		}},
		{"100 MB length prefix", func(r wire.Message) []byte {
			return binary.BigEndian.AppendUint32(nil, 100<<20)
		}},
		{"bitfield of the wrong length", func(r wire.Message) []byte {
			return (&wire.Message{ID: wire.Bitfield, Bitfield: make([]byte, 100)}).AppendTo(nil)
		}},
		{"reject for blocks never requested", func(r wire.Message) []byte {
			return (&wire.Message{ID: wire.Reject, Index: r.Index + 1, Begin: r.Begin + 7, Length: 3}).AppendTo(nil)
		}},
		{"wrong data", func(r wire.Message) []byte {
			return (&wire.Message{ID: wire.Piece, Index: r.Index, Begin: r.Begin, Block: make([]byte, r.Length)}).AppendTo(nil)
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := trackertest.New(t)
			tr.SetInterval(time.Second, time.Second)
			dir := t.TempDir()
			root := Payload(t, filepath.Join(dir, "seed"), "payload.bin", uint64(30+i), map[string]int{"": size})
			data, mi := MakeTorrent(t, root, pieceLen, tr.HTTPURL())
			hash := mi.InfoHash.String()

			var requests atomic.Int64
			fakeID := [20]byte([]byte("-XX0001-hostile-seed"))
			fake := StartFakePeer(t, mi.InfoHash, fakeID, func(nc net.Conn, _ wire.Handshake) {
				var b []byte
				b = (&wire.Message{ID: wire.HaveAll}).AppendTo(b)
				b = (&wire.Message{ID: wire.Unchoke}).AppendTo(b)
				nc.Write(b)
				var buf []byte
				for {
					nc.SetReadDeadline(time.Now().Add(time.Minute))
					m, nb, err := wiretest.ReadMessage(nc, buf)
					if err != nil {
						return
					}
					buf = nb
					if m.KeepAlive || m.ID != wire.Request {
						continue
					}
					requests.Add(1)
					nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
					if _, err := nc.Write(tc.answer(m)); err != nil {
						return
					}
				}
			})
			AnnounceFake(t, tr.HTTPURL(), mi.InfoHash, fakeID, fake.Port)

			leech := NewSession(t, filepath.Join(dir, "leech"))
			if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
				t.Fatal(err)
			}
			testutil.WaitFor(t, 10*time.Second, "requests to the hostile seeder", func() bool { return requests.Load() > 0 })
			time.Sleep(200 * time.Millisecond) // let the bad answers arrive
			if st := Status(t, leech, hash); st.Completed != 0 || st.State == session.StateSeeding {
				t.Fatalf("leecher verified %d bytes from a peer that sent only bad data", st.Completed)
			}

			seed := NewSession(t, filepath.Join(dir, "seed"))
			if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
				t.Fatal(err)
			}
			st := WaitState(t, leech, hash, 60*time.Second, session.StateSeeding, session.StateError)
			if st.State != session.StateSeeding {
				t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
			}
			SameTree(t, filepath.Dir(root), filepath.Join(dir, "leech"))
			t.Logf("the hostile seeder got %d requests", requests.Load())
		})
	}
}
