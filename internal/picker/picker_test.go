package picker

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/wire"
)

// newPicker returns a picker of n pieces of blocks blocks each (the last one

// full) with a fixed seed.

func newPicker(t testing.TB, n, blocks int, seed uint64) *Picker {
	t.Helper()
	pl := int64(blocks) * wire.BlockSize
	return New(n, pl, int64(n)*pl, rand.New(rand.NewPCG(seed, 0)))
}

// bf returns a bitfield of n pieces with the given pieces set.

func bf(n int, pieces ...int) *bitfield.Bitfield {
	b := bitfield.New(n)
	for _, i := range pieces {
		b.Set(i)
	}
	return b
}

// check fails the test if the picker's invariants do not hold.

func check(t testing.TB, p *Picker) {
	t.Helper()
	if err := p.checkInvariants(); err != nil {
		t.Fatalf("invariant: %v", err)
	}
}

// pieceOrder picks whole pieces one at a time with a fresh peer that has

// every piece and returns the order in which pieces are started.

// matchGroups reports whether order is the concatenation of the groups, each

// group in any order.

func TestPickOnlyWhatPeerHas(t *testing.T) {
	p := newPicker(t, 10, 4, 1)
	has := bf(10, 3, 7)
	p.PeerBitfield(has)
	got := p.Pick(1, has, 100, nil)
	check(t, p)
	if len(got) != 8 {
		t.Fatalf("got %d blocks, want 8: %v", len(got), got)
	}
	for _, b := range got {
		if b.Piece != 3 && b.Piece != 7 {
			t.Fatalf("picked piece %d the peer lacks", b.Piece)
		}
	}
	if more := p.Pick(1, has, 100, nil); len(more) != 0 {
		t.Fatalf("second pick returned %v, want nothing (not endgame)", more)
	}
	if p.Endgame() {
		t.Fatalf("endgame with untouched pieces left")
	}
	if got := p.Pick(2, bitfield.New(10), 10, nil); got != nil {
		t.Fatalf("peer with nothing got %v", got)
	}
}

func TestPartialFirst(t *testing.T) {
	const n = 20
	p := newPicker(t, n, 4, 3)
	all := bitfield.Full(n)
	p.PeerBitfield(all)

	// Peer 1 starts a piece X with one block; peer 2, which lacks X,
	// starts Y with one.
	x := p.Pick(1, all, 1, nil)
	notX := bitfield.Full(n)
	notX.Clear(x[0].Piece)
	y := p.Pick(2, notX, 1, nil)
	if len(x) != 1 || len(y) != 1 || x[0].Piece == y[0].Piece {
		t.Fatalf("x=%v y=%v", x, y)
	}
	// Peer 3 continues X, the oldest partial piece.
	if z := p.Pick(3, all, 1, nil); len(z) != 1 || z[0] != (Block{x[0].Piece, wire.BlockSize, wire.BlockSize}) {
		t.Fatalf("peer 3 got %v, want the second block of %d", z, x[0].Piece)
	}
	p.RemovePeer(3)
	check(t, p)
	// Peer 2 continues Y (its own piece) first, then X, then a new piece.
	got := p.Pick(2, all, 7, nil)
	check(t, p)
	want := []Block{
		{y[0].Piece, 1 * wire.BlockSize, wire.BlockSize}, {y[0].Piece, 2 * wire.BlockSize, wire.BlockSize}, {y[0].Piece, 3 * wire.BlockSize, wire.BlockSize},
		{x[0].Piece, 1 * wire.BlockSize, wire.BlockSize}, {x[0].Piece, 2 * wire.BlockSize, wire.BlockSize}, {x[0].Piece, 3 * wire.BlockSize, wire.BlockSize},
	}
	if len(got) != 7 || !slices.Equal(got[:6], want) {
		t.Fatalf("got %v, want %v + one new block", got, want)
	}
	if got[6].Piece == x[0].Piece || got[6].Piece == y[0].Piece || got[6].Begin != 0 {
		t.Fatalf("last block %v, want the first block of a new piece", got[6])
	}
	if p.Partial() != 3 {
		t.Fatalf("Partial() = %d, want 3", p.Partial())
	}
}

