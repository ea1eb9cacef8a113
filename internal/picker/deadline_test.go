package picker

import (
	"slices"
	"testing"

	"github.com/gobit/gobit/internal/bitfield"
)

// piecesOf returns the distinct pieces of the blocks, in order of first
// appearance.
func piecesOf(blocks []Block) []int {
	var out []int
	for _, b := range blocks {
		if !slices.Contains(out, b.Piece) {
			out = append(out, b.Piece)
		}
	}
	return out
}

// TestDeadlineOrder: pieces with deadlines come before partial pieces (the
// peer's own and others), before higher priorities and before rarer
// pieces, earliest deadline first; a peer without a critical piece gets the
// next one.
func TestDeadlineOrder(t *testing.T) {
	const n = 16
	p := newPicker(t, n, 4, 3)
	all := bitfield.Full(n)
	p.PeerBitfield(all)
	p.SetPriority(3, 3)
	rare := bf(n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15) // all but 12
	p.PeerBitfield(rare)
	// Peers 1 and 9 work on the high-priority piece 3 already.
	mine := p.Pick(1, all, 2, nil)
	p.Pick(9, all, 1, nil)
	check(t, p)
	p.SetDeadline(10, 300)
	p.SetDeadline(12, 100)
	p.SetDeadline(11, 200)
	check(t, p)
	got := p.Pick(1, all, 12, nil)
	check(t, p)
	if want := []int{12, 11, 10}; !slices.Equal(piecesOf(got), want) || len(got) != 12 {
		t.Fatalf("picked pieces %v (%d blocks), want %v in deadline order, whole pieces", piecesOf(got), len(got), want)
	}
	// Then the partial piece, as before.
	if mine[0].Piece != 3 {
		t.Fatalf("peer 1 first picked %v, want the high-priority piece 3", mine)
	}
	if next := p.Pick(1, all, 4, nil); next[0] != (Block{Piece: 3, Begin: 3 * 16384, Length: 16384}) {
		t.Fatalf("after the critical pieces: %v, want piece 3's last block", next)
	}
	// Every critical block is requested, and no deadline has come: nothing
	// critical is left.
	if c := p.PickCritical(nil, 2, rare, 10, nil); len(c) != 0 {
		t.Fatalf("PickCritical with every critical block requested and no deadline due: %v", c)
	}
	check(t, p)
}

// TestDeadlineSeek: moving the deadlines (a seek) puts the new window
// first; the old window's pieces not yet requested go back to the normal
// order.
func TestDeadlineSeek(t *testing.T) {
	const n = 20
	p := newPicker(t, n, 1, 5)
	all := bitfield.Full(n)
	p.PeerBitfield(all)
	p.SetSequential(true)
	window := func(first int) {
		for i := range 4 {
			p.SetDeadline(first+i, int64(i))
		}
	}
	window(8)
	if got := piecesOf(p.Pick(1, all, 2, nil)); !slices.Equal(got, []int{8, 9}) {
		t.Fatalf("window at 8: picked %v", got)
	}
	// Seek to 15: the old window loses its deadlines.
	for i := 8; i < 12; i++ {
		p.ClearDeadline(i)
	}
	window(15)
	check(t, p)
	if got := piecesOf(p.Pick(1, all, 3, nil)); !slices.Equal(got, []int{15, 16, 17}) {
		t.Fatalf("after the seek: picked %v, want 15, 16, 17", got)
	}
	// The old window's pieces 10 and 11 are no longer ahead of the rest:
	// sequential order resumes from 0, after the new window's last piece.
	if got := piecesOf(p.Pick(1, all, 3, nil)); !slices.Equal(got, []int{18, 0, 1}) {
		t.Fatalf("after the new window: picked %v, want 18 then 0, 1", got)
	}
	if _, ok := p.Deadline(10); ok {
		t.Fatal("piece 10 kept its deadline after ClearDeadline")
	}
	if d, ok := p.Deadline(17); !ok || d != 2 {
		t.Fatalf("Deadline(17) = %d, %v", d, ok)
	}
	check(t, p)
}

