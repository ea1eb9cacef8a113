package torrent

import (
	"time"

	"errors"
	"fmt"
	"net/netip"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/wire"
)

// Our extension message IDs (BEP 10 "m" dictionary).
const extMetadataID = 1

// Limits on what a peer may make us store.
const maxPendingHaves = 1 << 20

var errProtocol = errors.New("protocol violation")

func msgHave(i int) wire.Message { return wire.Message{ID: wire.Have, Index: uint32(i)} }
func msgHaveAll() wire.Message   { return wire.Message{ID: wire.HaveAll} }

func (t *Torrent) handlePeerEvent(ev peer.Event) {
	defer peer.PutBatch(ev.More)
	p := t.peers[ev.Conn]
	if p == nil {
		dropMessages(ev.Msg, ev.More) // already dropped
		return
	}
	if ev.Err != nil {
		t.dropPeer(p, ev.Err)
		return
	}
	if !t.handleOne(p, ev.Msg) {
		dropMessages(wire.Message{}, ev.More)
		return
	}
	for i, m := range ev.More {
		if t.peers[ev.Conn] != p || !t.handleOne(p, m) {
			dropMessages(wire.Message{}, ev.More[i+1:])
			return
		}
	}
}

// handleOne handles a message from p and reports whether p is still worth
// listening to: a peer whose message was wrong is closed.
func (t *Torrent) handleOne(p *peerState, m wire.Message) bool {
	if err := t.handleMessage(p, m); err != nil {
		t.cfg.Counters.protocolError()
		t.log.Debug("dropping peer", "peer", p.addr, "msg", m.ID, "err", err)
		p.conn.CloseWith(err)
		return false
	}
	return true
}

// dropMessages returns the blocks of messages that will not be handled to
// the pool.
func dropMessages(m wire.Message, more []wire.Message) {
	peer.PutBlock(m.Block)
	for _, m := range more {
		peer.PutBlock(m.Block)
	}
}

func (t *Torrent) handleMessage(p *peerState, m wire.Message) error {
	switch m.ID {
	case wire.Choke:
		p.peerChoking = true
		if !p.fast && t.pk != nil {
			// Without the Fast extension a choke discards our requests.
			t.pk.RemovePeer(p.id)
			p.latency.clear()
		}
	case wire.Unchoke:
		p.peerChoking = false
		t.expedite(p, t.freshCritical())
		t.fillRequests(p)
	case wire.Interested:
		p.peerInterested = true
		t.maybeUnchoke(p)
	case wire.NotInterested:
		p.peerInterested = false
		if !p.amChoking {
			t.choke(p)
		}
	case wire.Have:
		return t.handleHave(p, m.Index)
	case wire.Bitfield:
		return t.handleBitfield(p, m.Bitfield)
	case wire.HaveAll:
		if !p.fast {
			return fmt.Errorf("%w: have_all without fast extension", errProtocol)
		}
		return t.handleHaveAll(p)
	case wire.HaveNone:
		if !p.fast {
			return fmt.Errorf("%w: have_none without fast extension", errProtocol)
		}
	case wire.Request:
		return t.handleRequest(p, m)
	case wire.Cancel:
		t.handleCancel(p, m)
	case wire.Piece:
		return t.handlePiece(p, m)
	case wire.Reject:
		if !p.fast {
			return fmt.Errorf("%w: reject without fast extension", errProtocol)
		}
		t.handleReject(p, m)
	case wire.AllowedFast:
		if t.info == nil || int(m.Index) < t.info.NumPieces() {
			if len(p.allowedFast) < 64 {
				p.allowedFast = append(p.allowedFast, int(m.Index))
			}
			t.fillRequests(p)
		}
	case wire.Suggest:
		// Advisory; rarest-first already picks well.
	case wire.Extended:
		return t.handleExtended(p, m)
	case wire.Port:
		if m.Port != 0 && t.cfg.OnDHTPort != nil && !t.private() {
			t.cfg.OnDHTPort(netip.AddrPortFrom(p.conn.Addr.Addr(), m.Port))
		}
	}
	return nil
}

func (t *Torrent) handleHave(p *peerState, i uint32) error {
	if t.info == nil {
		if len(p.pendingHaves) >= maxPendingHaves {
			return fmt.Errorf("%w: too many haves", errProtocol)
		}
		p.pendingHaves = append(p.pendingHaves, i)
		return nil
	}
	if int(i) >= t.info.NumPieces() {
		return fmt.Errorf("%w: have %d out of range", errProtocol, i)
	}
	if p.has.Set(int(i)) {
		t.pk.PeerHave(int(i))
		if !t.have.Has(int(i)) {
			p.interesting++
			t.updateInterest(p)
		}
	}
	if t.state == StateSeeding && p.isSeed() {
		t.closeFellowSeed(p)
	}
	return nil
}

