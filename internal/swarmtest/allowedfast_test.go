package swarmtest

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// fastPeer is a raw peer that never says it is interested, so the seeder
// keeps it choked and it can only get its allowed-fast pieces.
type fastPeer struct {
	*RawPeer
	buf     []byte
	allowed []uint32
}

// dialFast connects a raw peer and reads until the seeder has sent it n
// allowed-fast pieces.
func dialFast(t *testing.T, port int, infoHash [20]byte, id string, n int) *fastPeer {
	t.Helper()
	p := &fastPeer{RawPeer: DialRaw(t, port, infoHash, [20]byte([]byte(id)))}
	p.Conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for len(p.allowed) < n {
		m, b, err := wiretest.ReadMessage(p.Conn, p.buf)
		p.buf = b
		if err != nil {
			t.Fatalf("%s: waiting for %d allowed-fast pieces (got %v): %v", id, n, p.allowed, err)
		}
		if m.KeepAlive {
			continue
		}
		switch m.ID {
		case wire.AllowedFast:
			p.allowed = append(p.allowed, m.Index)
		case wire.Unchoke:
			t.Fatalf("%s: unchoked although not interested", id)
		}
	}
	return p
}

// ask requests the first block of piece and reports whether the seeder
// served it (checking the data) or rejected it.
func (p *fastPeer) ask(t *testing.T, piece uint32, pl int, payload []byte) bool {
	t.Helper()
	p.Send(wire.Message{ID: wire.Request, Index: piece, Begin: 0, Length: wire.BlockSize})
	p.Conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		m, b, err := wiretest.ReadMessage(p.Conn, p.buf)
		p.buf = b
		if err != nil {
			t.Fatalf("waiting for piece %d: %v", piece, err)
		}
		switch {
		case m.KeepAlive:
		case m.ID == wire.Piece && m.Index == piece:
			off := int(piece) * pl
			if !bytes.Equal(m.Block, payload[off:off+wire.BlockSize]) {
				t.Fatalf("piece %d: wrong data", piece)
			}
			return true
		case m.ID == wire.Reject && m.Index == piece:
			return false
		}
	}
}

// TestAllowedFastPieceGivenToOneChokedPeer: two choked peers of the same
// /24 get the same allowed-fast set (BEP 6); a piece of it is served to the
// first one that asks and rejected for the other while the first is
// connected, so a seeder does not spend its upload sending the same pieces
// to every choked peer of a network. Other pieces of the set stay free, and
// the piece is free again once its peer leaves.
func TestAllowedFastPieceGivenToOneChokedPeer(t *testing.T) {
	const pl = 64 << 10
	_, seed, _, mi, root, _ := seedOne(t, 16*pl, pl) // 16 pieces: more than the 10 allowed
	payload, err := os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	a := dialFast(t, seed.Port(), mi.InfoHash, "-XX0001-fast-peer-a1", 10)
	b := dialFast(t, seed.Port(), mi.InfoHash, "-XX0001-fast-peer-b1", 10)
	if !bytes.Equal(u32s(a.allowed), u32s(b.allowed)) {
		t.Fatalf("peers of one /24 got different allowed-fast sets: %v and %v", a.allowed, b.allowed)
	}
	x, y := a.allowed[0], a.allowed[1]
	if !a.ask(t, x, pl, payload) {
		t.Fatalf("piece %d, allowed fast, rejected for the first peer to ask", x)
	}
	if !a.ask(t, x, pl, payload) {
		t.Fatalf("piece %d rejected for the peer it was given to, on its second request", x)
	}
	if b.ask(t, x, pl, payload) {
		t.Fatalf("piece %d served to a second choked peer while the first is connected", x)
	}
	if !b.ask(t, y, pl, payload) {
		t.Fatalf("piece %d, given to nobody, rejected for the second peer", y)
	}
	a.Conn.Close()
	deadline := time.Now().Add(20 * time.Second)
	for !b.ask(t, x, pl, payload) {
		if time.Now().After(deadline) {
			t.Fatalf("piece %d still refused 20 s after its peer left", x)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// u32s encodes indexes as bytes for comparison.
func u32s(v []uint32) []byte {
	var b []byte
	for _, x := range v {
		b = append(b, byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
	}
	return b
}
