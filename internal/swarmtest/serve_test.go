package swarmtest

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// TestDeepRequestQueueIsServed: a peer that keeps hundreds of requests in
// flight (libtorrent keeps seconds of data queued) gets every block it
// asked for within the seeder's serve budget, with the right data, and
// requests beyond the budget are rejected politely, not dropped or fatal.
func TestDeepRequestQueueIsServed(t *testing.T) {
	const pl = 256 << 10
	_, seed, _, mi, root, _ := seedOne(t, 16<<20, pl)
	payload, err := os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	p := DialRaw(t, seed.Port(), mi.InfoHash, [20]byte([]byte("-XX0001-deep-queue01")))
	p.Send(wire.Message{ID: wire.Interested})
	p.Conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var buf []byte
	for { // wait for the unchoke
		m, b, err := wiretest.ReadMessage(p.Conn, buf)
		buf = b
		if err != nil {
			t.Fatalf("waiting for an unchoke: %v", err)
		}
		if !m.KeepAlive && m.ID == wire.Unchoke {
			break
		}
	}
	// request sends n block requests at once, starting at block first, and
	// counts the blocks served (checking their data) and the rejects.
	request := func(first, n int) (served, rejected int) {
		var reqs []wire.Message
		for k := first; k < first+n; k++ {
			off := k * wire.BlockSize
			reqs = append(reqs, wire.Message{ID: wire.Request, Index: uint32(off / pl), Begin: uint32(off % pl), Length: wire.BlockSize})
		}
		p.Send(reqs...)
		p.Conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		for served+rejected < n {
			m, b, err := wiretest.ReadMessage(p.Conn, buf)
			buf = b
			if err != nil {
				t.Fatalf("after %d blocks and %d rejects of %d: %v", served, rejected, n, err)
			}
			switch {
			case m.KeepAlive:
			case m.ID == wire.Piece:
				off := int(m.Index)*pl + int(m.Begin)
				if !bytes.Equal(m.Block, payload[off:off+wire.BlockSize]) {
					t.Fatalf("block %d/%d: wrong data", m.Index, m.Begin)
				}
				served++
			case m.ID == wire.Reject:
				rejected++
			}
		}
		return served, rejected
	}
	// 8 MiB in flight: within the budget, all served.
	if served, rejected := request(0, 512); served != 512 || rejected != 0 {
		t.Fatalf("512 requests (8 MiB): %d served, %d rejected; want all served", served, rejected)
	}
	// 15 MiB at once: at least the budget's worth served (blocks already in
	// the socket no longer count), the rest rejected, the peer kept.
	served, rejected := request(0, 960)
	if served < serveBudgetBlocks || served+rejected != 960 {
		t.Fatalf("960 requests (15 MiB): %d served, %d rejected; want at least %d served and the rest rejected", served, rejected, serveBudgetBlocks)
	}
	if Status(t, seed, mi.InfoHash.String()).Peers != 1 {
		t.Error("the seeder dropped a peer with a deep request queue")
	}
}

// serveBudgetBlocks is the number of 16 KiB blocks gobit serves a peer at
// once (its 12 MiB serve budget, the reqq it announces).
const serveBudgetBlocks = 768
