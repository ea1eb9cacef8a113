package torrent

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/wire"
)

func peerID(b byte) [20]byte {
	var id [20]byte
	for i := range id {
		id[i] = b
	}
	return id
}

func TestAdmit(t *testing.T) {
	us, smaller, larger := peerID(5), peerID(1), peerID(9)
	room := admitLimits{active: true, peers: 3, maxPeers: 10, ourID: us}
	full := room
	full.peers = 10
	inactive := room
	inactive.active = false
	in := func(id [20]byte) connFacts { return connFacts{peerID: id} }
	out := func(id [20]byte) connFacts { return connFacts{peerID: id, outgoing: true} }
	banned := func(c connFacts) connFacts { c.banned = true; return c }
	none := existingConn{}
	existingIn := existingConn{open: true}
	existingOut := existingConn{open: true, outgoing: true}
	aged := func(ex existingConn, sameIP bool) existingConn {
		ex.sameIP, ex.age = sameIP, redialedAfter
		return ex
	}
	young := func(ex existingConn) existingConn {
		ex.sameIP, ex.age = true, redialedAfter-time.Second
		return ex
	}

	cases := []struct {
		name string
		c    connFacts
		lim  admitLimits
		ex   existingConn
		want admission
	}{
		{"incoming with room is admitted", in(larger), room, none, admission{}},
		{"outgoing with room is admitted", out(larger), room, none, admission{}},
		{"paused, moving or failed torrent refuses", in(larger), inactive, none, admission{reject: "torrent not active"}},
		{"inactive comes before the peer limit", in(larger), admitLimits{maxPeers: 0, ourID: us}, none, admission{reject: "torrent not active"}},
		{"at the peer limit refuses", out(larger), full, none, admission{reject: "peer limit"}},
		{"one below the peer limit admits", in(larger), admitLimits{active: true, peers: 9, maxPeers: 10, ourID: us}, none, admission{}},
		{"connection to ourselves is refused and not redialled for a day", out(us), room, none, admission{reject: "connection to self", retryAfter: 24 * time.Hour}},
		{"incoming from ourselves is refused too", in(us), room, existingIn, admission{reject: "connection to self", retryAfter: 24 * time.Hour}},
		{"banned address is refused", banned(in(larger)), room, none, admission{reject: "banned"}},
		{"banned address at the peer limit is refused for the limit", banned(in(larger)), full, none, admission{reject: "peer limit"}},
		// Duplicates: we (5) against a larger ID keep our own dial.
		{"larger peer dials us while our dial to it is open: keep ours", in(larger), room, existingOut, admission{reject: "duplicate peer id"}},
		{"our dial to a larger peer completes while its dial is open: ours replaces it", out(larger), room, existingIn, admission{closeExisting: true}},
		// Against a smaller ID we keep the peer's dial.
		{"smaller peer dials us while our dial to it is open: its dial replaces ours", in(smaller), room, existingOut, admission{closeExisting: true}},
		{"our dial to a smaller peer completes while its dial is open: refused, not redialled for 30 s", out(smaller), room, existingIn, admission{reject: "duplicate peer id", retryAfter: 30 * time.Second}},
		{"second incoming from the same peer: the first stays", in(smaller), room, existingIn, admission{reject: "duplicate peer id"}},
		{"second outgoing to the same peer: the first stays", out(larger), room, existingOut, admission{reject: "duplicate peer id", retryAfter: 30 * time.Second}},
		{"banned duplicate that wins the tie still closes the existing one", banned(in(smaller)), room, existingOut, admission{reject: "banned", closeExisting: true}},
		{"banned duplicate that loses the tie is refused as a duplicate", banned(in(larger)), room, existingOut, admission{reject: "duplicate peer id"}},
		// The peer dials us again from its address: it gave up the old one.
		{"peer redials from the same IP after the old incoming aged: the new one replaces it", in(smaller), room, aged(existingIn, true), admission{closeExisting: true}},
		{"peer redials from the same IP while our old dial is open: the new one replaces it", in(larger), room, aged(existingOut, true), admission{closeExisting: true}},
		{"young duplicate from the same IP: the tie rule decides", in(larger), room, young(existingOut), admission{reject: "duplicate peer id"}},
		{"the same peer ID from another IP replaces nothing", in(larger), room, aged(existingOut, false), admission{reject: "duplicate peer id"}},
		{"our own redial never replaces an aged connection", out(larger), room, aged(existingOut, true), admission{reject: "duplicate peer id", retryAfter: 30 * time.Second}},
		{"a banned redial still replaces the dead one", banned(in(smaller)), room, aged(existingIn, true), admission{reject: "banned", closeExisting: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := admit(c.c, c.lim, c.ex); got != c.want {
				t.Fatalf("admit = %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestKeepExistingAgreesAtBothEnds checks the point of the duplicate rule:
// when two peers dial each other at once, both ends keep the same
// connection, whichever of the two each end saw first.
func TestKeepExistingAgreesAtBothEnds(t *testing.T) {
	// ownDialSurvives reports whether an end keeps the connection it
	// dialled, having seen its own dial first or the peer's.
	ownDialSurvives := func(ourID, theirID [20]byte, ownFirst bool) bool {
		keep := keepExisting(ourID, theirID, ownFirst, !ownFirst)
		return keep == ownFirst
	}
	a, b := peerID(1), peerID(2)
	for _, aOwnFirst := range []bool{true, false} {
		for _, bOwnFirst := range []bool{true, false} {
			aKeepsADial := ownDialSurvives(a, b, aOwnFirst)
			bKeepsADial := !ownDialSurvives(b, a, bOwnFirst)
			if aKeepsADial != bKeepsADial {
				t.Fatalf("A saw its own dial first %v, B %v: A keeps A's dial %v, B %v", aOwnFirst, bOwnFirst, aKeepsADial, bKeepsADial)
			}
			if !aKeepsADial {
				t.Fatalf("A saw its own dial first %v, B %v: the dial of the smaller ID (A) must survive", aOwnFirst, bOwnFirst)
			}
		}
	}
}

func TestKeepExisting(t *testing.T) {
	small, big := peerID(1), peerID(2)
	cases := []struct {
		name                          string
		our, their                    [20]byte
		existingOutgoing, newOutgoing bool
		want                          bool
	}{
		{"we are smaller, ours existed, theirs arrives", small, big, true, false, true},
		{"we are smaller, theirs existed, ours completes", small, big, false, true, false},
		{"we are larger, ours existed, theirs arrives", big, small, true, false, false},
		{"we are larger, theirs existed, ours completes", big, small, false, true, true},
		{"two of our dials", small, big, true, true, true},
		{"two of their dials", big, small, false, false, true},
		{"IDs differ only in the last byte", peerID(7), func() [20]byte { id := peerID(7); id[19]++; return id }(), false, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := keepExisting(c.our, c.their, c.existingOutgoing, c.newOutgoing); got != c.want {
				t.Fatalf("keepExisting = %v, want %v", got, c.want)
			}
		})
	}
}

func TestStrikes(t *testing.T) {
	cases := []struct {
		name         string
		contributors []int
		banned       map[int]bool
		want         int
	}{
		{"sole contributor gets two strikes, enough for a ban", []int{3}, nil, 2},
		{"each of several contributors gets one", []int{1, 2, 3}, nil, 1},
		{"a banned contributor explains the failure: no strikes", []int{1, 2, 3}, map[int]bool{2: true}, 0},
		{"a sole contributor already banned: no strikes", []int{4}, map[int]bool{4: true}, 0},
		{"peers banned elsewhere do not excuse these", []int{1, 2}, map[int]bool{9: true}, 1},
		{"no contributor known: nothing to strike", nil, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := strikes(c.contributors, c.banned); got != c.want {
				t.Fatalf("strikes = %d, want %d", got, c.want)
			}
		})
	}
	// Two failed pieces shared with others ban a peer; one does not.
	if 1*strikes([]int{1, 2}, nil) >= banThreshold || 2*strikes([]int{1, 2}, nil) < banThreshold {
		t.Fatal("a shared failed piece must not ban, two must")
	}
}

func TestBanKey(t *testing.T) {
	cases := []struct {
		name string
		addr string
		want string
	}{
		{"public IPv4 bans the whole IP", "203.0.113.7:6881", "203.0.113.7"},
		{"another port of a banned IPv4 is the same key", "203.0.113.7:51413", "203.0.113.7"},
		{"public IPv6 bans the whole IP", "[2001:db8::1]:6881", "2001:db8::1"},
		{"IPv4 loopback bans the exact port", "127.0.0.1:6881", "127.0.0.1:6881"},
		{"another IPv4 loopback address is loopback too", "127.0.0.2:6881", "127.0.0.2:6881"},
		{"IPv6 loopback bans the exact port", "[::1]:6881", "[::1]:6881"},
		{"private LAN address bans the whole IP", "192.168.1.20:6881", "192.168.1.20"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := banKey(netip.MustParseAddrPort(c.addr)); got != c.want {
				t.Fatalf("banKey(%s) = %q, want %q", c.addr, got, c.want)
			}
		})
	}
}

func TestCountInteresting(t *testing.T) {
	bf := func(n int, set ...int) *bitfield.Bitfield {
		b := bitfield.New(n)
		for _, i := range set {
			b.Set(i)
		}
		return b
	}
	cases := []struct {
		name      string
		has, have *bitfield.Bitfield
		want      int
	}{
		{"peer's bitfield not known yet", nil, bf(8), 0},
		{"peer has nothing", bf(8), bf(8, 1, 2), 0},
		{"seed against an empty download", bitfield.Full(10), bf(10), 10},
		{"seed against a complete download", bitfield.Full(10), bitfield.Full(10), 0},
		{"only pieces we lack count", bf(8, 0, 1, 2, 5), bf(8, 1, 5, 6), 2},
		{"we have what the peer has", bf(8, 3), bf(8, 3, 4), 0},
		{"last piece of an odd length", bf(13, 12), bf(13), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := countInteresting(c.has, c.have); got != c.want {
				t.Fatalf("countInteresting = %d, want %d", got, c.want)
			}
		})
	}
}

func TestWantInterested(t *testing.T) {
	cases := []struct {
		name            string
		interesting     int
		checked, paused bool
		want            bool
	}{
		{"peer has pieces we lack", 3, true, false, true},
		{"peer has nothing we lack", 0, true, false, false},
		{"still checking our data", 3, false, false, false},
		{"paused", 3, true, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := wantInterested(c.interesting, c.checked, c.paused); got != c.want {
				t.Fatalf("wantInterested = %v, want %v", got, c.want)
			}
		})
	}
}

func TestFirstHave(t *testing.T) {
	part := bitfield.New(10)
	part.Set(3)
	cases := []struct {
		name          string
		fast, checked bool
		have          *bitfield.Bitfield
		want          wire.Message
		send          bool
	}{
		{"fast peer while we check our data hears HaveNone", true, false, nil, wire.Message{ID: wire.HaveNone}, true},
		{"plain peer while we check our data hears nothing", false, false, nil, wire.Message{}, false},
		{"fast peer of a seed hears HaveAll", true, true, bitfield.Full(10), wire.Message{ID: wire.HaveAll}, true},
		{"fast peer of an empty download hears HaveNone", true, true, bitfield.New(10), wire.Message{ID: wire.HaveNone}, true},
		{"fast peer of a partial download gets the bitfield", true, true, part, wire.Message{ID: wire.Bitfield, Bitfield: part.Bytes()}, true},
		{"plain peer of a seed gets the full bitfield", false, true, bitfield.Full(10), wire.Message{ID: wire.Bitfield, Bitfield: bitfield.Full(10).Bytes()}, true},
		{"plain peer of a partial download gets the bitfield", false, true, part, wire.Message{ID: wire.Bitfield, Bitfield: part.Bytes()}, true},
		{"plain peer of an empty download hears nothing", false, true, bitfield.New(10), wire.Message{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, send := firstHave(c.fast, c.checked, c.have)
			if send != c.send || !reflect.DeepEqual(m, c.want) {
				t.Fatalf("firstHave = %+v, %v; want %+v, %v", m, send, c.want, c.send)
			}
		})
	}
	// The bitfield sent is a copy: later pieces must not change a message
	// already queued.
	m, _ := firstHave(false, true, part)
	part.Set(4)
	if m.Bitfield[0] != 0x10 { // piece 3 only
		t.Fatalf("queued bitfield %08b changed with ours", m.Bitfield[0])
	}
}