func TestPartialFirstBeatsRarity(t *testing.T) {
	const n = 10
	p := newPicker(t, n, 2, 3)
	all := bitfield.Full(n)
	p.PeerBitfield(all)
	first := p.Pick(1, all, 1, nil)[0].Piece
	// Make every other piece rarer than the started one.
	p.PeerHave(first)
	p.PeerHave(first)
	got := p.Pick(2, all, 1, nil)
	if len(got) != 1 || got[0] != (Block{first, wire.BlockSize, wire.BlockSize}) {
		t.Fatalf("got %v, want the second block of partial piece %d", got, first)
	}
}

func TestSetHaveAndPriority(t *testing.T) {
	const n = 6
	tests := []struct {
		name   string
		setup  func(p *Picker)
		groups [][]int
		done   bool
	}{
		{"set have excludes", func(p *Picker) { p.SetHave(1); p.SetHave(4) }, [][]int{{0, 2, 3, 5}}, false},
		{"priority 0 excluded", func(p *Picker) { p.SetPriority(2, 0); p.SetPriority(5, 0) }, [][]int{{0, 1, 3, 4}}, false},
		{"priority 0 then back", func(p *Picker) { p.SetPriority(2, 0); p.SetPriority(2, 1) }, [][]int{{0, 1, 2, 3, 4, 5}}, false},
		{"higher priority first, even if common", func(p *Picker) {
			p.SetPriority(3, 5)
			p.SetPriority(0, 2)
			p.PeerHave(3)
			p.PeerHave(3)
			p.PeerHave(0)
		}, [][]int{{3}, {0}, {1, 2, 4, 5}}, false},
		{"all have or skipped is done", func(p *Picker) {
			for i := range n {
				if i%2 == 0 {
					p.SetHave(i)
				} else {
					p.SetPriority(i, 0)
				}
			}
		}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPicker(t, n, 1, 9)
			tt.setup(p)
			check(t, p)
			if p.Done() != tt.done {
				t.Fatalf("Done() = %v, want %v", p.Done(), tt.done)
			}
			order := pieceOrder(t, p, 1)
			if !matchGroups(order, tt.groups) {
				t.Fatalf("order %v, want groups %v", order, tt.groups)
			}
		})
	}
}

func TestSetHaveOnPartialReleasesRequests(t *testing.T) {
	p := newPicker(t, 4, 2, 1)
	all := bitfield.Full(4)
	got := p.Pick(1, all, 1, nil)
	p.SetHave(got[0].Piece)
	check(t, p)
	if r := p.PeerRequests(1); len(r) != 0 {
		t.Fatalf("requests after SetHave: %v", r)
	}
	if p.Partial() != 0 || p.HaveCount() != 1 || p.Missing() != 3 {
		t.Fatalf("partial %d have %d missing %d", p.Partial(), p.HaveCount(), p.Missing())
	}
	for _, b := range p.Pick(2, all, 100, nil) {
		if b.Piece == got[0].Piece {
			t.Fatalf("picked piece we have: %v", b)
		}
	}
}

func TestPrioritySetToZeroOnPartial(t *testing.T) {
	p := newPicker(t, 2, 4, 1)
	all := bitfield.Full(2)
	got := p.Pick(1, all, 1, nil)
	pc := got[0].Piece
	p.SetPriority(pc, 0)
	check(t, p)
	for _, b := range p.Pick(2, all, 100, nil) {
		if b.Piece == pc {
			t.Fatalf("picked block %v of a priority-0 partial piece", b)
		}
	}
	// The block in flight is still accepted.
	if fresh, _ := p.Received(1, got[0]); !fresh {
		t.Fatalf("in-flight block of a skipped piece not accepted")
	}
	check(t, p)
}

