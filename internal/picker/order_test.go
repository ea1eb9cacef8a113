package picker

import (
	"slices"
	"testing"

	"github.com/gobit/gobit/internal/bitfield"
)

func pieceOrder(t testing.TB, p *Picker, blocks int) []int {
	t.Helper()
	var order []int
	for peer := 1000; ; peer++ {
		got := p.Pick(peer, bitfield.Full(p.NumPieces()), blocks, nil)
		check(t, p)
		if len(got) == 0 || p.Endgame() && slices.Contains(order, got[0].Piece) {
			return order
		}
		for _, b := range got {
			if b.Piece != got[0].Piece {
				t.Fatalf("pick of %d blocks spans pieces: %v", blocks, got)
			}
		}
		order = append(order, got[0].Piece)
		if len(order) == p.NumPieces() {
			return order
		}
	}
}

func matchGroups(order []int, groups [][]int) bool {
	i := 0
	for _, g := range groups {
		if i+len(g) > len(order) {
			return false
		}
		got := slices.Clone(order[i : i+len(g)])
		want := slices.Clone(g)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return false
		}
		i += len(g)
	}
	return i == len(order)
}

func TestRarestFirst(t *testing.T) {
	const n = 5
	tests := []struct {
		name   string
		setup  func(p *Picker)
		avail  []int
		groups [][]int
	}{
		{
			name: "bitfields",
			setup: func(p *Picker) {
				p.PeerBitfield(bf(n, 0, 2, 3, 4))
				p.PeerBitfield(bf(n, 0, 2, 3))
				p.PeerBitfield(bf(n, 0, 1, 3))
				p.PeerBitfield(bf(n, 3, 4))
			},
			avail:  []int{3, 1, 2, 4, 2},
			groups: [][]int{{1}, {2, 4}, {0}, {3}},
		},
		{
			name: "have moves a piece up",
			setup: func(p *Picker) {
				p.PeerBitfield(bf(n, 0, 1, 2, 3))
				p.PeerHave(1)
				p.PeerHave(1)
				p.PeerHave(3)
			},
			avail:  []int{1, 3, 1, 2, 0},
			groups: [][]int{{4}, {0, 2}, {3}, {1}},
		},
		{
			name: "peer gone moves pieces down",
			setup: func(p *Picker) {
				a := bf(n, 0, 1, 2)
				p.PeerBitfield(a)
				p.PeerBitfield(bf(n, 0, 3, 4))
				p.PeerHave(4)
				p.PeerGone(a)
			},
			avail:  []int{1, 0, 0, 1, 2},
			groups: [][]int{{1, 2}, {0, 3}, {4}},
		},
		{
			name: "seeds add to every piece",
			setup: func(p *Picker) {
				p.PeerBitfield(bitfield.Full(n))
				p.PeerBitfield(bitfield.Full(n))
				p.PeerBitfield(bf(n, 2))
				p.PeerHave(0)
				p.PeerHave(0)
			},
			avail:  []int{4, 2, 3, 2, 2},
			groups: [][]int{{1, 3, 4}, {2}, {0}},
		},
		{
			name: "seed leaves",
			setup: func(p *Picker) {
				s := bitfield.Full(n)
				p.PeerBitfield(s)
				p.PeerBitfield(bf(n, 1, 2))
				p.PeerHave(1)
				p.PeerGone(s)
			},
			avail:  []int{0, 2, 1, 0, 0},
			groups: [][]int{{0, 3, 4}, {2}, {1}},
		},
		{
			name: "peer completed by HAVEs leaves with a full bitfield",
			setup: func(p *Picker) {
				b := bf(n, 0)
				p.PeerBitfield(b)
				for i := 1; i < n; i++ {
					p.PeerHave(i)
					b.Set(i)
				}
				p.PeerBitfield(bf(n, 2))
				p.PeerGone(b)
			},
			avail:  []int{0, 0, 1, 0, 0},
			groups: [][]int{{0, 1, 3, 4}, {2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPicker(t, n, 2, 7)
			tt.setup(p)
			check(t, p)
			for i, want := range tt.avail {
				if got := p.Availability(i); got != want {
					t.Errorf("Availability(%d) = %d, want %d", i, got, want)
				}
			}
			order := pieceOrder(t, p, 2)
			if !matchGroups(order, tt.groups) {
				t.Fatalf("order %v, want groups %v", order, tt.groups)
			}
		})
	}
}

func TestRandomTieBreak(t *testing.T) {
	const n = 64
	orderFor := func(seed uint64) []int {
		p := newPicker(t, n, 1, seed)
		p.PeerBitfield(bitfield.Full(n))
		for i := 0; i < 8; i++ {
			p.PeerHave(i) // pieces 0..7 are more common: always last
		}
		return pieceOrder(t, p, 1)
	}
	a1, a2, b := orderFor(1), orderFor(1), orderFor(2)
	if !slices.Equal(a1, a2) {
		t.Fatalf("same seed, different orders:\n%v\n%v", a1, a2)
	}
	if slices.Equal(a1, b) {
		t.Fatalf("different seeds, same order %v", a1)
	}
	for _, o := range [][]int{a1, b} {
		if len(o) != n {
			t.Fatalf("picked %d pieces, want %d", len(o), n)
		}
		for _, pc := range o[:n-8] {
			if pc < 8 {
				t.Fatalf("common piece %d picked before rarer ones: %v", pc, o)
			}
		}
	}
	// The tie-break must not follow index order.
	if slices.IsSorted(a1[:n-8]) {
		t.Fatalf("equal pieces picked in index order: %v", a1)
	}
}

func orderWith(t *testing.T, p *Picker, has *bitfield.Bitfield) []int {
	t.Helper()
	var order []int
	for peer := 1000; ; peer++ {
		got := p.Pick(peer, has, 1, nil)
		check(t, p)
		if len(got) == 0 {
			return order
		}
		if !has.Has(got[0].Piece) || slices.Contains(order, got[0].Piece) {
			t.Fatalf("bad pick %v after %v", got, order)
		}
		order = append(order, got[0].Piece)
	}
}

func TestPeerWithFewOrCommonPieces(t *testing.T) {
	const n = 400
	tests := []struct {
		name   string
		pieces []int       // the peer's pieces
		avail  map[int]int // extra HAVEs per piece
		prio   map[int]int
		groups [][]int
	}{
		{
			name:   "few pieces: bitfield walk, rarest first",
			pieces: []int{10, 20, 30, 40},
			avail:  map[int]int{10: 3, 20: 1, 30: 2, 40: 1, 5: 9},
			groups: [][]int{{20, 40}, {30}, {10}},
		},
		{
			name:   "few pieces: priority first",
			pieces: []int{10, 20, 30},
			avail:  map[int]int{10: 3, 20: 1},
			prio:   map[int]int{10: 4, 30: 0},
			groups: [][]int{{10}, {20}},
		},
		{
			name:   "common pieces: the walk gives up and uses the bitfield",
			pieces: seq(200, 400),
			avail:  merge(fill(seq(200, 300), 6), fill(seq(300, 400), 5), fill(seq(0, 200), 1)),
			groups: [][]int{seq(300, 400), seq(200, 300)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPicker(t, n, 1, 11)
			for piece, k := range tt.avail {
				for range k {
					p.PeerHave(piece)
				}
			}
			for piece, pr := range tt.prio {
				p.SetPriority(piece, pr)
			}
			order := orderWith(t, p, bf(n, tt.pieces...))
			if !matchGroups(order, tt.groups) {
				t.Fatalf("order %v, want groups %v", order, tt.groups)
			}
		})
	}
}

func TestFewPiecesTieBreakIsRandom(t *testing.T) {
	const n = 400
	has := bf(n, seq(100, 110)...)
	firsts := map[int]bool{}
	for seed := range uint64(40) {
		p := newPicker(t, n, 1, seed)
		got := p.Pick(1, has, 1, nil)
		if len(got) != 1 || !has.Has(got[0].Piece) {
			t.Fatalf("seed %d: got %v", seed, got)
		}
		firsts[got[0].Piece] = true
	}
	if len(firsts) < 5 {
		t.Fatalf("40 seeds chose only %d distinct first pieces among 10 equal ones", len(firsts))
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func fill(keys []int, v int) map[int]int {
	m := map[int]int{}
	for _, k := range keys {
		m[k] = v
	}
	return m
}

func merge(ms ...map[int]int) map[int]int {
	out := map[int]int{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
