package torrent

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/wire"
)

// Metadata exchange (BEP 9) limits.
const (
	// mdRequestTimeout is how long a peer has to answer a metadata
	// request; a peer that lets it pass is not asked again (see
	// metadataTick) and its piece goes to another peer.
	mdRequestTimeout  = 15 * time.Second
	mdPerPeerRequests = 2
	// mdMaxCandidates bounds the metadata sizes assembled at once (one
	// candidate per size claimed by peers); with wire.MaxMetadataSize it
	// bounds the memory a magnet's metadata fetch holds.
	mdMaxCandidates = 4
)

// errBadMetadata closes a peer whose metadata failed the info hash.
var errBadMetadata = errors.New("peer banned for sending metadata that fails the info hash")

// metadataFetch assembles a magnet's info dictionary from peers (BEP 9).
//
// Each peer claims a size (metadata_size in its extension handshake, kept
// in peerState.mdSize); a liar's claim must not decide what is fetched from
// honest peers. So there is one candidate assembly per claimed size, at
// most mdMaxCandidates, each fetched only from the peers that claim its
// size. The first candidate whose bytes hash to the info hash wins. A
// candidate that fails the hash bans its contributor if there was just
// one; if there were several, it is fetched again from one peer at a time
// (single), so the next failure names the liar and no honest peer is
// dropped for another's lie.
type metadataFetch struct {
	cands []*mdCandidate
	// lastRetry is when the peers that rejected or timed out were last
	// given another chance, when nobody else was left to ask.
	lastRetry time.Time
}

// mdCandidate is the assembly of one claimed metadata size.
type mdCandidate struct {
	size   int
	pieces []mdPiece
	got    int
	// single is set once an assembly from several peers failed the hash:
	// from then on every piece comes from source.
	single bool
	source *peerState
}

type mdPiece struct {
	data    []byte // nil until received
	from    *peerState
	reqFrom *peerState
	reqAt   time.Time
}

func newMDCandidate(size int) *mdCandidate {
	n := (size + wire.MetadataPieceSize - 1) / wire.MetadataPieceSize
	return &mdCandidate{size: size, pieces: make([]mdPiece, n)}
}

func (c *mdCandidate) pieceLen(i int) int {
	if i == len(c.pieces)-1 {
		return c.size - i*wire.MetadataPieceSize
	}
	return wire.MetadataPieceSize
}

// reset forgets the candidate's pieces and requests (the answers to the
// outstanding requests are then ignored, unless asked for again).
func (c *mdCandidate) reset() {
	for i := range c.pieces {
		c.pieces[i] = mdPiece{}
	}
	c.got = 0
	c.source = nil
}

// release frees the requests p holds in c; if p was the single source,
// its pieces are dropped: they cannot be combined with another peer's.
func (c *mdCandidate) release(p *peerState) {
	if c.single && c.source == p {
		c.reset()
		return
	}
	for i := range c.pieces {
		if c.pieces[i].reqFrom == p {
			c.pieces[i].reqFrom = nil
		}
	}
}

// candidate returns the assembly of the given size, or nil.
func (md *metadataFetch) candidate(size int) *mdCandidate {
	for _, c := range md.cands {
		if c.size == size {
			return c
		}
	}
	return nil
}

// peerGone releases what a closed (or silenced) peer held.
func (md *metadataFetch) peerGone(p *peerState) {
	for _, c := range md.cands {
		c.release(p)
	}
}

// mdAskable reports whether p can be asked for metadata pieces.
func (p *peerState) mdAskable() bool {
	id, ok := p.extM[wire.ExtMetadata]
	return ok && id > 0 && id <= 255 && p.mdSize > 0 && !p.mdRejected && !p.mdStalled && !p.conn.Closed()
}

// mdClaimers counts the askable peers that claim size.
func (t *Torrent) mdClaimers(size int) int {
	n := 0
	for _, p := range t.peers {
		if p.mdSize == size && p.mdAskable() {
			n++
		}
	}
	return n
}

// mdCandidateFor returns the assembly for p's claimed size, making one if
// there is room. When mdMaxCandidates are kept, a candidate nobody can be
// asked for is replaced, or else the largest one when p claims less: a
// liar claiming a small size is found out quickly (its assembly completes
// and fails the hash), so large claims are the ones that could hold a slot
// for long.
func (t *Torrent) mdCandidateFor(p *peerState) *mdCandidate {
	md := t.md
	if md == nil || p.mdSize <= 0 {
		return nil
	}
	if c := md.candidate(p.mdSize); c != nil {
		return c
	}
	if len(md.cands) >= mdMaxCandidates {
		victim := -1
		for i, c := range md.cands {
			if t.mdClaimers(c.size) == 0 {
				victim = i
				break
			}
			if c.size > p.mdSize && (victim < 0 || c.size > md.cands[victim].size) {
				victim = i
			}
		}
		if victim < 0 {
			return nil
		}
		t.log.Debug("metadata: dropping a candidate size", "size", md.cands[victim].size, "for", p.mdSize)
		md.cands = append(md.cands[:victim], md.cands[victim+1:]...)
	}
	c := newMDCandidate(p.mdSize)
	md.cands = append(md.cands, c)
	return c
}