// TestDeadlineDuplicates: before its deadline a critical block is requested
// from one peer only; once the deadline has come (SetNow), other peers get
// it too, up to maxCriticalRequesters, and the first arrival cancels the
// others.
func TestDeadlineDuplicates(t *testing.T) {
	const n = 4
	p := newPicker(t, n, 2, 1)
	all := bitfield.Full(n)
	for range 5 {
		p.PeerBitfield(all)
	}
	p.SetNow(0)
	p.SetDeadline(1, 100)
	a := p.Pick(1, all, 2, nil)
	if !slices.Equal(piecesOf(a), []int{1}) || len(a) != 2 {
		t.Fatalf("peer 1 picked %v, want piece 1's two blocks", a)
	}
	if b := p.Pick(2, all, 2, nil); slices.Contains(piecesOf(b), 1) {
		t.Fatalf("peer 2 got a block of piece 1 before its deadline: %v", b)
	}
	if c := p.PickCritical(nil, 3, all, 4, nil); len(c) != 0 {
		t.Fatalf("duplicates before the deadline: %v", c)
	}
	p.SetNow(100)
	c := p.PickCritical(nil, 3, all, 4, nil)
	if !slices.Equal(c, a) {
		t.Fatalf("peer 3 at the deadline got %v, want duplicates of %v", c, a)
	}
	if d := p.PickCritical(nil, 2, all, 4, nil); !slices.Equal(d, a) {
		t.Fatalf("peer 2 at the deadline got %v, want duplicates of %v", d, a)
	}
	check(t, p)
	if e := p.PickCritical(nil, 4, all, 4, nil); len(e) != 0 {
		t.Fatalf("a fourth requester: %v (at most %d)", e, maxCriticalRequesters)
	}
	if again := p.PickCritical(nil, 3, all, 4, nil); len(again) != 0 {
		t.Fatalf("the same peer twice: %v", again)
	}
	fresh, others := p.Received(3, a[0])
	if !fresh || !slices.Equal(others, []PeerID{1, 2}) {
		t.Fatalf("Received = %v %v, want true [1 2]", fresh, others)
	}
	check(t, p)
}

// TestDeadlineBypassesPartialLimit: a critical piece is started even when
// the partial pieces are above their soft limit.
func TestDeadlineBypassesPartialLimit(t *testing.T) {
	const n = 10
	p := newPicker(t, n, 4, 2)
	all := bitfield.Full(n)
	p.PeerBitfield(all)
	p.SetMaxPartial(1)
	first := p.Pick(1, all, 1, nil)
	p.Pick(2, all, 1, nil) // two partial pieces now, over the limit of one
	target := (first[0].Piece + 5) % n
	p.SetDeadline(target, 0)
	got := p.Pick(3, all, 6, nil)
	if len(got) < 4 || !slices.Equal(piecesOf(got[:4]), []int{target}) {
		t.Fatalf("picked %v, want piece %d's four blocks first", got, target)
	}
	check(t, p)
}

