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
// Order: blocks of time-critical pieces (SetDeadline), earliest deadline
// first; then missing blocks of partial pieces this peer is already working
// on, then of the other partial pieces (oldest first), then new pieces,
// highest priority first and rarest first within a priority, ties broken at
// random.
// Pick never returns a block of a piece the peer lacks, of a piece we have or
// whose priority is 0, nor a block already requested from this peer. Outside
// endgame it never returns a block requested from anyone; in endgame (see
// Endgame) it returns blocks requested from other peers, those with the
// fewest requesters first; and a block of a time-critical piece whose
// deadline has come may be requested from a few peers at once.
func (p *Picker) Pick(peer PeerID, has *bitfield.Bitfield, max int, allowedFast []int) []Block {
	out := p.PickInto(nil, peer, has, max, allowedFast)
	if len(out) == 0 {
		return nil
	}
	return out
}

// PickInto is Pick returning the blocks in buf's backing array (grown if
// too small; buf's contents are overwritten), so that a caller that picks
// for every block it receives allocates nothing.
func (p *Picker) PickInto(buf []Block, peer PeerID, has *bitfield.Bitfield, max int, allowedFast []int) []Block {
	out := buf[:0]
	if max <= 0 || has == nil || p.wantedMissing == 0 || has.Empty() {
		return out
	}
	if allowedFast != nil && len(allowedFast) == 0 {
		return out
	}
	ps := p.peerState(peer)
	ok := p.pickable(has, allowedFast)
	if cap(out) == 0 {
		out = make([]Block, 0, min(max, 64))
	}

	// 0. Time-critical pieces, earliest deadline first.
	if len(p.crit) > 0 {
		if out = p.takeCritical(peer, ps, ok, out, max); len(out) == max {
			return out
		}
	}

	// 1. Partial pieces this peer already has requests in.
	p.gen++
	mine := p.mine[:0]
	for _, b := range ps.reqs {
		if pp := p.partialOf[b.Piece]; pp != nil && pp.mark != p.gen {
			pp.mark = p.gen
			mine = append(mine, pp)
		}
	}
	p.mine = mine
	defer clear(mine) // hold no partial piece until the next call
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

// peerState returns the peer's request record, creating it.
func (p *Picker) peerState(peer PeerID) *peerState {
	ps := p.peers[peer]
	if ps == nil {
		ps = &peerState{}
		p.peers[peer] = ps
	}
	return ps
}

// pickable returns the test a piece passes to be picked from a peer that
// has has (and, when allowedFast is not nil, only those pieces may be
// requested): the peer has it and its priority is above 0.
func (p *Picker) pickable(has *bitfield.Bitfield, allowedFast []int) func(int) bool {
	return func(piece int) bool {
		return has.Has(piece) && p.prio[piece] > 0 && (allowedFast == nil || slices.Contains(allowedFast, piece))
	}
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
	if p.sequential {
		return p.chooseSequential(has, allowedFast, need, budget)
	}
	if allowedFast != nil {
		sel := p.newSelector(need, budget)
		for i, piece := range allowedFast {
			if piece >= 0 && piece < p.numPieces && p.pos[piece] >= 0 && has.Has(piece) && !slices.Contains(allowedFast[:i], piece) {
				sel.add(piece)
			}
		}
		return sel.result()
	}
	// A peer with few pieces: walking its bitfield is cheaper than walking
	// the buckets past the many pieces it lacks.
	if has.Count()*16 < p.untouched {
		return p.chooseFromBitfield(has, need, budget)
	}
	// Walk the buckets, but once the walk has cost about what walking the
	// peer's bitfield costs (the peer lacks the rarer pieces), switch: no
	// pick is worse than about twice the cheaper of the two.
	limit := has.Count() + p.numPieces/8
	scanned := 0
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
					if scanned++; scanned > limit {
						return p.chooseFromBitfield(has, need, budget)
					}
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

// chooseFromBitfield is chooseNew by a walk over the peer's pieces.
func (p *Picker) chooseFromBitfield(has *bitfield.Bitfield, need, budget int) []int {
	sel := p.newSelector(need, budget)
	forEachSet(has, p.numPieces, func(piece int) {
		if p.pos[piece] >= 0 {
			sel.add(piece)
		}
	})
	return sel.result()
}

// selKey orders candidate pieces: higher priority, then lower availability,
// then a random tie-break.
type selKey struct {
	piece int
	prio  int32
	avail int32
	tie   uint64
}

// less reports whether a goes before b, ignoring the tie-break.
func (a selKey) less(b selKey) bool {
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	return a.avail < b.avail
}

// selector keeps the best k candidate pieces seen so far, best first, in
// O(k) per better candidate and O(1) per worse one; it never sorts all
// candidates.
type selector struct {
	p     *Picker
	need  int
	k     int
	items []selKey
}

// newSelector returns a selector for enough pieces to cover need blocks, at
// most budget of them. Only the last piece may have fewer blocks than the
// others, so one piece more than need/blocks-per-piece suffices.
func (p *Picker) newSelector(need, budget int) *selector {
	per := max(p.numBlocks(0), 1)
	k := min(budget, (need+per-1)/per+1)
	return &selector{p: p, need: need, k: k, items: make([]selKey, 0, k)}
}

// add offers an untouched piece.
func (s *selector) add(piece int) {
	c := selKey{piece: piece, prio: s.p.prio[piece], avail: s.p.avail[piece]}
	if len(s.items) == s.k {
		w := s.items[len(s.items)-1]
		if w.less(c) {
			return
		}
		c.tie = s.p.rng.Uint64()
		if !c.less(w) && c.tie >= w.tie {
			return
		}
		s.items = s.items[:len(s.items)-1]
	} else {
		c.tie = s.p.rng.Uint64()
	}
	i := len(s.items)
	s.items = append(s.items, c)
	for i > 0 && (c.less(s.items[i-1]) || !s.items[i-1].less(c) && c.tie < s.items[i-1].tie) {
		s.items[i] = s.items[i-1]
		i--
	}
	s.items[i] = c
}

// result returns the best pieces covering need blocks.
func (s *selector) result() []int {
	var chosen []int
	covered := 0
	for _, it := range s.items {
		if covered >= s.need {
			break
		}
		chosen = append(chosen, it.piece)
		covered += s.p.numBlocks(it.piece)
	}
	return chosen
}
