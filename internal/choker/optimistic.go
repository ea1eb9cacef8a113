package choker

import "time"

// optimisticEligible reports whether p may hold the optimistic slot. Snubbed
// peers may: the optimistic slot is their only way back.
func optimisticEligible(p Peer) bool {
	return p.Interested && !p.Seed
}

// drawOptimistic picks a new optimistic peer among the eligible peers not in
// taken, weighting new peers NewPeerWeight to 1. The outgoing optimistic peer
// is excluded unless it is the only candidate.
func (c *Choker) drawOptimistic(peers []Peer, taken map[int]bool, outgoing int, now time.Time) (int, bool) {
	type weighted struct{ id, w int }
	pool := make([]weighted, 0, len(peers))
	total := 0
	outgoingEligible := false
	for _, p := range peers {
		if !optimisticEligible(p) || taken[p.ID] {
			continue
		}
		if p.ID == outgoing {
			outgoingEligible = true
			continue
		}
		w := 1
		if !p.ConnectedAt.IsZero() && now.Sub(p.ConnectedAt) < c.newPeerWindow {
			w = NewPeerWeight
		}
		pool = append(pool, weighted{p.ID, w})
		total += w
	}
	if len(pool) == 0 {
		if outgoingEligible {
			return outgoing, true
		}
		return -1, false
	}
	r := c.rng.IntN(total)
	for _, e := range pool {
		if r < e.w {
			return e.id, true
		}
		r -= e.w
	}
	return pool[len(pool)-1].id, true // unreachable: r < total
}
