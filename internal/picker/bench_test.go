package picker

import (
	"math/rand/v2"
	"testing"

	"github.com/gobit/gobit/internal/bitfield"
)

const (
	benchPieces   = 100_000
	benchBlocks   = 16 // 256 KiB pieces
	benchPeers    = 200
	benchPickSize = 32
)

// benchSwarm builds a 100k-piece picker with benchPeers peers of random
// density (a few of them seeds) and returns it with the peers' bitfields.
func benchSwarm(b *testing.B, seed uint64) (*Picker, []*bitfield.Bitfield) {
	b.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	p := newPicker(b, benchPieces, benchBlocks, seed)
	bfs := make([]*bitfield.Bitfield, benchPeers)
	for i := range bfs {
		if i%10 == 0 {
			bfs[i] = bitfield.Full(benchPieces)
		} else {
			bfs[i] = bitfield.New(benchPieces)
			density := 0.05 + 0.9*rng.Float64()
			for j := range benchPieces {
				if rng.Float64() < density {
					bfs[i].Set(j)
				}
			}
		}
		p.PeerBitfield(bfs[i])
	}
	return p, bfs
}

// BenchmarkPick100kPieces measures one Pick of 32 blocks on a 100k-piece
// torrent in the middle of a download with 200 peers: each pick's blocks
// arrive and complete pieces are marked as had, so the picker keeps moving
// pieces from untouched to partial to have.
func BenchmarkPick100kPieces(b *testing.B) {
	p, bfs := benchSwarm(b, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		peer := i % benchPeers
		got := p.Pick(peer, bfs[peer], benchPickSize, nil)
		for _, blk := range got {
			p.Received(peer, blk)
			if p.PieceComplete(blk.Piece) {
				p.SetHave(blk.Piece)
			}
		}
		if p.Missing() < benchPieces/2 {
			b.StopTimer()
			p, bfs = benchSwarm(b, uint64(i))
			b.StartTimer()
		}
	}
}

// BenchmarkPickSparsePeer100k measures a pick for a peer that has 1% of the
// pieces, all of them common: the picker walks the peer's bitfield rather
// than the rare pieces the peer lacks.
func BenchmarkPickSparsePeer100k(b *testing.B) {
	p, _ := benchSwarm(b, 2)
	sparse := bitfield.New(benchPieces)
	for j := 0; j < benchPieces; j += 100 {
		sparse.Set(j)
		p.PeerHave(j)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		got := p.Pick(1, sparse, benchPickSize, nil)
		for _, blk := range got {
			p.Cancel(1, blk)
		}
		_ = i
	}
}

// BenchmarkPeerHave100k measures one HAVE on a 100k-piece torrent with 50
// peers: one swap between availability buckets.
func BenchmarkPeerHave100k(b *testing.B) {
	p, _ := benchSwarm(b, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	idx := make([]int, 1<<16)
	for i := range idx {
		idx[i] = rng.IntN(benchPieces)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p.PeerHave(idx[i&(len(idx)-1)])
	}
}

// BenchmarkPeerBitfield100k measures adding and removing a half-full
// bitfield on a 100k-piece torrent.
func BenchmarkPeerBitfield100k(b *testing.B) {
	p, bfs := benchSwarm(b, 4)
	half := bfs[1]
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p.PeerBitfield(half)
		p.PeerGone(half)
	}
}
