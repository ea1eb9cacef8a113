// Package choker decides which peers a torrent uploads to (unchokes).
//
// It is pure policy: no I/O, no goroutines, no clocks of its own. A Choker is
// owned by one torrent's event loop, which calls Review every choke round
// (10 s) with a snapshot of its peers and applies the answer by sending
// choke/unchoke messages. A Choker is not safe for concurrent use.
//
// # Algorithm
//
// Each round unchokes at most Slots regular peers plus one optimistic peer;
// every other peer is choked. Only peers that are interested in us and are
// not seeds are ever unchoked (a seed wants no data).
//
// Regular slots while downloading (BEP 3 tit-for-tat): the candidates are the
// interested, non-seed, non-snubbed peers, ranked by DownloadRate (what they
// give us) descending, then UploadRate descending, then a random key drawn
// fresh each round. A snubbed peer therefore loses its regular slot; it can
// still be chosen as the optimistic peer.
//
// Regular slots while seeding (libtorrent's "round robin" seed choker): the
// candidates are the interested, non-seed peers, ranked by
//  1. whether the peer has used up its slot: it is unchoked (Choked false)
//     and either its current unchoke began at least SeedRotate (60 s) ago
//     (LastUnchoked <= now-SeedRotate) or it has been sent at least
//     SeedQuota bytes since (UploadedSinceUnchoke >= SeedQuota, when the
//     quota is set). Peers that have not used up a slot rank first, so a
//     slot is held until its quota is sent or its minute is up, and then
//     rotated;
//  2. UploadRate descending, counted as 0 for choked peers (a peer choked
//     last round may show a residual rate), so among unchoked peers that are
//     still within their minute the fastest keep their slots;
//  3. LastUnchoked ascending (never unchoked first): among choked peers, the
//     one that has waited longest is served next, which makes the rotation a
//     round robin;
//  4. a random key drawn fresh each round.
//
// A peer whose quota or minute is up keeps its slot only if there are not
// enough other interested peers to fill the slots.
//
// Optimistic unchoke: one extra peer, chosen at random among the interested,
// non-seed peers that did not get a regular slot, with a weight of
// NewPeerWeight (3) for peers connected within NewPeerWindow (60 s) and 1 for
// the others. The outgoing optimistic peer is excluded from the draw unless it
// is the only candidate. The optimistic peer holds its slot for
// OptimisticEvery rounds (3, i.e. 30 s with 10 s rounds) as long as it stays
// interested and present; while it holds the slot it is not a candidate for
// the regular slots, so it is never counted twice. When it rotates out it
// competes for a regular slot like any other peer. If it disconnects or loses
// interest, a new optimistic peer is drawn at once.
//
// # Invariants
//
//   - The returned set holds at most Slots+1 peers (Slots regular plus the
//     optimistic one), every one of them interested and not a seed.
//   - Optimistic() is either -1 or a member of the set the last Review returned.
package choker

import (
	"math/rand/v2"
	"time"
)

// Defaults for Config fields left zero.
const (
	// DefaultSlots is the number of regular unchoke slots.
	DefaultSlots = 4
	// DefaultOptimisticEvery is how many choke rounds the optimistic peer
	// holds its slot (30 s with 10 s rounds).
	DefaultOptimisticEvery = 3
	// DefaultSeedRotate is how long a seeding slot is held before it is up
	// for rotation.
	DefaultSeedRotate = time.Minute
	// DefaultNewPeerWindow is how recently a peer must have connected to get
	// NewPeerWeight in the optimistic draw.
	DefaultNewPeerWindow = time.Minute
	// NewPeerWeight is the optimistic-draw weight of a newly connected peer,
	// relative to 1 for the others.
	NewPeerWeight = 3
)

// Peer is the caller's snapshot of one connected peer at a choke round.
type Peer struct {
	// ID is the caller's key for the peer; the result of Review is keyed by it.
	ID int
	// Interested reports whether the peer is interested in our pieces.
	Interested bool
	// Choked reports whether we currently choke the peer.
	Choked bool
	// DownloadRate is the rate, in bytes/s, at which we receive payload
	// from the peer, averaged over about 20 s.
	DownloadRate int64
	// UploadRate is the rate, in bytes/s, at which we send payload to the
	// peer, averaged over about 20 s.
	UploadRate int64
	// ConnectedAt is when the connection was established.
	ConnectedAt time.Time
	// LastUnchoked is when we last unchoked the peer, zero if never. For a
	// peer that is unchoked now it is when the current unchoke began.
	LastUnchoked time.Time
	// UploadedSinceUnchoke is the payload, in bytes, we have sent the peer
	// since its current unchoke began (meaningful only while unchoked).
	UploadedSinceUnchoke int64
	// Snubbed reports that the peer has sent us nothing for a long time
	// although we requested data.
	Snubbed bool
	// Seed reports that the peer has every piece.
	Seed bool
}

