package picker

import (
	"math/rand/v2"
	"testing"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/wire"
)

// FuzzPickerOps drives a small picker with arbitrary calls, including
// out-of-range pieces and malformed blocks, and checks the invariants after
// each call.
func FuzzPickerOps(f *testing.F) {
	f.Add([]byte{5, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 3, 0, 0, 1, 0, 0, 2})
	f.Add([]byte{20, 4, 99, 7, 7, 7, 7, 1, 1, 1, 2, 2, 2, 3, 4, 5, 6, 0, 9, 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		n := int(data[0]%20) + 1
		blocks := int(data[1]%4) + 1
		pl := int64(blocks) * wire.BlockSize
		total := int64(n-1)*pl + 1 + int64(data[2])*int64(blocks)*wire.BlockSize/256
		p := New(n, pl, total, rand.New(rand.NewPCG(uint64(data[2]), 0)))
		data = data[3:]
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			v := int(data[0])
			data = data[1:]
			return v
		}
		peerBF := map[int]*bitfield.Bitfield{}
		for len(data) > 0 {
			op, peer := next()%12, next()%4
			if peerBF[peer] == nil {
				peerBF[peer] = bitfield.New(n)
				if peer == 0 {
					peerBF[peer] = bitfield.Full(n)
				}
				p.PeerBitfield(peerBF[peer].Clone())
			}
			piece := next() - 2 // some out of range
			switch op {
			case 0, 1:
				var fast []int
				if op == 1 {
					fast = []int{piece, next() % (n + 1)}
				}
				for _, b := range p.Pick(peer, peerBF[peer], next()%40, fast) {
					if !peerBF[peer].Has(b.Piece) || p.Have(b.Piece) {
						t.Fatalf("bad pick %v", b)
					}
				}
			case 2, 3:
				reqs := p.PeerRequests(peer)
				if len(reqs) > 0 {
					b := reqs[next()%len(reqs)]
					if fresh, _ := p.Received(peer, b); !fresh {
						t.Fatalf("requested block %v not fresh", b)
					}
					if p.PieceComplete(b.Piece) {
						if next()%3 == 0 {
							p.PieceFailed(b.Piece)
						} else {
							p.SetHave(b.Piece)
						}
					}
				}
			case 4:
				p.Received(peer, Block{piece, next()*wire.BlockSize/8 - wire.BlockSize, next() * 1000})
			case 5:
				p.Cancel(peer, Block{piece, (next() % 5) * wire.BlockSize, wire.BlockSize})
			case 6:
				if reqs := p.PeerRequests(peer); len(reqs) > 0 {
					p.Cancel(peer, reqs[next()%len(reqs)])
				}
			case 7:
				p.PeerGone(peerBF[peer])
				p.RemovePeer(peer)
				delete(peerBF, peer)
			case 8:
				if peerBF[peer].Set(piece) {
					p.PeerHave(piece)
				}
			case 9:
				p.SetPriority(piece, next()%4-1)
			case 10:
				p.SetHave(piece)
			case 11:
				p.PieceFailed(piece)
			}
			if err := p.checkInvariants(); err != nil {
				t.Fatalf("after op %d: %v", op, err)
			}
			for i := range n {
				want := 0
				for _, b := range peerBF {
					if b.Has(i) {
						want++
					}
				}
				if got := p.Availability(i); got != want {
					t.Fatalf("Availability(%d) = %d, want %d", i, got, want)
				}
			}
		}
	})
}