func TestAllowedFast(t *testing.T) {
	const n = 10
	p := newPicker(t, n, 2, 5)
	all := bitfield.Full(n)
	p.PeerBitfield(all)
	p.PeerHave(6) // 6 is more common than 2
	got := p.Pick(1, all, 3, []int{6, 2, 99, -1})
	check(t, p)
	want := []Block{{2, 0, wire.BlockSize}, {2, wire.BlockSize, wire.BlockSize}, {6, 0, wire.BlockSize}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := p.Pick(1, all, 10, []int{6, 2}); !slices.Equal(got, []Block{{6, wire.BlockSize, wire.BlockSize}}) {
		t.Fatalf("second pick %v", got)
	}
	if got := p.Pick(1, all, 10, []int{}); got != nil {
		t.Fatalf("choked without allowed fast got %v", got)
	}
	if got := p.Pick(2, bf(n, 3), 10, []int{4}); got != nil {
		t.Fatalf("allowed fast piece the peer lacks: %v", got)
	}
	// A partial piece outside the allowed set is not continued.
	q := newPicker(t, n, 2, 5)
	a := q.Pick(1, all, 1, nil)[0].Piece
	other := (a + 1) % n
	got = q.Pick(2, all, 4, []int{other})
	if len(got) != 2 || got[0].Piece != other || got[1].Piece != other {
		t.Fatalf("got %v, want only piece %d", got, other)
	}
}

func TestEndgame(t *testing.T) {
	p := newPicker(t, 2, 2, 1)
	all := bitfield.Full(2)
	p.PeerBitfield(all)
	p.PeerBitfield(all)
	p.PeerBitfield(all)
	a := p.Pick(1, all, 3, nil)
	if len(a) != 3 || p.Endgame() {
		t.Fatalf("a=%v endgame=%v", a, p.Endgame())
	}
	// Peer 2 gets the last missing block, then duplicates.
	b := p.Pick(2, all, 3, nil)
	check(t, p)
	if !p.Endgame() {
		t.Fatalf("not endgame with every block requested")
	}
	if len(b) != 3 || slices.Contains(a, b[0]) {
		t.Fatalf("b=%v", b)
	}
	for _, blk := range b[1:] {
		if !slices.Contains(a, blk) {
			t.Fatalf("duplicate %v not one of peer 1's requests", blk)
		}
	}
	// Peer 2 never gets the same block twice.
	more := p.Pick(2, all, 10, nil)
	for _, blk := range more {
		if slices.Contains(b, blk) {
			t.Fatalf("block %v requested twice from peer 2", blk)
		}
	}
	if len(more) != 1 {
		t.Fatalf("more = %v, want the one block of peer 1's not yet duplicated", more)
	}
	// Peer 3 prefers blocks with the fewest requesters: b[0] has only peer 2.
	c := p.Pick(3, all, 1, nil)
	if len(c) != 1 || c[0] != b[0] {
		t.Fatalf("peer 3 got %v, want the singly requested %v", c, b[0])
	}
	check(t, p)
	// Arrival from peer 3 cancels peers 2's request.
	fresh, others := p.Received(3, c[0])
	if !fresh || !slices.Equal(others, []PeerID{2}) {
		t.Fatalf("Received = %v %v, want true [2]", fresh, others)
	}
	check(t, p)
	if fresh, _ := p.Received(2, c[0]); fresh {
		t.Fatalf("duplicate arrival reported fresh")
	}
	p.Cancel(2, c[0]) // no-op after the arrival released it
	check(t, p)
	// Arrival from 1 of a block 1, 2 have: others = [2].
	fresh, others = p.Received(1, a[0])
	if !fresh || !slices.Equal(others, []PeerID{2}) {
		t.Fatalf("Received = %v %v, want true [2]", fresh, others)
	}
	check(t, p)
}

func TestCancelAndRemovePeer(t *testing.T) {
	p := newPicker(t, 3, 2, 1)
	all := bitfield.Full(3)
	a := p.Pick(1, all, 3, nil)
	b := p.Pick(2, all, 3, nil)
	if len(a) != 3 || len(b) != 3 {
		t.Fatalf("a=%v b=%v", a, b)
	}
	if got := p.Pick(3, all, 3, nil); len(got) != 3 {
		t.Fatalf("endgame pick %v", got)
	}
	p.RemovePeer(3)
	check(t, p)
	// Cancel one of peer 1's blocks: peer 3 may take it normally again.
	p.Cancel(1, a[0])
	check(t, p)
	if p.Endgame() {
		t.Fatalf("endgame with a missing block")
	}
	got := p.Pick(3, all, 3, nil)
	if len(got) == 0 || got[0] != a[0] {
		t.Fatalf("after cancel got %v, want %v first", got, a[0])
	}
	check(t, p)
	if !slices.Equal(p.PeerRequests(1), a[1:]) {
		t.Fatalf("peer 1 requests %v, want %v", p.PeerRequests(1), a[1:])
	}
	// Removing peer 2 releases its blocks; untouched pieces go back to the
	// buckets.
	p.RemovePeer(2)
	check(t, p)
	if r := p.PeerRequests(2); r != nil {
		t.Fatalf("peer 2 requests after RemovePeer: %v", r)
	}
	p.RemovePeer(1)
	p.RemovePeer(3)
	check(t, p)
	if p.Partial() != 0 {
		t.Fatalf("Partial() = %d after all peers left", p.Partial())
	}
	if got := p.Pick(4, all, 100, nil); len(got) != 6 {
		t.Fatalf("after everyone left got %d blocks, want 6", len(got))
	}
	// Cancels that match nothing are ignored.
	p.Cancel(9, Block{0, 0, wire.BlockSize})
	p.Cancel(4, Block{0, 1, wire.BlockSize})
	p.Cancel(4, Block{-1, 0, wire.BlockSize})
	check(t, p)
}

func TestPieceFailed(t *testing.T) {
	p := newPicker(t, 2, 3, 1)
	all := bitfield.Full(2)
	a := p.Pick(1, all, 2, nil)
	b := p.Pick(2, all, 1, nil)
	piece := a[0].Piece
	if b[0].Piece != piece {
		t.Fatalf("peer 2 did not continue piece %d: %v", piece, b)
	}
	for _, blk := range a {
		p.Received(1, blk)
	}
	p.Received(2, b[0])
	if !p.PieceComplete(piece) {
		t.Fatalf("piece not complete")
	}
	if p.PieceComplete(1 - piece) {
		t.Fatalf("untouched piece complete")
	}
	got := p.PieceFailed(piece)
	check(t, p)
	if !slices.Equal(got, []PeerID{1, 2}) {
		t.Fatalf("contributors %v, want [1 2]", got)
	}
	if p.PieceComplete(piece) || p.Partial() != 0 || p.HaveCount() != 0 {
		t.Fatalf("piece not reset: complete=%v partial=%d", p.PieceComplete(piece), p.Partial())
	}
	// All of its blocks can be picked again.
	again := p.Pick(3, bf(2, piece), 10, nil)
	if len(again) != 3 {
		t.Fatalf("after failure picked %v", again)
	}
	if p.PieceFailed(1-piece) != nil {
		t.Fatalf("contributors for an untouched piece")
	}
}

func TestLastPieceShorter(t *testing.T) {
	tests := []struct {
		name        string
		pieceLen    int64
		total       int64
		n           int
		lastBlocks  int
		lastBlockSz int
	}{
		{"short last block", 4 * wire.BlockSize, 3*4*wire.BlockSize + wire.BlockSize + 100, 4, 2, 100},
		{"one byte", 2 * wire.BlockSize, 2*wire.BlockSize + 1, 2, 1, 1},
		{"exact", 2 * wire.BlockSize, 4 * wire.BlockSize, 2, 2, wire.BlockSize},
		{"piece smaller than a block", 1000, 2500, 3, 1, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(tt.n, tt.pieceLen, tt.total, rand.New(rand.NewPCG(1, 1)))
			all := bitfield.Full(tt.n)
			got := p.Pick(1, all, 1000, nil)
			check(t, p)
			var sum int64
			var last []Block
			for _, b := range got {
				sum += int64(b.Length)
				if b.Piece == tt.n-1 {
					last = append(last, b)
				}
			}
			if sum != tt.total {
				t.Fatalf("blocks cover %d bytes, want %d", sum, tt.total)
			}
			if len(last) != tt.lastBlocks {
				t.Fatalf("last piece has %d blocks, want %d: %v", len(last), tt.lastBlocks, last)
			}
			slices.SortFunc(last, func(a, b Block) int { return a.Begin - b.Begin })
			if l := last[len(last)-1].Length; l != tt.lastBlockSz {
				t.Fatalf("last block length %d, want %d", l, tt.lastBlockSz)
			}
			// A full-size block at the end of the last piece is rejected.
			bad := last[len(last)-1]
			if bad.Length != wire.BlockSize {
				bad.Length = wire.BlockSize
				if fresh, _ := p.Received(1, bad); fresh {
					t.Fatalf("accepted a block of the wrong length")
				}
			}
			for _, b := range got {
				if fresh, _ := p.Received(1, b); !fresh {
					t.Fatalf("block %v not fresh", b)
				}
			}
			for i := range tt.n {
				if !p.PieceComplete(i) {
					t.Fatalf("piece %d not complete", i)
				}
				p.SetHave(i)
			}
			check(t, p)
			if !p.Done() {
				t.Fatalf("not done")
			}
		})
	}
}