// TestDeadlineRespectsWhatMayBePicked: a critical piece is not picked from
// a peer that lacks it or that chokes us without allowing it, nor when its
// priority is 0; SetHave drops its deadline; Unrequested counts blocks
// nobody has asked for.
func TestDeadlineRespectsWhatMayBePicked(t *testing.T) {
	const n = 8
	p := newPicker(t, n, 2, 4)
	all := bitfield.Full(n)
	p.PeerBitfield(all)
	p.SetDeadline(2, 0)
	p.SetDeadline(5, 1)
	p.SetPriority(5, 0)
	if got := p.PickCritical(nil, 1, bf(n, 3, 5), 4, nil); len(got) != 0 {
		t.Fatalf("peer without piece 2 (and 5 skipped): %v", got)
	}
	if got := p.PickCritical(nil, 1, all, 4, []int{3}); len(got) != 0 {
		t.Fatalf("choked peer allowing only 3: %v", got)
	}
	if u := p.Unrequested(2); u != 2 {
		t.Fatalf("Unrequested(2) = %d before any pick, want 2", u)
	}
	got := p.PickCritical(nil, 1, all, 1, []int{2})
	if len(got) != 1 || got[0].Piece != 2 {
		t.Fatalf("choked peer allowing 2: %v", got)
	}
	if u := p.Unrequested(2); u != 1 {
		t.Fatalf("Unrequested(2) = %d after one block, want 1", u)
	}
	p.SetHave(2)
	if _, ok := p.Deadline(2); ok || p.Critical() != 1 || p.Unrequested(2) != 0 {
		t.Fatalf("after SetHave: deadline kept=%v, %d critical, Unrequested %d", ok, p.Critical(), p.Unrequested(2))
	}
	p.SetDeadline(2, 5) // a piece we have gets none
	if p.Critical() != 1 {
		t.Fatalf("SetDeadline on a piece we have: %d critical", p.Critical())
	}
	check(t, p)
}

// TestDeadlineSlowPeer: a peer whose blocks would arrive after a piece's
// deadline is not given that piece; it gets the later ones, and everything
// again once its delay is cleared.
func TestDeadlineSlowPeer(t *testing.T) {
	const n = 8
	p := newPicker(t, n, 1, 6)
	all := bitfield.Full(n)
	p.PeerBitfield(all)
	p.SetNow(1000)
	for i := range 4 {
		p.SetDeadline(i, 1000+int64(i)*100) // pieces 0-3 due at 1000, 1100, 1200, 1300
	}
	p.SetPeerDelay(7, 250) // its next block arrives at 1250
	if got := piecesOf(p.PickCritical(nil, 7, all, 10, nil)); !slices.Equal(got, []int{3}) {
		t.Fatalf("slow peer picked %v, want only piece 3 (due after its delay)", got)
	}
	if got := piecesOf(p.Pick(8, all, 3, nil)); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("fast peer picked %v, want 0, 1, 2", got)
	}
	// Regular picks of the slow peer skip the urgent pieces too.
	p.SetDeadline(5, 1050)
	if got := p.Pick(7, all, 1, nil); len(got) != 1 || got[0].Piece == 5 {
		t.Fatalf("slow peer's regular pick %v: want a piece other than the urgent 5", got)
	}
	// Without the delay it takes piece 0, due now, as a duplicate of
	// peer 8's request, then the urgent 5.
	p.SetPeerDelay(7, 0)
	if got := piecesOf(p.PickCritical(nil, 7, all, 2, nil)); !slices.Equal(got, []int{0, 5}) {
		t.Fatalf("after clearing the delay: %v, want 0 (a duplicate) and 5", got)
	}
	check(t, p)
}

// TestDeadlineDuplicateLead: with a lead, blocks of a piece due within it
// are duplicated before the deadline; pieces due later are not.
func TestDeadlineDuplicateLead(t *testing.T) {
	const n = 4
	p := newPicker(t, n, 1, 8)
	all := bitfield.Full(n)
	p.PeerBitfield(all)
	p.SetNow(0)
	p.SetDeadline(0, 500)
	p.SetDeadline(1, 2000)
	a := p.PickCritical(nil, 1, all, 2, nil)
	if !slices.Equal(piecesOf(a), []int{0, 1}) {
		t.Fatalf("peer 1 picked %v", a)
	}
	if got := p.PickCritical(nil, 2, all, 2, nil); len(got) != 0 {
		t.Fatalf("duplicates with no lead before any deadline: %v", got)
	}
	p.SetDuplicateLead(1000)
	if got := p.PickCritical(nil, 2, all, 2, nil); !slices.Equal(piecesOf(got), []int{0}) {
		t.Fatalf("with a lead of 1000 at 0: %v, want piece 0 (due at 500) only", got)
	}
	check(t, p)
}