func (t *Torrent) handleBitfield(p *peerState, b []byte) error {
	if t.info == nil {
		p.pendingBF = b
		p.pendingHaves = nil
		return nil
	}
	bf, err := bitfield.FromBytes(b, t.info.NumPieces())
	if err != nil {
		return fmt.Errorf("%w: %v", errProtocol, err)
	}
	t.setPeerHas(p, bf)
	return nil
}

func (t *Torrent) handleHaveAll(p *peerState) error {
	if t.info == nil {
		p.pendingAll = true
		return nil
	}
	t.setPeerHas(p, bitfield.Full(t.info.NumPieces()))
	return nil
}

func (t *Torrent) setPeerHas(p *peerState, bf *bitfield.Bitfield) {
	if p.has != nil {
		t.pk.PeerGone(p.has)
	}
	p.has = bf
	t.pk.PeerBitfield(bf)
	t.recountInterest(p)
	if t.state == StateSeeding && p.isSeed() {
		t.closeFellowSeed(p)
		return
	}
	t.updateInterest(p)
}

// recountInterest recomputes how many pieces the peer has that we lack.
func (t *Torrent) recountInterest(p *peerState) {
	p.interesting = countInteresting(p.has, t.have)
}

// updateInterest sends interested/not interested when our interest changes.
func (t *Torrent) updateInterest(p *peerState) {
	want := wantInterested(p.interesting, t.checked, t.paused) && !t.wantComplete()
	if want == p.amInterested {
		return
	}
	p.amInterested = want
	if want {
		p.send(wire.Message{ID: wire.Interested})
		t.fillRequests(p)
	} else {
		p.send(wire.Message{ID: wire.NotInterested})
	}
}

// fillRequests tops up the peer's pipeline of block requests.
func (t *Torrent) fillRequests(p *peerState) {
	if t.pk == nil || !t.checked || t.paused || t.state != StateDownloading || p.has == nil || !p.amInterested {
		return
	}
	var allowed []int
	if p.peerChoking {
		if len(p.allowedFast) == 0 || t.pk.Critical() > 0 {
			// With a stream waiting, blocks asked for now (of the
			// allowed fast set, at random as far as the stream goes)
			// would come before its window once the peer unchokes us.
			return
		}
		allowed = p.allowedFast
	}
	inflight := t.pk.NumRequests(p.id)
	limit := t.downloadLimit()
	depth := limitedDepth(p.maxInflight, limit, p.latency.min)
	want := depth - inflight
	if p.snubbed {
		want = 1 - inflight
	}
	room := t.requestRoom()
	now := time.Now()
	if t.pk.Critical() > 0 && !p.snubbed {
		// Time-critical blocks may go beyond the peer's depth by
		// streamExtraRequests, so that a peer with a full pipeline still
		// takes a due block of a stream's window; under a download limit
		// no further than the limit allows (what is asked beyond it waits
		// in the socket, and may come in any order).
		t.pk.SetNow(t.sel.streams.clock(now))
		t.pk.SetPeerDelay(p.id, t.peerDelay(p, inflight))
		critDepth := limitedDepth(p.maxInflight+streamExtraRequests, limit, p.latency.min)
		if n := min(critDepth-inflight, room); n > 0 {
			t.picked = t.pk.PickCritical(t.picked, p.id, p.has, n, allowed)
			t.sendRequests(p, now)
			want -= len(t.picked)
			room -= len(t.picked)
		}
	}
	if want = min(want, room); want <= 0 {
		return
	}
	t.picked = t.pk.PickInto(t.picked, p.id, p.has, want, allowed)
	t.sendRequests(p, now)
}

// downloadLimit returns the lower of the torrent's and the session's
// download limits in bytes per second, 0 when neither is set.
func (t *Torrent) downloadLimit() int64 {
	a, b := t.downLimit.Limit(), t.cfg.GlobalDownload.Limit()
	switch {
	case a <= 0:
		return max(b, 0)
	case b <= 0:
		return a
	}
	return min(a, b)
}

// sendRequests sends the peer the blocks just picked (t.picked), except
// those of pieces being verified, which it gives back to the picker.
func (t *Torrent) sendRequests(p *peerState, now time.Time) {
	for _, b := range t.picked {
		if t.verifying[b.Piece] {
			t.pk.Cancel(p.id, b)
			continue
		}
		p.latency.requested(b, now)
		p.send(wire.Message{ID: wire.Request, Index: uint32(b.Piece), Begin: uint32(b.Begin), Length: uint32(b.Length)})
	}
}

func (t *Torrent) handleReject(p *peerState, m wire.Message) {
	if t.pk == nil {
		return
	}
	b := blockOf(m.Index, m.Begin, m.Length)
	t.pk.Cancel(p.id, b)
	if !p.peerChoking {
		t.fillRequests(p)
	}
}
