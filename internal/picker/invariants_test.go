package picker

import (
	"fmt"
	"slices"
)

// checkInvariants verifies every invariant of the package doc against the
// picker's internal state and returns the first violation.
func (p *Picker) checkInvariants() error {
	haveCount, wanted, untouched := 0, 0, 0
	for i := range p.numPieces {
		have := p.have.Has(i)
		partial := p.partialOf[i] != nil
		inLevel := p.pos[i] >= 0
		if have {
			haveCount++
		} else if p.prio[i] > 0 {
			wanted++
		}
		switch {
		case have && (partial || inLevel):
			return fmt.Errorf("piece %d: have but partial=%v inLevel=%v", i, partial, inLevel)
		case partial && inLevel:
			return fmt.Errorf("piece %d: partial and in a level", i)
		case !have && !partial && p.prio[i] > 0 && !inLevel:
			return fmt.Errorf("piece %d: untouched wanted piece missing from the levels", i)
		case !have && !partial && p.prio[i] == 0 && inLevel:
			return fmt.Errorf("piece %d: priority 0 piece in a level", i)
		}
		if p.avail[i] < 0 {
			return fmt.Errorf("piece %d: negative avail", i)
		}
		if inLevel {
			untouched++
			l := p.levelOf(i)
			if l == nil || int(p.pos[i]) >= len(l.pieces) || l.pieces[p.pos[i]] != int32(i) {
				return fmt.Errorf("piece %d: bad level position %d", i, p.pos[i])
			}
			k := p.avail[i]
			if k >= l.buckets() || p.pos[i] < l.start[k] || p.pos[i] >= l.start[k+1] {
				return fmt.Errorf("piece %d: avail %d but at %d, buckets %v", i, k, p.pos[i], l.start)
			}
		}
	}
	if haveCount != p.haveCount || p.have.Count() != haveCount {
		return fmt.Errorf("haveCount %d, counted %d", p.haveCount, haveCount)
	}
	if wanted != p.wantedMissing {
		return fmt.Errorf("wantedMissing %d, counted %d", p.wantedMissing, wanted)
	}
	if untouched != p.untouched {
		return fmt.Errorf("untouched %d, counted %d", p.untouched, untouched)
	}
	total := 0
	for li, l := range p.levels {
		if li > 0 && p.levels[li-1].prio <= l.prio {
			return fmt.Errorf("levels not in descending priority")
		}
		if len(l.start) < 2 || l.start[0] != 0 || int(l.start[len(l.start)-1]) != len(l.pieces) {
			return fmt.Errorf("level %d: bad bounds %v for %d pieces", l.prio, l.start, len(l.pieces))
		}
		for k := 1; k < len(l.start); k++ {
			if l.start[k] < l.start[k-1] {
				return fmt.Errorf("level %d: bounds not monotonic %v", l.prio, l.start)
			}
		}
		total += len(l.pieces)
	}
	if total != untouched {
		return fmt.Errorf("levels hold %d pieces, %d untouched", total, untouched)
	}

	// Partial pieces and requests.
	reqCount := map[PeerID]int{}
	n := 0
	for i, pp := range p.partialOf {
		if pp == nil {
			continue
		}
		n++
		if !slices.Contains(p.partials, pp) || pp.piece != i {
			return fmt.Errorf("piece %d: partial record not listed", i)
		}
		if len(pp.blocks) != p.numBlocks(i) {
			return fmt.Errorf("piece %d: %d blocks, want %d", i, len(pp.blocks), p.numBlocks(i))
		}
		requested, received := 0, 0
		for idx, bs := range pp.blocks {
			if bs.received {
				received++
				if len(bs.reqs) > 0 {
					return fmt.Errorf("piece %d block %d: received but requested by %v", i, idx, bs.reqs)
				}
				continue
			}
			if len(bs.reqs) > 0 {
				requested++
			}
			b := p.blockAt(i, idx)
			for j, peer := range bs.reqs {
				if slices.Contains(bs.reqs[:j], peer) {
					return fmt.Errorf("piece %d block %d: peer %d requested twice", i, idx, peer)
				}
				ps := p.peers[peer]
				if ps == nil || !slices.Contains(ps.reqs, b) {
					return fmt.Errorf("piece %d block %d: peer %d does not list the request", i, idx, peer)
				}
				reqCount[peer]++
			}
		}
		if requested != pp.nRequested || received != pp.nReceived {
			return fmt.Errorf("piece %d: counts requested %d/%d received %d/%d", i, pp.nRequested, requested, pp.nReceived, received)
		}
		if requested+received == 0 {
			return fmt.Errorf("piece %d: partial with nothing requested or received", i)
		}
	}
	if n != len(p.partials) {
		return fmt.Errorf("%d partial records, %d listed", n, len(p.partials))
	}
	nreqs := 0
	for peer, ps := range p.peers {
		if len(ps.reqs) != reqCount[peer] {
			return fmt.Errorf("peer %d lists %d requests, blocks list %d", peer, len(ps.reqs), reqCount[peer])
		}
		nreqs += len(ps.reqs)
	}
	if nreqs != p.nReqs {
		return fmt.Errorf("request count %d, peers list %d", p.nReqs, nreqs)
	}
	// Time-critical pieces: sorted, each once, none we have.
	for i, c := range p.crit {
		if i > 0 && compareCritical(p.crit[i-1], c) >= 0 {
			return fmt.Errorf("deadlines out of order or repeated: %v", p.crit)
		}
		if c.piece < 0 || c.piece >= p.numPieces || p.have.Has(c.piece) {
			return fmt.Errorf("deadline for piece %d, which we have or which does not exist", c.piece)
		}
	}
	return nil
}
