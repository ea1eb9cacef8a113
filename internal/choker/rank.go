package choker

import (
	"cmp"
	"slices"
	"time"
)

// candidate is a peer with its sort keys for one round.
type candidate struct {
	id        int
	done      bool  // seeding: has used up its slot (see the package doc)
	primary   int64 // leeching: DownloadRate; seeding: effective UploadRate
	secondary int64 // leeching: UploadRate; seeding: unused
	waited    int64 // seeding: LastUnchoked in Unix nanoseconds, MinInt64 if never
	random    uint64
}

// regularEligible reports whether p may hold a regular slot.
func regularEligible(p Peer, seeding bool) bool {
	return p.Interested && !p.Seed && (seeding || !p.Snubbed)
}

// regular returns the IDs of the peers that get a regular slot this round,
// best first. The current optimistic peer (c.opt, if still set) is excluded.
func (c *Choker) regular(peers []Peer, seeding bool, now time.Time) []int {
	cands := make([]candidate, 0, len(peers))
	for _, p := range peers {
		if !regularEligible(p, seeding) || (c.opt >= 0 && p.ID == c.opt) {
			continue
		}
		cd := candidate{id: p.ID, random: c.rng.Uint64()}
		if seeding {
			cd.done = !p.Choked && (!now.Before(p.LastUnchoked.Add(c.seedRotate)) ||
				(c.seedQuota > 0 && p.UploadedSinceUnchoke >= c.seedQuota))
			if !p.Choked {
				cd.primary = p.UploadRate
			}
			cd.waited = minTime
			if !p.LastUnchoked.IsZero() {
				cd.waited = p.LastUnchoked.UnixNano()
			}
		} else {
			cd.primary, cd.secondary = p.DownloadRate, p.UploadRate
		}
		cands = append(cands, cd)
	}
	slices.SortFunc(cands, compareCandidates)
	n := len(cands)
	if c.slots >= 0 {
		n = min(n, c.slots)
	}
	ids := make([]int, n)
	for i := range ids {
		ids[i] = cands[i].id
	}
	return ids
}

// minTime sorts before every real LastUnchoked.
const minTime = -1 << 63

// compareCandidates orders candidates best first. For leeching candidates
// done and waited are always false and 0, so the order is DownloadRate,
// UploadRate, random; for seeding ones secondary is 0, so the order is done,
// effective UploadRate, LastUnchoked, random.
func compareCandidates(a, b candidate) int {
	if a.done != b.done {
		if a.done {
			return 1
		}
		return -1
	}
	if r := cmp.Compare(b.primary, a.primary); r != 0 {
		return r
	}
	if r := cmp.Compare(b.secondary, a.secondary); r != 0 {
		return r
	}
	if r := cmp.Compare(a.waited, b.waited); r != 0 {
		return r
	}
	return cmp.Compare(a.random, b.random)
}