// setMetadataClaim records the metadata size p claims.
func (t *Torrent) setMetadataClaim(p *peerState, size int) {
	if p.mdSize == size {
		return
	}
	if t.md != nil {
		if c := t.md.candidate(p.mdSize); c != nil {
			c.release(p)
		}
	}
	p.mdSize = size
	p.mdOutstanding = 0
}

func (t *Torrent) handleExtended(p *peerState, m wire.Message) error {
	if m.ExtendedID == wire.ExtendedHandshakeID {
		h, err := wire.ParseExtendedHandshake(m.Payload)
		if err != nil {
			return err
		}
		p.extM = h.M
		p.reqq = h.Reqq
		p.client = h.V
		if ip, ok := h.YourIPAddr(); ok && t.cfg.OnYourIP != nil {
			t.cfg.OnYourIP(p.conn.Addr, ip)
		}
		if h.Port > 0 && h.Port < 65536 && !p.conn.Outgoing {
			// The peer's listen port: dial this address in the future.
			p.listen = netipFrom(p.conn.Addr, h.Port)
			t.addAddr(p.listen, SourceIncoming)
			if ai := t.addrs[p.listen]; ai != nil {
				ai.connected = true // this connection is to that address
			}
		}
		if t.info == nil && h.MetadataSize > 0 {
			// A later handshake without metadata_size keeps the claim.
			if t.md == nil {
				t.md = &metadataFetch{}
			}
			t.setMetadataClaim(p, h.MetadataSize)
			t.requestMetadata(p, time.Now())
		}
		return nil
	}
	switch m.ExtendedID {
	case extMetadataID:
		return t.handleMetadataMsg(p, m.Payload)
	case extPexID:
		return t.handlePex(p, m.Payload)
	}
	return nil // extensions we did not announce are ignored
}

// requestMetadata asks p for pieces of the assembly of its claimed size
// that nobody is fetching.
func (t *Torrent) requestMetadata(p *peerState, now time.Time) {
	if t.md == nil || t.info != nil || !p.mdAskable() {
		return
	}
	c := t.mdCandidateFor(p)
	if c == nil {
		return
	}
	if c.single {
		if c.source == nil {
			c.source = p
		} else if c.source != p {
			return
		}
	}
	id := p.extM[wire.ExtMetadata]
	for i := range c.pieces {
		if p.mdOutstanding >= mdPerPeerRequests {
			return
		}
		pc := &c.pieces[i]
		if pc.data != nil || pc.reqFrom != nil {
			continue
		}
		pc.reqFrom, pc.reqAt = p, now
		p.mdOutstanding++
		msg := wire.MetadataMessage{Type: wire.MetadataRequest, Piece: i}
		p.send(wire.Message{ID: wire.Extended, ExtendedID: uint8(id), Payload: msg.Marshal()})
	}
}

// requestMetadataAll gives every peer the chance to take free pieces.
func (t *Torrent) requestMetadataAll(now time.Time) {
	for _, p := range t.peers {
		t.requestMetadata(p, now)
	}
}

// metadataTick expires metadata requests, drops assemblies nobody can
// serve and hands out free pieces.
func (t *Torrent) metadataTick(now time.Time) {
	md := t.md
	if md == nil || t.info != nil {
		return
	}
	// A peer that lets a request time out is not asked again: another
	// peer gets its piece.
	for _, c := range md.cands {
		for i := range c.pieces {
			pc := &c.pieces[i]
			if q := pc.reqFrom; q != nil && now.Sub(pc.reqAt) >= mdRequestTimeout {
				t.log.Debug("metadata request timed out", "peer", q.addr, "piece", i, "size", c.size)
				q.mdStalled = true
				c.release(q)
			}
		}
	}
	// Assemblies of sizes no askable peer claims are dropped: they would
	// only hold memory.
	kept := md.cands[:0]
	for _, c := range md.cands {
		if t.mdClaimers(c.size) > 0 {
			kept = append(kept, c)
		}
	}
	clear(md.cands[len(kept):])
	md.cands = kept
	// With nobody left to ask, the peers that rejected or timed out get
	// another chance, once per mdRequestTimeout.
	askable := false
	for _, p := range t.peers {
		if p.mdAskable() {
			askable = true
			break
		}
	}
	if !askable && now.Sub(md.lastRetry) >= mdRequestTimeout {
		md.lastRetry = now
		for _, p := range t.peers {
			p.mdRejected, p.mdStalled = false, false
		}
	}
	for _, p := range t.peers {
		p.mdOutstanding = 0
	}
	for _, c := range md.cands {
		for i := range c.pieces {
			if q := c.pieces[i].reqFrom; q != nil {
				q.mdOutstanding++
			}
		}
	}
	t.requestMetadataAll(now)
}

