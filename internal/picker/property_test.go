package picker

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/wire"
)

// simPeer is one simulated connection.
type simPeer struct {
	id PeerID
	bf *bitfield.Bitfield
}

// sim drives a picker with random swarm events and checks it after each.
type sim struct {
	t      *testing.T
	p      *Picker
	rng    *rand.Rand
	n      int
	peers  []*simPeer
	nextID PeerID
	// bad marks peers that send corrupt data: pieces they contributed to
	// fail their hash check.
	bad map[PeerID]bool
	// dirty marks pieces with a block from a bad peer.
	dirty  map[int]bool
	failed int
}

func (s *sim) addPeer() {
	var b *bitfield.Bitfield
	if s.rng.IntN(4) == 0 {
		b = bitfield.Full(s.n)
	} else {
		b = bitfield.New(s.n)
		density := 0.1 + 0.8*s.rng.Float64()
		for i := range s.n {
			if s.rng.Float64() < density {
				b.Set(i)
			}
		}
	}
	s.nextID++
	sp := &simPeer{id: s.nextID, bf: b}
	s.bad[sp.id] = s.rng.IntN(10) == 0
	s.peers = append(s.peers, sp)
	s.p.PeerBitfield(b.Clone())
}

func (s *sim) removePeer(i int) {
	sp := s.peers[i]
	s.p.PeerGone(sp.bf)
	s.p.RemovePeer(sp.id)
	s.peers = slices.Delete(s.peers, i, i+1)
}

// requesters returns the connected peers that have b requested.
func (s *sim) requesters(b Block) []PeerID {
	var out []PeerID
	for _, sp := range s.peers {
		if slices.Contains(s.p.PeerRequests(sp.id), b) {
			out = append(out, sp.id)
		}
	}
	return out
}

func (s *sim) pick() error {
	sp := s.peers[s.rng.IntN(len(s.peers))]
	var fast []int
	if s.rng.IntN(8) == 0 {
		fast = []int{}
		for range s.rng.IntN(4) {
			fast = append(fast, s.rng.IntN(s.n))
		}
	}
	before := s.p.PeerRequests(sp.id)
	requested := map[Block]bool{}
	for _, o := range s.peers {
		for _, b := range s.p.PeerRequests(o.id) {
			requested[b] = true
		}
	}
	max := 1 + s.rng.IntN(24)
	got := s.p.Pick(sp.id, sp.bf, max, fast)
	if len(got) > max {
		return fmt.Errorf("pick returned %d > %d blocks", len(got), max)
	}
	seen := map[Block]bool{}
	for _, b := range got {
		if _, ok := s.p.blockIndex(b); !ok {
			return fmt.Errorf("invalid block %v", b)
		}
		switch {
		case !sp.bf.Has(b.Piece):
			return fmt.Errorf("peer %d lacks piece of %v", sp.id, b)
		case s.p.Have(b.Piece):
			return fmt.Errorf("picked block %v of a piece we have", b)
		case s.p.Priority(b.Piece) == 0:
			return fmt.Errorf("picked block %v of a skipped piece", b)
		case fast != nil && !slices.Contains(fast, b.Piece):
			return fmt.Errorf("block %v outside allowed fast %v", b, fast)
		case seen[b] || slices.Contains(before, b):
			return fmt.Errorf("block %v requested twice from peer %d", b, sp.id)
		case requested[b] && !s.p.Endgame() && !s.due(b.Piece):
			return fmt.Errorf("duplicate request %v outside endgame and of no piece due", b)
		case requested[b] && !s.p.Endgame() && len(s.requesters(b)) > maxCriticalRequesters:
			return fmt.Errorf("block %v of a piece due requested from %d peers", b, len(s.requesters(b)))
		}
		seen[b] = true
	}
	if want := append(before, got...); !slices.Equal(s.p.PeerRequests(sp.id), want) {
		return fmt.Errorf("peer requests %v, want %v", s.p.PeerRequests(sp.id), want)
	}
	return nil
}

// due reports whether the piece has a deadline within the picker's
// duplicate lead of its clock.
func (s *sim) due(piece int) bool {
	d, ok := s.p.Deadline(piece)
	return ok && d <= s.p.now+s.p.dupLead
}

func (s *sim) deliver() error {
	sp := s.peers[s.rng.IntN(len(s.peers))]
	reqs := s.p.PeerRequests(sp.id)
	if len(reqs) == 0 {
		return nil
	}
	b := reqs[s.rng.IntN(len(reqs))]
	wantOthers := slices.DeleteFunc(s.requesters(b), func(id PeerID) bool { return id == sp.id })
	fresh, others := s.p.Received(sp.id, b)
	if !fresh {
		return fmt.Errorf("requested block %v not fresh", b)
	}
	slices.Sort(wantOthers)
	if !slices.Equal(slices.Sorted(slices.Values(others)), wantOthers) {
		return fmt.Errorf("others %v, want %v", others, wantOthers)
	}
	if r := s.requesters(b); len(r) != 0 {
		return fmt.Errorf("block %v still requested by %v after arrival", b, r)
	}
	if fresh, _ := s.p.Received(sp.id, b); fresh {
		return fmt.Errorf("second arrival of %v fresh", b)
	}
	return s.arrived(sp.id, b)
}

