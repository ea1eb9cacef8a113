package picker

import (
	"slices"

	"github.com/gobit/gobit/internal/bitfield"
)

// SetSequential switches sequential mode: while on, new pieces are chosen
// in index order (lowest index first) within the highest priority that has
// candidates, instead of rarest first. Partial pieces are still finished
// first, and endgame is unchanged.
func (p *Picker) SetSequential(on bool) { p.sequential = on }

// Sequential reports whether sequential mode is on.
func (p *Picker) Sequential() bool { return p.sequential }

// SetPriorities sets the priority of every piece from prio (one entry per
// piece; missing entries count as 1, see SetPriority for the meaning).
func (p *Picker) SetPriorities(prio []int) {
	for i := range p.numPieces {
		v := 1
		if i < len(prio) {
			v = prio[i]
		}
		p.SetPriority(i, v)
	}
}

// chooseSequential is chooseNew in sequential mode: the untouched pieces the
// peer has (and, when allowedFast is not nil, that are in it), highest
// priority first and lowest index first within a priority, enough to cover
// need blocks and at most budget of them. It walks the pieces in index
// order once, and stops early once the highest priority in use has enough.
func (p *Picker) chooseSequential(has *bitfield.Bitfield, allowedFast []int, need, budget int) []int {
	top := int32(-1)
	for _, l := range p.levels {
		if len(l.pieces) > 0 {
			top = int32(l.prio)
			break
		}
	}
	if top < 0 {
		return nil
	}
	var chosen []int
	best := int32(-1)
	covered := 0
	for piece := range p.numPieces {
		if p.pos[piece] < 0 || !has.Has(piece) {
			continue
		}
		pr := p.prio[piece]
		if pr <= 0 || pr < best {
			continue
		}
		if allowedFast != nil && !slices.Contains(allowedFast, piece) {
			continue
		}
		if pr > best {
			best, chosen, covered = pr, chosen[:0], 0
		}
		if covered >= need || len(chosen) == budget {
			if best == top {
				break
			}
			continue // a higher priority may come later
		}
		chosen = append(chosen, piece)
		covered += p.numBlocks(piece)
		if best == top && (covered >= need || len(chosen) == budget) {
			break
		}
	}
	return chosen
}
