package picker

import (
	"cmp"
	"slices"

	"github.com/gobit/gobit/internal/bitfield"
)

// Time-critical pieces, as libtorrent's piece deadlines: a piece with a
// deadline is picked before every piece without one, whatever its priority,
// rarity or the partial pieces in progress, and pieces with deadlines are
// picked earliest deadline first. Once a piece's deadline has come (the
// picker's clock, SetNow, is at or past it, or within SetDuplicateLead of
// it), its blocks already requested from other peers are requested again,
// as in endgame, so that the first peer to answer wins; at most
// maxCriticalRequesters peers share a block. A slow peer (SetPeerDelay) is
// not given pieces due before its blocks could arrive.
//
// Deadlines and the clock are plain numbers in a unit of the caller's
// choosing (the torrent uses nanoseconds of a monotonic clock); the picker
// reads no clock of its own.

// maxCriticalRequesters bounds how many peers a block of a piece whose
// deadline has come is requested from at once.
const maxCriticalRequesters = 3

// maxCritical bounds the pieces with a deadline; SetDeadline beyond it
// drops the latest deadline.
const maxCritical = 4096

// critical is a piece with a deadline.
type critical struct {
	piece    int
	deadline int64
}

// SetDeadline makes the piece time-critical, to be fetched before the given
// deadline (see the package's section on time-critical pieces); a piece
// that already has one gets the new one. Pieces we have and indexes out of
// range are ignored. A piece keeps its deadline until ClearDeadline or
// SetHave.
func (p *Picker) SetDeadline(piece int, deadline int64) {
	if piece < 0 || piece >= p.numPieces || p.have.Has(piece) {
		return
	}
	p.removeCritical(piece)
	c := critical{piece: piece, deadline: deadline}
	i, _ := slices.BinarySearchFunc(p.crit, c, compareCritical)
	p.crit = slices.Insert(p.crit, i, c)
	if len(p.crit) > maxCritical {
		p.crit = p.crit[:maxCritical]
	}
}

// compareCritical orders pieces with deadlines: earliest deadline first,
// then lowest index.
func compareCritical(a, b critical) int {
	if c := cmp.Compare(a.deadline, b.deadline); c != 0 {
		return c
	}
	return cmp.Compare(a.piece, b.piece)
}

// ClearDeadline makes the piece no longer time-critical; its outstanding
// requests stay.
func (p *Picker) ClearDeadline(piece int) { p.removeCritical(piece) }

// removeCritical drops the piece's deadline, if any.
func (p *Picker) removeCritical(piece int) {
	if i := slices.IndexFunc(p.crit, func(c critical) bool { return c.piece == piece }); i >= 0 {
		p.crit = slices.Delete(p.crit, i, i+1)
	}
}

// Deadline returns the piece's deadline and whether it has one.
func (p *Picker) Deadline(piece int) (int64, bool) {
	for _, c := range p.crit {
		if c.piece == piece {
			return c.deadline, true
		}
	}
	return 0, false
}

// Critical returns the number of pieces with a deadline.
func (p *Picker) Critical() int { return len(p.crit) }

// SetNow sets the picker's clock, against which deadlines are compared (in
// the unit of the deadlines).
func (p *Picker) SetNow(now int64) { p.now = now }

// SetDuplicateLead makes blocks of a time-critical piece requested from
// more peers once its deadline is within lead of the clock, not only once
// it has come (lead 0, the default).
func (p *Picker) SetDuplicateLead(lead int64) { p.dupLead = max(lead, 0) }

// SetPeerDelay tells how long a block requested from the peer now would
// take to arrive (its queue at the peer over its rate; 0, the default, when
// unknown or when the peer is among the fastest). Time-critical pieces due
// sooner than that are not picked from the peer: faster peers fetch them.
// A peer the picker does not know yet is remembered.
func (p *Picker) SetPeerDelay(peer PeerID, delay int64) { p.peerState(peer).delay = max(delay, 0) }

// Unrequested returns how many blocks of the piece are neither requested
// from any peer nor received: all of them for a piece not started, none
// for a piece we have.
func (p *Picker) Unrequested(piece int) int {
	switch {
	case piece < 0 || piece >= p.numPieces || p.have.Has(piece):
		return 0
	case p.partialOf[piece] != nil:
		return p.partialOf[piece].missing()
	}
	return p.numBlocks(piece)
}

// PickCritical is PickInto restricted to time-critical pieces: it returns
// only blocks of pieces with a deadline, in the order PickInto would.
func (p *Picker) PickCritical(buf []Block, peer PeerID, has *bitfield.Bitfield, max int, allowedFast []int) []Block {
	out := buf[:0]
	if max <= 0 || has == nil || len(p.crit) == 0 || has.Empty() || (allowedFast != nil && len(allowedFast) == 0) {
		return out
	}
	ps := p.peerState(peer)
	return p.takeCritical(peer, ps, p.pickable(has, allowedFast), out, max)
}

// takeCritical requests blocks of time-critical pieces from the peer,
// earliest deadline first: for each piece, its missing blocks (starting
// the piece if it is untouched, whatever the limit on partial pieces),
// then, once its deadline has come, blocks already requested from fewer
// than maxCriticalRequesters other peers.
func (p *Picker) takeCritical(peer PeerID, ps *peerState, ok func(int) bool, out []Block, max int) []Block {
	for _, c := range p.crit {
		if len(out) == max {
			break
		}
		if !ok(c.piece) || p.have.Has(c.piece) || (ps.delay > 0 && c.deadline < p.now+ps.delay) {
			continue
		}
		pp := p.partialOf[c.piece]
		if pp == nil {
			if p.pos[c.piece] < 0 {
				continue
			}
			pp = p.startPartial(c.piece)
		}
		out = p.takeMissing(pp, peer, ps, out, max)
		if c.deadline > p.now+p.dupLead {
			continue
		}
		for idx := range pp.blocks {
			if len(out) == max {
				break
			}
			bs := &pp.blocks[idx]
			if bs.received || len(bs.reqs) == 0 || len(bs.reqs) >= maxCriticalRequesters || slices.Contains(bs.reqs, peer) {
				continue
			}
			out = append(out, p.request(pp, idx, peer, ps))
		}
	}
	return out
}