// arrived handles a fresh block: when it completes its piece, the piece is
// verified, failing when a bad peer contributed to it.
func (s *sim) arrived(from PeerID, b Block) error {
	if s.bad[from] {
		s.dirty[b.Piece] = true
	}
	if !s.p.PieceComplete(b.Piece) {
		return nil
	}
	if s.dirty[b.Piece] {
		delete(s.dirty, b.Piece)
		s.failed++
		contrib := s.p.PieceFailed(b.Piece)
		if !slices.Contains(contrib, from) {
			return fmt.Errorf("contributors %v lack %d", contrib, from)
		}
		if s.p.PieceComplete(b.Piece) {
			return fmt.Errorf("failed piece still complete")
		}
		// Ban the bad contributors, as the engine would.
		for _, id := range contrib {
			if i := slices.IndexFunc(s.peers, func(o *simPeer) bool { return o.id == id }); i >= 0 && s.bad[id] {
				s.removePeer(i)
			}
		}
		return nil
	}
	s.p.SetHave(b.Piece)
	if !s.p.Have(b.Piece) {
		return fmt.Errorf("SetHave(%d) not recorded", b.Piece)
	}
	return nil
}

func (s *sim) step(step int) error {
	switch r := s.rng.IntN(100); {
	case r < 30:
		return s.pick()
	case r < 70:
		return s.deliver()
	case r < 78:
		sp := s.peers[s.rng.IntN(len(s.peers))]
		if reqs := s.p.PeerRequests(sp.id); len(reqs) > 0 {
			b := reqs[s.rng.IntN(len(reqs))]
			s.p.Cancel(sp.id, b)
			if slices.Contains(s.p.PeerRequests(sp.id), b) {
				return fmt.Errorf("cancelled %v still requested", b)
			}
		}
	case r < 82:
		s.removePeer(s.rng.IntN(len(s.peers)))
		s.addPeer()
	case r < 90:
		sp := s.peers[s.rng.IntN(len(s.peers))]
		if i := s.rng.IntN(s.n); sp.bf.Set(i) {
			s.p.PeerHave(i)
		}
	case r < 93:
		// Late or unsolicited data: must never corrupt the state.
		i := s.rng.IntN(s.n)
		b := s.p.blockAt(i, s.rng.IntN(s.p.numBlocks(i)))
		if fresh, _ := s.p.Received(s.peers[0].id, b); fresh {
			return s.arrived(s.peers[0].id, b)
		}
	case r < 94:
		// Deadlines come, go and move, the clock advances, peers are
		// found slow: a stream's window.
		switch s.rng.IntN(4) {
		case 0:
			s.p.SetDeadline(s.rng.IntN(s.n), s.p.now+int64(s.rng.IntN(200)))
		case 1:
			s.p.ClearDeadline(s.rng.IntN(s.n))
		case 2:
			s.p.SetNow(s.p.now + int64(s.rng.IntN(50)))
			s.p.SetDuplicateLead(int64(s.rng.IntN(3) * 20))
		default:
			s.p.SetPeerDelay(s.peers[s.rng.IntN(len(s.peers))].id, int64(s.rng.IntN(3)*40))
		}
	case r < 96:
		prio := s.rng.IntN(4)
		if step > 8000 && prio == 0 {
			prio = 1
		}
		s.p.SetPriority(s.rng.IntN(s.n), prio)
	default:
		if len(s.peers) < 12 {
			s.addPeer()
		}
	}
	if len(s.peers) == 0 {
		s.addPeer()
	}
	return nil
}

// checkAvailability compares the picker's availability with the peers'.
func (s *sim) checkAvailability() error {
	for i := range s.n {
		want := 0
		for _, sp := range s.peers {
			if sp.bf.Has(i) {
				want++
			}
		}
		if got := s.p.Availability(i); got != want {
			return fmt.Errorf("Availability(%d) = %d, want %d", i, got, want)
		}
	}
	return nil
}

func TestPropertyRandomSwarm(t *testing.T) {
	const steps = 100000
	seeds := 20
	if testing.Short() {
		seeds = 5
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			const n = 301
			pl := int64(3 * wire.BlockSize)
			total := int64(n-1)*pl + wire.BlockSize + 777
			rng := rand.New(rand.NewPCG(seed, 42))
			s := &sim{t: t, p: New(n, pl, total, rand.New(rand.NewPCG(seed, 7))), rng: rng, n: n,
				bad: map[PeerID]bool{}, dirty: map[int]bool{}}
			for range 5 {
				s.addPeer()
			}
			i := 0
			for ; i < steps && !s.p.Done(); i++ {
				if err := s.step(i); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if err := s.p.checkInvariants(); err != nil {
					t.Fatalf("step %d: invariant: %v", i, err)
				}
				if i%97 == 0 {
					if err := s.checkAvailability(); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				}
			}
			if !s.p.Done() {
				t.Fatalf("download incomplete after %d steps: missing %d, partial %d, endgame %v",
					steps, s.p.Missing(), s.p.Partial(), s.p.Endgame())
			}
			// Everything with priority 0 at the end was skipped; the rest we have.
			for i := range n {
				if s.p.Priority(i) > 0 && !s.p.Have(i) {
					t.Fatalf("piece %d wanted but missing", i)
				}
			}
			t.Logf("done after %d steps: have %d, failed pieces %d", i, s.p.HaveCount(), s.failed)
		})
	}
}
