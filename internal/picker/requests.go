package picker

import (
	"slices"

	"github.com/gobit/gobit/internal/wire"
)

// blockState is the record of one block of a partial piece.
type blockState struct {
	reqs     []PeerID // peers the block is requested from; empty once received
	from     PeerID   // who sent it, valid when received
	received bool
}

// partialPiece is the per-block record of a partial piece.
type partialPiece struct {
	piece      int
	blocks     []blockState
	nRequested int // blocks requested and not received
	nReceived  int
	mark       uint32 // de-duplication during a pick (Picker.gen)
}

// missing returns the number of blocks neither requested nor received.
func (pp *partialPiece) missing() int { return len(pp.blocks) - pp.nRequested - pp.nReceived }

// startPartial turns an untouched piece into a partial one with no block
// requested yet; the caller requests at least one block right away.
func (p *Picker) startPartial(piece int) *partialPiece {
	p.removeUntouched(piece)
	n := p.numBlocks(piece)
	pp := &partialPiece{piece: piece, blocks: make([]blockState, n)}
	// One backing array gives every block room for one requester; only
	// endgame duplicates allocate more.
	buf := make([]PeerID, n)
	for i := range pp.blocks {
		pp.blocks[i].reqs = buf[i : i : i+1]
	}
	p.partialOf[piece] = pp
	p.partials = append(p.partials, pp)
	return pp
}

// dropPartial forgets the partial record; the caller has released its
// requests and decides what the piece becomes.
func (p *Picker) dropPartial(pp *partialPiece) {
	p.partialOf[pp.piece] = nil
	if i := slices.Index(p.partials, pp); i >= 0 {
		p.partials = slices.Delete(p.partials, i, i+1)
	}
}

// maybeUntouch turns a partial piece with no requested and no received block
// back into an untouched one.
func (p *Picker) maybeUntouch(pp *partialPiece) {
	if pp.nRequested > 0 || pp.nReceived > 0 || p.partialOf[pp.piece] != pp {
		return
	}
	p.dropPartial(pp)
	if p.prio[pp.piece] > 0 && !p.have.Has(pp.piece) {
		p.insertUntouched(pp.piece)
	}
}

// request records that the block is requested from the peer.
func (p *Picker) request(pp *partialPiece, idx int, peer PeerID, ps *peerState) Block {
	bs := &pp.blocks[idx]
	if len(bs.reqs) == 0 {
		pp.nRequested++
	}
	bs.reqs = append(bs.reqs, peer)
	b := p.blockAt(pp.piece, idx)
	ps.reqs = append(ps.reqs, b)
	p.nReqs++
	return b
}

// dropPeerReq removes b from the peer's request list.
func (p *Picker) dropPeerReq(peer PeerID, b Block) {
	ps := p.peers[peer]
	if ps == nil {
		return
	}
	if i := slices.Index(ps.reqs, b); i >= 0 {
		ps.reqs = slices.Delete(ps.reqs, i, i+1)
		p.nReqs--
	}
}

// releaseAll forgets every outstanding request for the piece's blocks.
func (p *Picker) releaseAll(pp *partialPiece) {
	for idx := range pp.blocks {
		bs := &pp.blocks[idx]
		if len(bs.reqs) == 0 {
			continue
		}
		b := p.blockAt(pp.piece, idx)
		for _, peer := range bs.reqs {
			p.dropPeerReq(peer, b)
		}
		bs.reqs = bs.reqs[:0]
		if !bs.received {
			pp.nRequested--
		}
	}
}

// Received records that block b arrived from the peer. fresh is false when
// the block is not wanted: we already had it (a duplicate, typical in
// endgame), we have the piece, the block does not match the torrent's
// geometry, or its piece is not partial (nobody asked for it); the caller
// then drops the data. When fresh, the block is marked received and every
// request for it is released, including other peers' duplicates: others
// lists those peers so the caller can send them CANCEL (a later Cancel for
// them is a no-op, and their late data is reported as not fresh).
func (p *Picker) Received(peer PeerID, b Block) (fresh bool, others []PeerID) {
	idx, ok := p.blockIndex(b)
	if !ok {
		return false, nil
	}
	pp := p.partialOf[b.Piece]
	if pp == nil {
		return false, nil
	}
	bs := &pp.blocks[idx]
	if bs.received {
		return false, nil
	}
	if len(bs.reqs) > 0 {
		pp.nRequested--
	}
	for _, r := range bs.reqs {
		p.dropPeerReq(r, b)
		if r != peer {
			others = append(others, r)
		}
	}
	bs.reqs = bs.reqs[:0]
	bs.received = true
	bs.from = peer
	pp.nReceived++
	return true, others
}

