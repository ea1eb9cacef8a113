package picker

import (
	"cmp"
	"slices"

	"github.com/gobit/gobit/internal/bitfield"
)

// Pick returns up to max blocks to request from the peer, whose pieces are
// has, and records them as requested from it. allowedFast is nil when the
// peer unchokes us; otherwise (even empty) the peer chokes us and only those
// pieces may be requested.
//
// Order: missing blocks of partial pieces this peer is already working on,
// then of the other partial pieces (oldest first), then new pieces, highest
// priority first and rarest first within a priority, ties broken at random.
// Pick never returns a block of a piece the peer lacks, of a piece we have or
// whose priority is 0, nor a block already requested from this peer. Outside
// endgame it never returns a block requested from anyone; in endgame (see
// Endgame) it returns blocks requested from other peers, those with the
// fewest requesters first.
func (p *Picker) Pick(peer PeerID, has *bitfield.Bitfield, max int, allowedFast []int) []Block {
	if max <= 0 || has == nil || p.wantedMissing == 0 || has.Empty() {
		return nil
	}
	if allowedFast != nil && len(allowedFast) == 0 {
		return nil
	}
	ps := p.peers[peer]
	if ps == nil {
		ps = &peerState{}
		p.peers[peer] = ps
	}
	ok := func(piece int) bool {
		return has.Has(piece) && p.prio[piece] > 0 && (allowedFast == nil || slices.Contains(allowedFast, piece))
	}
	var out []Block

	// 1. Partial pieces this peer already has requests in.
	p.gen++
	var mine []*partialPiece
	for _, b := range ps.reqs {
		if pp := p.partialOf[b.Piece]; pp != nil && pp.mark != p.gen {
			pp.mark = p.gen
			mine = append(mine, pp)
		}
	}
	for _, pp := range mine {
		if len(out) == max {
			return out
		}
		if pp.missing() > 0 && ok(pp.piece) {
			out = p.takeMissing(pp, peer, ps, out, max)
		}
	}
	// 2. The other partial pieces, oldest first. Taking blocks never
	// starts or drops a partial piece, so iterating p.partials is safe.
	for _, pp := range p.partials {
		if len(out) == max {
			return out
		}
		if pp.missing() > 0 && ok(pp.piece) {
			out = p.takeMissing(pp, peer, ps, out, max)
		}
	}
	// 3. New pieces, within the soft limit on partial pieces.
	if len(out) < max && p.untouched > 0 {
		budget := p.partialLimit() - len(p.partials)
		if budget <= 0 {
			budget = 0
			if len(out) == 0 {
				budget = 1
			}
		}
		if budget > 0 {
			for _, piece := range p.chooseNew(has, allowedFast, max-len(out), budget) {
				pp := p.startPartial(piece)
				out = p.takeMissing(pp, peer, ps, out, max)
			}
		}
	}
	// 4. Endgame duplicates.
	if len(out) < max && p.Endgame() {
		out = p.takeDuplicates(peer, ps, ok, out, max)
	}
	return out
}

// takeMissing requests missing blocks of pp from the peer, in order, until
// out holds max blocks.
func (p *Picker) takeMissing(pp *partialPiece, peer PeerID, ps *peerState, out []Block, max int) []Block {
	for idx := range pp.blocks {
		if len(out) == max || pp.missing() == 0 {
			break
		}
		bs := &pp.blocks[idx]
		if bs.received || len(bs.reqs) > 0 {
			continue
		}
		out = append(out, p.request(pp, idx, peer, ps))
	}
	return out
}

// Endgame reports whether every block still missing from the pieces we want
// is already requested: no untouched wanted piece and no missing block of a
// wanted partial piece is left, but some wanted piece is not complete yet.
func (p *Picker) Endgame() bool {
	if p.wantedMissing == 0 || p.untouched > 0 {
		return false
	}
	for _, pp := range p.partials {
		if p.prio[pp.piece] > 0 && pp.missing() > 0 {
			return false
		}
	}
	return true
}

// takeDuplicates requests, from the peer, blocks already requested from other
// peers, fewest requesters first.
func (p *Picker) takeDuplicates(peer PeerID, ps *peerState, ok func(int) bool, out []Block, max int) []Block {
	type cand struct {
		pp  *partialPiece
		idx int
		n   int
	}
	var cands []cand
	for _, pp := range p.partials {
		if pp.nRequested == 0 || !ok(pp.piece) {
			continue
		}
		for idx := range pp.blocks {
			bs := &pp.blocks[idx]
			if bs.received || len(bs.reqs) == 0 || slices.Contains(bs.reqs, peer) {
				continue
			}
			cands = append(cands, cand{pp, idx, len(bs.reqs)})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(a.n, b.n) })
	for _, c := range cands {
		if len(out) == max {
			break
		}
		out = append(out, p.request(c.pp, c.idx, peer, ps))
	}
	return out
}

// chooseNew returns up to budget untouched pieces the peer has (and, when
// allowedFast is not nil, that are in it), best first, enough to cover need
// blocks.
func (p *Picker) chooseNew(has *bitfield.Bitfield, allowedFast []int, need, budget int) []int {
	if allowedFast != nil {
		var cands []int
		for _, piece := range allowedFast {
			if piece >= 0 && piece < p.numPieces && p.pos[piece] >= 0 && has.Has(piece) && !slices.Contains(cands, piece) {
				cands = append(cands, piece)
			}
		}
		return p.bestOf(cands, need, budget)
	}
	// A peer with few pieces: walking its bitfield is cheaper than walking
	// the buckets past the many pieces it lacks.
	if has.Count()*16 < p.untouched {
		var cands []int
		forEachSet(has, p.numPieces, func(piece int) {
			if p.pos[piece] >= 0 {
				cands = append(cands, piece)
			}
		})
		return p.bestOf(cands, need, budget)
	}
	var chosen []int
	covered := 0
	for _, l := range p.levels {
		for k := int32(0); k < l.buckets(); k++ {
			s, e := l.start[k], l.start[k+1]
			n := int(e - s)
			if n == 0 {
				continue
			}
			off := p.rng.IntN(n)
			for j := range n {
				piece := int(l.pieces[int(s)+(off+j)%n])
				if !has.Has(piece) {
					continue
				}
				chosen = append(chosen, piece)
				covered += p.numBlocks(piece)
				if covered >= need || len(chosen) == budget {
					return chosen
				}
			}
		}
	}
	return chosen
}

// bestOf orders candidate untouched pieces by (priority descending,
// availability ascending, random) and returns the first ones covering need
// blocks, at most budget of them.
func (p *Picker) bestOf(cands []int, need, budget int) []int {
	if len(cands) == 0 {
		return nil
	}
	type keyed struct {
		piece int
		prio  int32
		avail int32
		tie   uint64
	}
	ks := make([]keyed, len(cands))
	for i, c := range cands {
		ks[i] = keyed{c, p.prio[c], p.avail[c], p.rng.Uint64()}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if c := cmp.Compare(b.prio, a.prio); c != 0 {
			return c
		}
		if c := cmp.Compare(a.avail, b.avail); c != 0 {
			return c
		}
		return cmp.Compare(a.tie, b.tie)
	})
	var chosen []int
	covered := 0
	for _, k := range ks {
		chosen = append(chosen, k.piece)
		covered += p.numBlocks(k.piece)
		if covered >= need || len(chosen) == budget {
			break
		}
	}
	return chosen
}
