package torrent

import (
	"net/netip"
	"time"

	"github.com/gobit/gobit/internal/wire"
)

// Peer exchange (BEP 11) parameters.
const (
	extPexID      = 2
	pexInterval   = time.Minute // at most one ut_pex message per peer per minute
	pexMaxPerMsg  = 50          // peers added (or dropped) per message
	pexMinReceive = 20 * time.Second
)

// private reports whether the torrent is private (BEP 27): no DHT, PEX or
// LSD, peers only from its trackers.
func (t *Torrent) private() bool { return t.info != nil && t.info.Private }

// Private reports whether the torrent is private; false while a magnet's
// metadata is unknown.
func (t *Torrent) Private() bool {
	if t.cfg.MetaInfo != nil {
		return t.cfg.MetaInfo.Info.Private
	}
	st := t.stats.Load()
	return st != nil && st.Private
}

// extensions is our BEP 10 "m" dictionary.
func (t *Torrent) extensions() map[string]int {
	m := map[string]int{wire.ExtMetadata: extMetadataID}
	if !t.private() {
		m[wire.ExtPex] = extPexID
	}
	return m
}

// pexState is what we told one peer over ut_pex.
type pexState struct {
	sent    map[netip.AddrPort]bool
	last    time.Time
	lastIn  time.Time
	dropped []netip.AddrPort // peers gone since the last message
}

// handlePex takes peers a peer told us about.
func (t *Torrent) handlePex(p *peerState, payload []byte) error {
	if t.private() {
		return nil
	}
	now := time.Now()
	if now.Sub(p.pex.lastIn) < pexMinReceive {
		return nil // too chatty; BEP 11 asks for one message a minute
	}
	p.pex.lastIn = now
	m, err := wire.ParsePex(payload)
	if err != nil {
		return err
	}
	for _, a := range m.Added {
		t.addAddr(a, SourcePEX)
	}
	t.connectPeers()
	return nil
}

// pexTick sends each PEX-capable peer the peers added and dropped since our
// last message to it, once a minute.
func (t *Torrent) pexTick(now time.Time) {
	if t.private() {
		return
	}
	var current []netip.AddrPort
	flags := map[netip.AddrPort]byte{}
	for _, q := range t.peers {
		if !q.listen.IsValid() {
			continue
		}
		current = append(current, q.listen)
		var f byte
		if q.isSeed() {
			f |= wire.PexSeed
		}
		if q.conn.Outgoing {
			f |= wire.PexOutgoing
		}
		flags[q.listen] = f
	}
	for _, p := range t.peers {
		id, ok := p.extM[wire.ExtPex]
		if !ok || id <= 0 || id > 255 || now.Sub(p.pex.last) < pexInterval {
			continue
		}
		if p.pex.sent == nil {
			p.pex.sent = make(map[netip.AddrPort]bool)
		}
		var msg wire.PexMessage
		for _, a := range current {
			if a == p.listen || p.pex.sent[a] || len(msg.Added) >= pexMaxPerMsg {
				continue
			}
			msg.Added = append(msg.Added, a)
			msg.AddedFlags = append(msg.AddedFlags, flags[a])
		}
		for _, a := range p.pex.dropped {
			if p.pex.sent[a] && len(msg.Dropped) < pexMaxPerMsg {
				msg.Dropped = append(msg.Dropped, a)
			}
		}
		p.pex.dropped = nil
		if len(msg.Added) == 0 && len(msg.Dropped) == 0 {
			continue
		}
		payload, err := msg.Marshal()
		if err != nil {
			t.log.Warn("marshal pex", "err", err)
			continue
		}
		p.pex.last = now
		for _, a := range msg.Added {
			p.pex.sent[a] = true
		}
		for _, a := range msg.Dropped {
			delete(p.pex.sent, a)
		}
		p.send(wire.Message{ID: wire.Extended, ExtendedID: uint8(id), Payload: payload})
	}
}

// pexDropped remembers a departed peer so others hear it was dropped.
func (t *Torrent) pexDropped(gone *peerState) {
	if !gone.listen.IsValid() {
		return
	}
	for _, p := range t.peers {
		if p != gone && p.pex.sent[gone.listen] && len(p.pex.dropped) < pexMaxPerMsg {
			p.pex.dropped = append(p.pex.dropped, gone.listen)
		}
	}
}