// ForgetReceived forgets the blocks the peer sent to partial pieces
// (except those for which skip returns true, e.g. pieces being verified):
// they become missing again, so that a peer found to send bad data leaves
// none of it behind to spoil pieces other peers complete. It returns the
// forgotten blocks; pieces left with nothing received or requested become
// untouched.
func (p *Picker) ForgetReceived(peer PeerID, skip func(piece int) bool) []Block {
	var out []Block
	var touched []*partialPiece
	for _, pp := range p.partials {
		if skip != nil && skip(pp.piece) {
			continue
		}
		n := len(out)
		for idx := range pp.blocks {
			bs := &pp.blocks[idx]
			if bs.received && bs.from == peer {
				bs.received = false
				pp.nReceived--
				out = append(out, p.blockAt(pp.piece, idx))
			}
		}
		if len(out) > n {
			touched = append(touched, pp)
		}
	}
	for _, pp := range touched {
		p.maybeUntouch(pp)
	}
	return out
}

// PieceComplete reports whether every block of the piece has been received;
// the caller then hashes it and calls SetHave or PieceFailed.
func (p *Picker) PieceComplete(piece int) bool {
	if piece < 0 || piece >= p.numPieces {
		return false
	}
	pp := p.partialOf[piece]
	return pp != nil && pp.nReceived == len(pp.blocks)
}

// Cancel records that our request of block b to the peer ended without data
// (rejected, choked, timed out or cancelled). The block becomes requestable
// again unless other peers still have it requested. Unknown requests are
// ignored.
func (p *Picker) Cancel(peer PeerID, b Block) {
	idx, ok := p.blockIndex(b)
	if !ok {
		return
	}
	pp := p.partialOf[b.Piece]
	if pp == nil {
		return
	}
	bs := &pp.blocks[idx]
	i := slices.Index(bs.reqs, peer)
	if i < 0 {
		return
	}
	bs.reqs = slices.Delete(bs.reqs, i, i+1)
	if len(bs.reqs) == 0 {
		bs.reqs = bs.reqs[:0]
		pp.nRequested--
	}
	p.dropPeerReq(peer, b)
	p.maybeUntouch(pp)
}

// RemovePeer releases all the peer's outstanding requests (the peer
// disconnected) and forgets the peer. Its availability is removed separately
// with PeerGone.
func (p *Picker) RemovePeer(peer PeerID) {
	ps := p.peers[peer]
	if ps == nil {
		return
	}
	delete(p.peers, peer)
	p.nReqs -= len(ps.reqs)
	var touched []*partialPiece
	for _, b := range ps.reqs {
		pp := p.partialOf[b.Piece]
		if pp == nil {
			continue
		}
		bs := &pp.blocks[b.Begin/wire.BlockSize]
		if i := slices.Index(bs.reqs, peer); i >= 0 {
			bs.reqs = slices.Delete(bs.reqs, i, i+1)
			if len(bs.reqs) == 0 {
				bs.reqs = bs.reqs[:0]
				pp.nRequested--
			}
		}
		if len(touched) == 0 || touched[len(touched)-1] != pp {
			touched = append(touched, pp)
		}
	}
	for _, pp := range touched {
		p.maybeUntouch(pp)
	}
}

// PieceFailed records that the piece's hash did not match: every block goes
// back to missing, outstanding requests for it are released, and the piece
// becomes untouched. It returns the distinct peers that sent its blocks, in
// increasing order, so the caller can penalize them. It returns nil for a
// piece that is not partial.
func (p *Picker) PieceFailed(piece int) (contributors []PeerID) {
	if piece < 0 || piece >= p.numPieces {
		return nil
	}
	pp := p.partialOf[piece]
	if pp == nil {
		return nil
	}
	for _, bs := range pp.blocks {
		if bs.received && !slices.Contains(contributors, bs.from) {
			contributors = append(contributors, bs.from)
		}
	}
	slices.Sort(contributors)
	p.releaseAll(pp)
	for i := range pp.blocks {
		pp.blocks[i] = blockState{reqs: pp.blocks[i].reqs[:0]}
	}
	pp.nReceived = 0
	p.maybeUntouch(pp)
	return contributors
}