// Config holds the choker's parameters. Zero fields take the defaults.
type Config struct {
	// Slots is the number of regular unchoke slots: 0 means DefaultSlots,
	// a negative value means unlimited.
	Slots int
	// OptimisticEvery is how many rounds the optimistic peer holds its slot:
	// 0 or less means DefaultOptimisticEvery.
	OptimisticEvery int
	// SeedRotate is how long a seeding slot is held before it is up for
	// rotation: 0 or less means DefaultSeedRotate.
	SeedRotate time.Duration
	// SeedQuota is how many bytes a peer is sent in a seeding slot before
	// the slot is up for rotation, whatever its time: 0 or less means no
	// quota (rotation by SeedRotate only).
	SeedQuota int64
	// NewPeerWindow is how recently a peer must have connected to count as
	// new in the optimistic draw: 0 or less means DefaultNewPeerWindow.
	NewPeerWindow time.Duration
}

// Choker holds the state carried between choke rounds: the configuration,
// the random source and the current optimistic peer.
type Choker struct {
	slots         int // < 0 means unlimited
	optEvery      int
	seedRotate    time.Duration
	seedQuota     int64 // <= 0: none
	newPeerWindow time.Duration
	rng           *rand.Rand

	opt       int // current optimistic peer ID, or -1
	optRounds int // rounds the current optimistic peer has held its slot
}

// New returns a Choker with the given configuration. rng breaks ties and
// draws optimistic peers; nil means a randomly seeded source.
func New(cfg Config, rng *rand.Rand) *Choker {
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	c := &Choker{
		slots:         normSlots(cfg.Slots),
		optEvery:      cfg.OptimisticEvery,
		seedRotate:    cfg.SeedRotate,
		seedQuota:     cfg.SeedQuota,
		newPeerWindow: cfg.NewPeerWindow,
		rng:           rng,
		opt:           -1,
	}
	if c.optEvery <= 0 {
		c.optEvery = DefaultOptimisticEvery
	}
	if c.seedRotate <= 0 {
		c.seedRotate = DefaultSeedRotate
	}
	if c.newPeerWindow <= 0 {
		c.newPeerWindow = DefaultNewPeerWindow
	}
	return c
}

// normSlots maps a configured slot count to the internal one: 0 is the
// default and any negative value is -1 (unlimited).
func normSlots(n int) int {
	switch {
	case n == 0:
		return DefaultSlots
	case n < 0:
		return -1
	}
	return n
}

// SetSlots changes the number of regular unchoke slots from the next Review
// on: 0 means DefaultSlots, a negative value means unlimited.
func (c *Choker) SetSlots(n int) { c.slots = normSlots(n) }

// SetSeedQuota changes the seeding slot's byte quota (see Config.SeedQuota)
// from the next Review on: 0 or less means none.
func (c *Choker) SetSeedQuota(n int64) { c.seedQuota = n }

// Slots returns the number of regular unchoke slots, -1 meaning unlimited.
func (c *Choker) Slots() int { return c.slots }

// Optimistic returns the ID of the current optimistic peer, or -1 if there
// is none.
func (c *Choker) Optimistic() int { return c.opt }

// Review runs one choke round over peers and returns the IDs of the peers
// that should be unchoked; every other peer should be choked. seeding
// selects the seeding policy. now is the round's time, against which
// LastUnchoked and ConnectedAt are measured. If several peers share an ID,
// only the first is considered. The returned map is never nil.
func (c *Choker) Review(peers []Peer, seeding bool, now time.Time) map[int]bool {
	peers = dedup(peers)

	// Keep the optimistic peer until its rotation is due, if still eligible.
	outgoing, keep := -1, false
	if c.opt >= 0 {
		c.optRounds++
		p, ok := find(peers, c.opt)
		if ok && optimisticEligible(p) && c.optRounds < c.optEvery {
			keep = true
		} else {
			outgoing = c.opt
			c.opt = -1
		}
	}

	unchoke := make(map[int]bool, max(c.slots, DefaultSlots)+1)
	for _, id := range c.regular(peers, seeding, now) {
		unchoke[id] = true
	}
	if keep {
		unchoke[c.opt] = true
		return unchoke
	}
	if id, ok := c.drawOptimistic(peers, unchoke, outgoing, now); ok {
		c.opt, c.optRounds = id, 0
		unchoke[id] = true
	}
	return unchoke
}

// dedup returns peers without later entries whose ID was already seen. It
// returns peers itself, uncopied, when all IDs are distinct.
func dedup(peers []Peer) []Peer {
	seen := make(map[int]struct{}, len(peers))
	for i, p := range peers {
		if _, dup := seen[p.ID]; dup {
			out := append([]Peer(nil), peers[:i]...)
			for _, q := range peers[i+1:] {
				if _, dup := seen[q.ID]; !dup {
					seen[q.ID] = struct{}{}
					out = append(out, q)
				}
			}
			return out
		}
		seen[p.ID] = struct{}{}
	}
	return peers
}

// find returns the peer with the given ID.
func find(peers []Peer, id int) (Peer, bool) {
	for _, p := range peers {
		if p.ID == id {
			return p, true
		}
	}
	return Peer{}, false
}
