package picker

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gobit/gobit/internal/bitfield"
)

// startOrder picks one block at a time, each from a fresh peer with the
// given pieces (so no partial piece of its own is continued) and receives
// it, until nothing more is picked; it returns the pieces in the order they
// were started.
func startOrder(t *testing.T, p *Picker, has *bitfield.Bitfield) []int {
	t.Helper()
	var order []int
	for peer := 1; peer < 10000; peer++ {
		got := p.Pick(peer, has, 1, nil)
		check(t, p)
		if len(got) == 0 {
			return order
		}
		b := got[0]
		if !slices.Contains(order, b.Piece) {
			order = append(order, b.Piece)
		}
		p.Received(peer, b)
		if p.PieceComplete(b.Piece) {
			p.SetHave(b.Piece)
		}
	}
	t.Fatal("picking did not end")
	return nil
}

func TestPriorityOrder(t *testing.T) {
	const n = 8
	tests := []struct {
		name       string
		prio       []int // per piece
		avail      map[int]int
		sequential bool
		want       [][]int // groups in order; any order within a group
	}{
		{
			name: "high before normal before low, skip never",
			prio: []int{1, 2, 3, 0, 2, 1, 3, 0},
			want: [][]int{{2, 6}, {1, 4}, {0, 5}},
		},
		{
			name:  "rarest first within a level",
			prio:  []int{2, 2, 2, 2, 1, 1, 1, 1},
			avail: map[int]int{0: 3, 1: 1, 2: 2, 3: 4, 4: 1, 5: 3},
			want:  [][]int{{1}, {2}, {0}, {3}, {6, 7}, {4}, {5}},
		},
		{
			name:       "sequential: index order within a level",
			prio:       []int{1, 1, 2, 1, 0, 2, 1, 1},
			avail:      map[int]int{7: 1, 6: 1},
			sequential: true,
			want:       [][]int{{2}, {5}, {0}, {1}, {3}, {6}, {7}},
		},
		{
			name:       "sequential with first and last piece raised",
			prio:       []int{4, 2, 2, 2, 2, 2, 2, 4},
			sequential: true,
			want:       [][]int{{0}, {7}, {1}, {2}, {3}, {4}, {5}, {6}},
		},
		{
			name: "everything skipped",
			prio: []int{0, 0, 0, 0, 0, 0, 0, 0},
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPicker(t, n, 1, 7)
			p.SetPriorities(tc.prio)
			p.SetSequential(tc.sequential)
			all := bitfield.Full(n)
			p.PeerBitfield(all)
			for piece, a := range tc.avail {
				for range a {
					p.PeerHave(piece) // PeerHave counts even for a piece "had"
				}
			}
			check(t, p)
			wantMissing := 0
			for _, v := range tc.prio {
				if v > 0 {
					wantMissing++
				}
			}
			if p.Missing() != wantMissing {
				t.Fatalf("Missing() = %d, want %d", p.Missing(), wantMissing)
			}
			got := startOrder(t, p, all)
			var flat []int
			for _, g := range tc.want {
				flat = append(flat, g...)
			}
			if len(got) != len(flat) {
				t.Fatalf("started %v, want groups %v", got, tc.want)
			}
			i := 0
			for _, g := range tc.want {
				seg := slices.Clone(got[i : i+len(g)])
				slices.Sort(seg)
				wg := slices.Clone(g)
				slices.Sort(wg)
				if !slices.Equal(seg, wg) {
					t.Fatalf("started %v, want groups %v", got, tc.want)
				}
				i += len(g)
			}
			if !p.Done() {
				t.Fatal("not Done after every wanted piece")
			}
			for piece, v := range tc.prio {
				if v == 0 && p.Have(piece) {
					t.Fatalf("skipped piece %d was downloaded", piece)
				}
			}
		})
	}
}

// A priority change while picking: skipping a piece stops it from being
// picked, raising one moves it to the front, in sequential mode too.
func TestPriorityChangeWhilePicking(t *testing.T) {
	for _, seq := range []bool{false, true} {
		p := newPicker(t, 6, 1, 3)
		p.SetSequential(seq)
		all := bitfield.Full(6)
		p.PeerBitfield(all)
		p.SetPriority(0, 0)
		p.SetPriority(4, 5)
		got := p.Pick(1, all, 1, nil)
		if len(got) != 1 || got[0].Piece != 4 {
			t.Fatalf("sequential=%v: first pick %v, want piece 4", seq, got)
		}
		p.SetPriority(4, 1)
		p.SetPriority(5, 9)
		got = p.Pick(2, all, 1, nil)
		if len(got) != 1 || got[0].Piece != 5 {
			t.Fatalf("sequential=%v: second pick %v, want piece 5", seq, got)
		}
		check(t, p)
		for peer := 3; peer < 20; peer++ {
			for _, b := range p.Pick(peer, all, 1, nil) {
				if b.Piece == 0 {
					t.Fatalf("sequential=%v: picked skipped piece 0", seq)
				}
			}
		}
	}
}

// TestSequentialProperty: with random priorities and random peer pieces,
// every piece sequential mode starts is the lowest-index one among the
// untouched pieces of the highest priority the peer can give.
func TestSequentialProperty(t *testing.T) {
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 1))
		n := rng.IntN(70) + 1
		p := newPicker(t, n, 1, seed)
		p.SetSequential(true)
		prio := make([]int, n)
		for i := range prio {
			prio[i] = rng.IntN(4)
		}
		p.SetPriorities(prio)
		has := bitfield.New(n)
		for i := range n {
			if rng.IntN(3) > 0 {
				has.Set(i)
			}
		}
		p.PeerBitfield(has)
		started := make([]bool, n)
		for peer := 1; ; peer++ {
			want, best := -1, 0
			for i := range n {
				if has.Has(i) && !started[i] && prio[i] > best {
					want, best = i, prio[i]
				}
			}
			if want < 0 {
				break // only endgame duplicates are left
			}
			got := p.Pick(peer, has, 1, nil)
			check(t, p)
			if len(got) != 1 || got[0].Piece != want {
				t.Fatalf("seed %d: picked %v, want piece %d (prio %v, has %v)", seed, got, want, prio, has.Bytes())
			}
			started[want] = true
		}
	}
}