func TestReceivedRejectsBadBlocks(t *testing.T) {
	p := newPicker(t, 2, 2, 1)
	all := bitfield.Full(2)
	got := p.Pick(1, all, 1, nil)
	pc := got[0].Piece
	tests := []struct {
		name string
		b    Block
	}{
		{"unaligned begin", Block{pc, 1, wire.BlockSize}},
		{"negative begin", Block{pc, -wire.BlockSize, wire.BlockSize}},
		{"begin past the piece", Block{pc, 2 * wire.BlockSize, wire.BlockSize}},
		{"short length", Block{pc, 0, 10}},
		{"long length", Block{pc, 0, wire.BlockSize + 1}},
		{"piece out of range", Block{2, 0, wire.BlockSize}},
		{"negative piece", Block{-1, 0, wire.BlockSize}},
		{"untouched piece", Block{1 - pc, 0, wire.BlockSize}},
	}
	for _, tt := range tests {
		if fresh, others := p.Received(1, tt.b); fresh || others != nil {
			t.Errorf("%s: Received(%v) = %v %v", tt.name, tt.b, fresh, others)
		}
	}
	check(t, p)
	// A late block of the partial piece that nobody requested any more is
	// still useful.
	if fresh, _ := p.Received(2, Block{pc, wire.BlockSize, wire.BlockSize}); !fresh {
		t.Fatalf("unrequested block of a partial piece refused")
	}
	check(t, p)
}