func (t *Torrent) handleMetadataMsg(p *peerState, payload []byte) error {
	msg, err := wire.ParseMetadataMessage(payload)
	if err != nil {
		return err
	}
	switch msg.Type {
	case wire.MetadataRequest:
		t.serveMetadata(p, msg.Piece)
	case wire.MetadataReject:
		if t.md != nil && t.info == nil && !p.mdRejected {
			p.mdRejected = true
			t.md.peerGone(p)
			t.requestMetadataAll(time.Now())
		}
	case wire.MetadataData:
		return t.handleMetadataData(p, msg)
	}
	return nil
}

func (t *Torrent) serveMetadata(p *peerState, piece int) {
	id, ok := p.extM[wire.ExtMetadata]
	if !ok || id <= 0 || id > 255 {
		return
	}
	n := (len(t.infoBytes) + wire.MetadataPieceSize - 1) / wire.MetadataPieceSize
	var resp wire.MetadataMessage
	if t.infoBytes == nil || piece < 0 || piece >= n {
		resp = wire.MetadataMessage{Type: wire.MetadataReject, Piece: piece}
	} else {
		end := min((piece+1)*wire.MetadataPieceSize, len(t.infoBytes))
		resp = wire.MetadataMessage{Type: wire.MetadataData, Piece: piece, TotalSize: len(t.infoBytes),
			Data: t.infoBytes[piece*wire.MetadataPieceSize : end]}
	}
	p.send(wire.Message{ID: wire.Extended, ExtendedID: uint8(id), Payload: resp.Marshal()})
}

func (t *Torrent) handleMetadataData(p *peerState, msg wire.MetadataMessage) error {
	md := t.md
	if md == nil || t.info != nil || p.mdSize <= 0 {
		return nil // not fetching (any more), or never asked this peer
	}
	if msg.TotalSize != p.mdSize {
		return fmt.Errorf("%w: metadata total_size %d, but the peer claimed %d", errProtocol, msg.TotalSize, p.mdSize)
	}
	c := md.candidate(p.mdSize)
	if c == nil {
		return nil // its assembly was dropped; the answer comes too late
	}
	if msg.Piece < 0 || msg.Piece >= len(c.pieces) || len(msg.Data) != c.pieceLen(msg.Piece) {
		return fmt.Errorf("%w: metadata piece %d with %d bytes", errProtocol, msg.Piece, len(msg.Data))
	}
	pc := &c.pieces[msg.Piece]
	if pc.reqFrom == p {
		pc.reqFrom = nil
		p.mdOutstanding--
	}
	now := time.Now()
	if pc.data != nil || (c.single && c.source != p) {
		t.requestMetadata(p, now)
		return nil // unasked for, or not from the single source
	}
	pc.data = bytes.Clone(msg.Data)
	pc.from = p
	c.got++
	if c.got < len(c.pieces) {
		t.requestMetadata(p, now)
		return nil
	}
	t.metadataComplete(c, now)
	return nil
}

// metadataComplete checks a complete assembly against the info hash and
// installs it, or finds out who lied.
func (t *Torrent) metadataComplete(c *mdCandidate, now time.Time) {
	data := make([]byte, 0, c.size)
	var from []*peerState
	for i := range c.pieces {
		data = append(data, c.pieces[i].data...)
		if q := c.pieces[i].from; !slices.Contains(from, q) {
			from = append(from, q)
		}
	}
	if metainfo.Hash(sha1.Sum(data)) != t.hash {
		if len(from) == 1 {
			// One peer sent it all: that peer lied.
			t.banMetadata(from[0], c.size)
		} else {
			// Someone among several lied; fetch the whole of it from one
			// peer at a time, so the next failure names the liar.
			t.log.Warn("metadata from several peers fails the info hash; refetching from one peer at a time",
				"size", c.size, "peers", len(from))
			c.single = true
		}
		c.reset()
		t.requestMetadataAll(now)
		return
	}
	info, err := metainfo.ParseInfo(data)
	if err != nil {
		t.fail(fmt.Errorf("metadata from peers is invalid: %w", err))
		return
	}
	t.log.Info("metadata received", "name", info.Name, "size", info.TotalLength())
	if t.cfg.OnMetadata != nil {
		t.cfg.OnMetadata(data)
	}
	t.setInfo(info, data)
}

// banMetadata closes and bans a peer whose metadata failed the info hash:
// it cannot connect again, so it cannot supply metadata again.
func (t *Torrent) banMetadata(p *peerState, size int) {
	t.log.Warn("banning peer", "peer", p.addr, "reason", "metadata fails the info hash", "size", size)
	for _, a := range []netip.AddrPort{p.addr, p.conn.Addr, p.listen} {
		if a.IsValid() {
			t.banned[banKey(a)] = true
			delete(t.addrs, a)
		}
	}
	p.mdStalled = true // ask it nothing more while the close takes effect
	t.md.peerGone(p)
	p.conn.CloseWith(errBadMetadata)
}
