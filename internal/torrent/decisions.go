package torrent

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/wire"
)

// This file holds the loop's decisions about peers as pure functions: they
// do no I/O and read nothing but their arguments, so each is tested with a
// table (decisions_test.go). The loop gathers the facts, calls them and
// carries out what they decide.

// connFacts is what admission needs to know about a new connection.
type connFacts struct {
	outgoing bool
	peerID   [20]byte
	banned   bool // its remote address, or the address we dialled, is banned
}

// admitLimits is what admission needs to know about the torrent.
type admitLimits struct {
	active   bool // neither paused, moving nor stopped by an error
	peers    int  // connections adopted
	maxPeers int
	ourID    [20]byte
}

// existingConn describes the connection already open to the new one's peer
// ID, if any.
type existingConn struct {
	open     bool
	outgoing bool
	// sameIP is whether it is with the new connection's IP address, and
	// age how long it has been open.
	sameIP bool
	age    time.Duration
}

// redialedAfter is how old a connection must be for the same peer dialling
// us again from the same IP address to replace it. A peer does not dial a
// peer it is connected to: it has given the old connection up (its network
// went away and came back, a NAT forgot the flow, it restarted with the
// same peer ID), and the old one is dead though its end has not heard so.
// Younger, the two are likely a simultaneous open (each side dialled the
// other before hearing of the other's dial), which the tie rule decides.
// (A peer's uTP and TCP attempts never both reach the handshake: the
// dialler closes the loser as soon as the winner connects.)
const redialedAfter = 5 * time.Second

// admission is the verdict on a new connection.
type admission struct {
	// reject says why the connection is refused; "" admits it.
	reject string
	// closeExisting closes the other connection to the same peer: the new
	// one is the one both sides keep (keepExisting).
	closeExisting bool
	// retryAfter, for a refused outgoing connection, is how long not to
	// dial its address again (0: the usual backoff).
	retryAfter time.Duration
}

// admit decides on a new connection, incoming or outgoing, once its
// handshake is done. The rules, in order: the torrent must be active and
// below its peer limit; a connection to ourselves is refused (and its
// address not dialled for a day); of two connections to one peer the one
// keepExisting picks survives (a refused outgoing duplicate is not
// redialled for 30 s), except that the same peer dialling us again from
// the same IP address replaces a connection older than redialedAfter;
// banned addresses are refused. The duplicate rule
// comes before the ban, so a duplicate from a banned address still closes
// the existing connection, as the loop always did.
func admit(c connFacts, lim admitLimits, ex existingConn) admission {
	switch {
	case !lim.active:
		return admission{reject: "torrent not active"}
	case lim.peers >= lim.maxPeers:
		return admission{reject: "peer limit"}
	case c.peerID == lim.ourID:
		return admission{reject: "connection to self", retryAfter: 24 * time.Hour}
	}
	var a admission
	if ex.open {
		redialed := !c.outgoing && ex.sameIP && ex.age >= redialedAfter
		if !redialed && keepExisting(lim.ourID, c.peerID, ex.outgoing, c.outgoing) {
			a = admission{reject: "duplicate peer id"}
			if c.outgoing {
				a.retryAfter = 30 * time.Second // already connected the other way
			}
			return a
		}
		a.closeExisting = true
	}
	if c.banned {
		a.reject = "banned"
	}
	return a
}

// keepExisting decides between two connections to one peer (theirID): an
// existing one and a new one, each dialled by us (outgoing) or by the peer.
// Both sides keep the connection dialled by the side with the smaller peer
// ID, so the same one survives at both ends. When both go the same way
// (one side dialled twice) the first one stays.
func keepExisting(ourID, theirID [20]byte, existingOutgoing, newOutgoing bool) bool {
	if existingOutgoing == newOutgoing {
		return true
	}
	weAreSmaller := bytes.Compare(ourID[:], theirID[:]) < 0
	return newOutgoing != weAreSmaller
}

// firstHave returns the message that tells a new peer what we have, if
// any: before our data is checked (checked false; have is then not used)
// we have nothing to tell, which a Fast peer (BEP 6) hears as HaveNone;
// after, a Fast peer gets HaveAll or HaveNone when they say it all, and
// otherwise any peer gets our bitfield unless it is empty (which BEP 3
// lets us leave unsaid).
func firstHave(fast, checked bool, have *bitfield.Bitfield) (wire.Message, bool) {
	switch {
	case !checked && fast:
		return wire.Message{ID: wire.HaveNone}, true
	case !checked:
	case fast && have.Full():
		return msgHaveAll(), true
	case fast && have.Empty():
		return wire.Message{ID: wire.HaveNone}, true
	case !have.Empty():
		return wire.Message{ID: wire.Bitfield, Bitfield: append([]byte(nil), have.Bytes()...)}, true
	}
	return wire.Message{}, false
}

// Peers whose data failed verification this many times are banned. A peer
// that alone supplied a failed piece counts twice.
const banThreshold = 2

// strikes returns how many strikes each contributor of a piece that failed
// its hash check gets (contributors are picker peer numbers, banned those
// already banned for bad data): none when one of them is banned already,
// since its blocks, in flight to the hasher, explain the failure; two for
// a peer that supplied the whole piece alone; one each otherwise.
func strikes(contributors []int, banned map[int]bool) int {
	for _, id := range contributors {
		if banned[id] {
			return 0
		}
	}
	switch len(contributors) {
	case 0:
		return 0
	case 1:
		return 2
	}
	return 1
}

// banKey is what a ban is recorded under for a peer at a: its IP, or on
// loopback, where every test peer shares one IP, its IP and port.
func banKey(a netip.AddrPort) string {
	if a.Addr().IsLoopback() {
		return a.String()
	}
	return a.Addr().String()
}

// countInteresting returns how many pieces a peer that has has are missing
// from ours (have); we are interested in the peer while it is above 0.
func countInteresting(has, have *bitfield.Bitfield) int {
	if has == nil {
		return 0
	}
	n := 0
	for i := 0; i < has.Len(); i++ {
		if has.Has(i) && !have.Has(i) {
			n++
		}
	}
	return n
}

// wantInterested reports whether we should be interested in a peer with
// interesting pieces we lack: only once our data is checked and while the
// torrent is not paused.
func wantInterested(interesting int, checked, paused bool) bool {
	return interesting > 0 && checked && !paused
}

// Redialling a peer whose connection ended.
const (
	// redialFirst is the wait before the first redial of an address whose
	// connection ended; each further end in a row doubles it, up to
	// redialMax. A leecher often closes the connection that brought it
	// the metadata (Transmission does) and only comes back when dialled,
	// so the first redial comes soon; a peer that keeps closing at once
	// is dialled less and less often.
	redialFirst = 5 * time.Second
	redialMax   = 30 * time.Minute
	// stableConn is how long a connection must have lasted for its end to
	// start the count of ends again.
	stableConn = 5 * time.Minute
)

// redialDelay is how long an address waits to be dialled again after the
// drops-th connection in a row to it ended (drops ≥ 1).
func redialDelay(drops int) time.Duration {
	if drops < 1 {
		drops = 1
	}
	return min(redialFirst<<min(drops-1, 20), redialMax)
}