func TestPartialLimit(t *testing.T) {
	const n = 50
	p := newPicker(t, n, 4, 1)
	p.SetMaxPartial(3)
	all := bitfield.Full(n)
	// Three peers start three pieces with one block each.
	for peer := 1; peer <= 3; peer++ {
		p.Pick(peer, bf(n, peer), 1, nil)
	}
	if p.Partial() != 3 {
		t.Fatalf("Partial() = %d", p.Partial())
	}
	// At the limit, a pick that finds partial blocks starts nothing new.
	got := p.Pick(4, all, 100, nil)
	if len(got) != 9 || p.Partial() != 3 {
		t.Fatalf("got %d blocks, %d partial; want 9 blocks, 3 partial", len(got), p.Partial())
	}
	// With nothing left in partial pieces, one new piece at most.
	got = p.Pick(5, all, 100, nil)
	if len(got) != 4 || p.Partial() != 4 {
		t.Fatalf("got %d blocks, %d partial; want 4 blocks, 4 partial", len(got), p.Partial())
	}
	check(t, p)
	// The default limit lets many pieces start.
	p.SetMaxPartial(0)
	got = p.Pick(6, all, 100, nil)
	if len(got) != 100 {
		t.Fatalf("default limit: got %d blocks", len(got))
	}
	check(t, p)
}

func TestEmptyAndTinyTorrents(t *testing.T) {
	p := New(0, 0, 0, nil)
	if !p.Done() || p.Pick(1, bitfield.New(0), 10, nil) != nil || p.Endgame() {
		t.Fatalf("empty torrent misbehaves")
	}
	p.PeerHave(0)
	p.SetHave(0)
	p.SetPriority(0, 3)
	if p.Availability(0) != 0 || p.PieceFailed(0) != nil || p.PieceComplete(0) {
		t.Fatalf("out of range calls misbehave")
	}
	q := New(1, 1<<20, 5, nil)
	got := q.Pick(1, bitfield.Full(1), 10, nil)
	if !slices.Equal(got, []Block{{0, 0, 5}}) {
		t.Fatalf("tiny torrent picks %v", got)
	}
}

// orderWith picks one single-block piece at a time for a peer with the given

// pieces and returns the order in which pieces are started.

// seq returns the integers in [from, to).

