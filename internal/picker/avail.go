package picker

import (
	"math/bits"

	"github.com/gobit/gobit/internal/bitfield"
)

// maxAvail bounds the availability counted per piece (beyond the seeds), so
// that a caller bug repeating HAVEs cannot grow the buckets without bound.
const maxAvail = 1 << 20

// PeerHave records that one peer announced the piece (a HAVE message). It
// costs O(1). The caller calls it once per peer and piece, only when the
// peer's bitfield bit changes (a repeated HAVE is not news). Indexes out of
// range are ignored.
func (p *Picker) PeerHave(piece int) {
	if piece < 0 || piece >= p.numPieces {
		return
	}
	k := p.avail[piece]
	if k >= maxAvail {
		return
	}
	p.avail[piece] = k + 1
	if p.pos[piece] >= 0 {
		p.bucketUp(p.levelOf(piece), piece, k)
	}
}

// peerLost records that one peer that had the piece is gone.
func (p *Picker) peerLost(piece int) {
	k := p.avail[piece]
	if k <= 0 {
		// The caller removed more than it added; clamp rather than
		// corrupt the buckets.
		return
	}
	p.avail[piece] = k - 1
	if p.pos[piece] >= 0 {
		p.bucketDown(p.levelOf(piece), piece, k)
	}
}

// PeerBitfield adds a peer's whole bitfield to the availability. A full
// bitfield (a seed, or HaveAll) costs O(1); otherwise the cost is one O(1)
// move per set bit. Bits beyond the torrent's pieces are ignored.
func (p *Picker) PeerBitfield(bf *bitfield.Bitfield) {
	if bf == nil {
		return
	}
	p.bitfieldPeers++
	if bf.Len() == p.numPieces && bf.Full() {
		p.seeds++
		return
	}
	forEachSet(bf, p.numPieces, p.PeerHave)
}

// PeerGone removes a departed peer's bitfield from the availability. bf must
// be the peer's bitfield as it was last reported (its first bitfield plus its
// HAVEs). Availability never goes below zero.
func (p *Picker) PeerGone(bf *bitfield.Bitfield) {
	if bf == nil {
		return
	}
	if p.bitfieldPeers > 0 {
		p.bitfieldPeers--
	}
	if bf.Len() == p.numPieces && bf.Full() {
		p.seeds--
		return
	}
	forEachSet(bf, p.numPieces, p.peerLost)
}

// Availability returns how many peers announced the piece.
func (p *Picker) Availability(piece int) int {
	if piece < 0 || piece >= p.numPieces {
		return 0
	}
	return max(int(p.avail[piece])+p.seeds, 0)
}

// forEachSet calls fn for every set bit of bf below n, in increasing order.
func forEachSet(bf *bitfield.Bitfield, n int, fn func(int)) {
	for bi, b := range bf.Bytes() {
		for b != 0 {
			lz := bits.LeadingZeros8(b)
			b &^= 0x80 >> lz
			i := bi*8 + lz
			if i >= n {
				return
			}
			fn(i)
		}
	}
}