// fill maps every key to v.

// merge unions maps.

func TestForgetReceived(t *testing.T) {
	p := newPicker(t, 3, 3, 1) // 3 pieces of 3 blocks
	all := bitfield.Full(3)
	a := p.Pick(1, all, 2, nil) // peer 1: two blocks of one piece
	piece := a[0].Piece
	b := p.Pick(2, all, 1, nil) // peer 2: the third block of it
	for _, blk := range a {
		p.Received(1, blk)
	}
	p.Received(2, b[0])
	// Peer 2 alone in a second piece.
	c := p.Pick(2, all, 3, nil)
	p.Received(2, c[0])
	other := c[0].Piece
	check(t, p)

	// Skipped pieces keep everything.
	if got := p.ForgetReceived(1, func(int) bool { return true }); got != nil {
		t.Fatalf("forgot %v in skipped pieces", got)
	}
	got := p.ForgetReceived(1, nil)
	check(t, p)
	if !slices.Equal(got, a) {
		t.Fatalf("forgot %v, want peer 1's blocks %v", got, a)
	}
	if p.PieceComplete(piece) {
		t.Fatal("piece still complete without peer 1's blocks")
	}
	// Peer 1's blocks can be picked again, by another peer; peer 2's stay.
	again := p.Pick(3, bf(3, piece), 10, nil)
	if !slices.Equal(again, a) {
		t.Fatalf("picked %v after forgetting, want %v", again, a)
	}
	for _, blk := range again {
		p.Received(3, blk)
	}
	if !p.PieceComplete(piece) {
		t.Fatal("piece not complete with the blocks re-received")
	}
	if fails := p.PieceFailed(piece); !slices.Equal(fails, []PeerID{2, 3}) {
		t.Fatalf("contributors %v, want [2 3]", fails)
	}
	check(t, p)
	// A piece whose only received block is forgotten, with nothing
	// requested, becomes untouched.
	p.RemovePeer(2) // drops peer 2's outstanding requests in it
	if got := p.ForgetReceived(2, nil); len(got) != 1 || got[0] != c[0] {
		t.Fatalf("forgot %v, want %v", got, c[:1])
	}
	check(t, p)
	if p.Partial() != 0 {
		t.Fatalf("%d partial pieces left, want 0 (piece %d untouched again)", p.Partial(), other)
	}
}

// TestPickIntoMatchesPickWithoutAllocating: two pickers fed the same events
// pick the same blocks through Pick and through PickInto, and PickInto,
// with a buffer and within started pieces, allocates nothing.
func TestPickIntoMatchesPickWithoutAllocating(t *testing.T) {
	a, b := newPicker(t, 64, 16, 7), newPicker(t, 64, 16, 7)
	full := bitfield.Full(64)
	a.PeerBitfield(full)
	b.PeerBitfield(full)
	var buf []Block
	for round := 0; a.Missing() > 0; round++ {
		peer := round % 3
		want := a.Pick(peer, full, 5, nil)
		buf = b.PickInto(buf, peer, full, 5, nil)
		if !slices.Equal(want, buf) {
			t.Fatalf("round %d: Pick %v, PickInto %v", round, want, buf)
		}
		for _, blk := range want {
			for _, p := range []*Picker{a, b} {
				p.Received(peer, blk)
				if p.PieceComplete(blk.Piece) {
					p.SetHave(blk.Piece)
				}
			}
		}
		if round > 1000 {
			t.Fatal("download did not finish")
		}
	}
	check(t, a)
	check(t, b)

	// A peer working inside started pieces: each pick takes one block of a
	// partial piece, the block arrives, the next pick takes another.
	p := newPicker(t, 8, 64, 1)
	p.PeerBitfield(full8)
	buf = p.PickInto(buf[:0], 0, full8, 1, nil)
	allocs := testing.AllocsPerRun(50, func() {
		for _, blk := range buf {
			p.Received(0, blk)
		}
		buf = p.PickInto(buf, 0, full8, 1, nil)
		if len(buf) != 1 {
			t.Fatalf("picked %d blocks", len(buf))
		}
	})
	if allocs != 0 {
		t.Errorf("PickInto: %.1f allocations per call, want 0", allocs)
	}
}

var full8 = bitfield.Full(8)
