package torrent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/wire"
)

// Connection management constants.
const (
	maxKnownAddrs   = 2000
	maxDialFailures = 6
	snubTimeout     = 30 * time.Second
	defaultPeerReqq = 250
	// maxServeBytes bounds the bytes of a peer's requests being served:
	// read from disk or waiting in its send queue (which closes the
	// connection above peer.DefaultMaxQueuedBytes). Deep queues matter:
	// with 4 MiB (250 blocks) two libtorrent leechers fetched 40 % of the
	// data from each other instead of from gobit, and finished 10-15 %
	// later than with 12 MiB.
	maxServeBytes = 12 << 20
	// serveReqq is the request queue depth announced to peers (reqq).
	serveReqq = maxServeBytes / wire.BlockSize
	// maxServeQueued is maxServeBytes with the frames of its blocks (a
	// 13-byte header each): the send queue counts whole messages, and a
	// peer may keep serveReqq whole blocks requested, as announced.
	maxServeQueued = maxServeBytes + serveReqq*13
)

// errDuplicate closes the losing one of two connections to the same peer.
var errDuplicate = errors.New("duplicate connection")

// errBanned closes connections to peers that sent bad data.
var errBanned = errors.New("peer banned for sending corrupt data")

// addrInfo is what we know about a candidate peer address.
type addrInfo struct {
	failures  int
	nextTry   time.Time
	connected bool
	dialing   bool
	source    Source
	seed      bool // was a seed when last connected: useless to us while we seed
	// drops counts the connections to the address that ended in a row,
	// each within stableConn of its start (redialDelay).
	drops int
}

// peerState is the loop's view of one connection.
type peerState struct {
	id     int
	conn   *peer.Conn
	addr   netip.AddrPort // dial address (outgoing) or remote address (incoming)
	listen netip.AddrPort // where the peer accepts connections, if known
	source Source
	client string // from the extension handshake's "v"
	fast   bool
	ext    bool
	extM   map[string]int
	reqq   int
	start  time.Time

	has          *bitfield.Bitfield // nil until the torrent's info is known
	pendingBF    []byte             // bitfield received before the info was known
	pendingHaves []uint32
	pendingAll   bool
	interesting  int // pieces the peer has that we lack

	amChoking      bool
	lastUnchoked   time.Time
	upAtUnchoke    int64 // conn.Uploaded() when the current unchoke began
	amInterested   bool
	peerChoking    bool
	peerInterested bool
	allowedFast    []int        // pieces the peer lets us request while choked
	weAllowFast    map[int]bool // pieces we serve the peer while choking it (BEP 6)

	maxInflight int
	latency     latencyTracker
	lastBlock   time.Time
	snubbed     bool
	lastDown    int64
	lastUp      int64
	rateDown    rate
	rateUp      rate

	serving      map[reqKey]bool // requests being read from disk or queued
	servingBytes int64           // their lengths added up

	bad int

	// stopping: closed by closeAllPeers because the torrent stopped
	// (error, pause, recheck, move, shutdown). Its end says nothing
	// against the peer, so dropPeer leaves its address ready to dial.
	stopping bool
	// fellowSeed: closed by closeFellowSeed, a seed while we seed.
	fellowSeed bool

	pex pexState

	// Metadata exchange (BEP 9): the size the peer claims (metadata_size,
	// 0 if none), our requests outstanding with it, and whether it
	// rejected a request or let one time out (it is then not asked).
	mdSize        int
	mdOutstanding int
	mdRejected    bool
	mdStalled     bool
}

type reqKey struct{ index, begin, length uint32 }

func (p *peerState) send(m wire.Message) bool { return p.conn.Send(m) }

func (p *peerState) isSeed() bool {
	if p.has != nil {
		return p.has.Full()
	}
	return p.pendingAll
}

// tick updates the peer's rates and request queue depth.
func (p *peerState) tick(now time.Time) {
	d, u := p.conn.Downloaded(), p.conn.Uploaded()
	p.rateDown.update(d - p.lastDown)
	p.rateUp.update(u - p.lastUp)
	p.lastDown, p.lastUp = d, u
	// Keep the peer's bandwidth-delay product (and a margin) requested,
	// within its reqq.
	if !p.snubbed {
		p.maxInflight = requestDepth(p.rateDown.recent(), p.latency.min, p.reqq)
	}
}

// bdp returns the peer's bandwidth-delay product in bytes: its rate times
// its least block latency (0 while either is unknown).
func (p *peerState) bdp() int64 {
	return int64(float64(p.rateDown.recent()) * p.latency.min.Seconds())
}

// applyPendingHave converts what the peer announced before we knew the
// torrent's size into a bitfield.
func (p *peerState) applyPendingHave(n int) error {
	switch {
	case p.pendingAll:
		p.has = bitfield.Full(n)
	case p.pendingBF != nil:
		bf, err := bitfield.FromBytes(p.pendingBF, n)
		if err != nil {
			return fmt.Errorf("peer bitfield: %w", err)
		}
		p.has = bf
	default:
		p.has = bitfield.New(n)
	}
	for _, i := range p.pendingHaves {
		if int(i) >= n {
			return fmt.Errorf("peer have %d: out of range", i)
		}
		p.has.Set(int(i))
	}
	p.pendingBF, p.pendingHaves = nil, nil
	return nil
}

// addAddr records a candidate peer address.
func (t *Torrent) addAddr(a netip.AddrPort, src Source) {
	if !a.IsValid() || a.Port() == 0 || len(t.addrs) >= maxKnownAddrs {
		return
	}
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	if t.banned[banKey(a)] || t.blocked(a.Addr()) {
		return
	}
	if t.cfg.AllowAddr != nil && !t.cfg.AllowAddr(a.Addr()) {
		return
	}
	if _, ok := t.addrs[a]; !ok {
		t.addrs[a] = &addrInfo{source: src}
	}
}

// blocked reports whether a is on the session's IP blocklist.
func (t *Torrent) blocked(a netip.Addr) bool {
	return t.cfg.Blocked != nil && t.cfg.Blocked(a)
}

// wantPeers reports whether the torrent should dial peers. Seeders dial
// too (leechers behind NAT, or clients such as Transmission 3 that never
// dial loopback peers, can only be reached that way), but skip known seeds.
func (t *Torrent) wantPeers() bool {
	return !t.paused && !t.moving && t.state != StateError && t.state != StateChecking
}

// RetryPeers forgets the dial failures of every known address and dials
// them again now. The session calls it when its network is back (its
// bound interface returned): those dials failed for want of a network,
// not because of the peers, and waiting out their back-off would leave
// the torrent idle for minutes.
func (t *Torrent) RetryPeers() {
	_ = t.do(func() {
		for _, ai := range t.addrs {
			ai.failures = 0
			ai.nextTry = time.Time{}
		}
		t.connectPeers()
	})
}

// connectPeers dials candidate addresses while below the peer limit.
func (t *Torrent) connectPeers() {
	if !t.wantPeers() {
		return
	}
	now := time.Now()
	for a, ai := range t.addrs {
		if len(t.peers)+t.dialing >= t.cfg.MaxPeers {
			return
		}
		if !t.dialCandidate(a, ai) || now.Before(ai.nextTry) {
			continue
		}
		if t.blocked(a.Addr()) { // the blocklist changed since it was learned
			delete(t.addrs, a)
			continue
		}
		if !t.cfg.Conns.TryAcquire() {
			return
		}
		ai.dialing = true
		t.dialing++
		if t.dialC == nil {
			t.dialC = make(chan dialResult, 16)
		}
		go t.dial(a)
	}
}

// dialCandidate reports whether connectPeers would dial a once its
// nextTry has come: not connected or being dialled, not a known seed while
// we seed, not ourselves.
func (t *Torrent) dialCandidate(a netip.AddrPort, ai *addrInfo) bool {
	if ai.connected || ai.dialing || (ai.seed && t.state == StateSeeding) {
		return false
	}
	return !a.Addr().IsLoopback() || a.Port() != t.cfg.Port
}

// nextDial returns when connectPeers would next dial a known address (a
// time already past when one may be dialled now), and false when it would
// dial none: the torrent wants no peers, or knows none to dial. A parked
// torrent wakes then (wakeAfter).
func (t *Torrent) nextDial() (time.Time, bool) {
	if !t.wantPeers() {
		return time.Time{}, false
	}
	var at time.Time
	found := false
	for a, ai := range t.addrs {
		// Not asked of the blocklist, which counts each question it
		// answers yes: connectPeers drops such an address at the wake.
		if !t.dialCandidate(a, ai) {
			continue
		}
		if !found || ai.nextTry.Before(at) {
			at, found = ai.nextTry, true
		}
	}
	return at, found
}

func (t *Torrent) dial(a netip.AddrPort) {
	select {
	case t.cfg.HalfOpen <- struct{}{}:
	case <-t.doneC:
		t.cfg.Conns.Release()
		return
	}
	nc, hs, err := peer.DialPolicy(peer.WithDialer(context.Background(), t.cfg.Dial), a, t.Handshake(), t.cfg.DialTimeout, t.cfg.Encryption)
	<-t.cfg.HalfOpen
	if err != nil {
		t.cfg.Conns.Release()
		select {
		case t.dialC <- dialResult{addr: a, err: err}:
		case <-t.doneC:
		}
		return
	}
	select {
	case t.connC <- newConn{nc: nc, hs: hs, outgoing: true, addr: a}:
	case <-t.doneC:
		nc.Close()
		t.cfg.Conns.Release()
	}
}

func (t *Torrent) handleDialResult(r dialResult) {
	t.dialing--
	ai := t.addrs[r.addr]
	if ai == nil {
		return
	}
	ai.dialing = false
	ai.failures++
	if ai.failures >= maxDialFailures {
		delete(t.addrs, r.addr)
		return
	}
	backoff := 15 * time.Second << (ai.failures - 1)
	ai.nextTry = time.Now().Add(backoff)
	t.log.Debug("dial failed", "peer", r.addr, "err", r.err, "retry_in", backoff)
}

// handleNewConn adopts an established connection, incoming or outgoing.
func (t *Torrent) handleNewConn(c newConn) {
	if c.outgoing {
		t.dialing--
		if ai := t.addrs[c.addr]; ai != nil {
			ai.dialing = false
		}
	} else if !t.cfg.Conns.TryAcquire() {
		c.nc.Close()
		return
	}
	remote := peer.AddrOf(c.nc.RemoteAddr())
	old := t.byID[c.hs.PeerID]
	var ex existingConn
	if old != nil {
		ex = existingConn{open: true, outgoing: old.conn.Outgoing,
			sameIP: old.addr.Addr().Unmap() == remote.Addr().Unmap(), age: time.Since(old.start)}
	}
	a := admit(connFacts{
		outgoing: c.outgoing,
		peerID:   c.hs.PeerID,
		banned:   t.banned[banKey(remote)] || (c.outgoing && t.banned[banKey(c.addr)]),
	}, admitLimits{
		active:   !t.paused && !t.moving && t.state != StateError,
		peers:    len(t.peers),
		maxPeers: t.cfg.MaxPeers,
		ourID:    t.cfg.PeerID,
	}, ex)
	if a.closeExisting {
		old.conn.CloseWith(errDuplicate)
	}
	if a.reject != "" {
		if ai := t.addrs[c.addr]; ai != nil && a.retryAfter > 0 {
			ai.nextTry = time.Now().Add(a.retryAfter)
		}
		t.log.Debug("connection refused", "peer", c.nc.RemoteAddr(), "why", a.reject)
		c.nc.Close()
		t.cfg.Conns.Release()
		return
	}
	if t.peerEvC == nil {
		// Made with the first peer: most of thousands of torrents never
		// have one, and a buffer of events is 9 KiB each.
		t.peerEvC = make(chan peer.Event, peerEvents)
	}
	conn := peer.New(c.nc, c.hs, c.outgoing, t.peerEvC, t.doneC, t.cfg.PeerConfig)
	t.nextPeerID++
	p := &peerState{
		id:          t.nextPeerID,
		conn:        conn,
		addr:        remote,
		fast:        c.hs.SupportsFast(),
		ext:         c.hs.SupportsExtended(),
		start:       time.Now(),
		amChoking:   true,
		peerChoking: true,
		maxInflight: initialQueue,
		serving:     make(map[reqKey]bool),
	}
	p.source = SourceIncoming
	if c.outgoing {
		p.addr = c.addr
		p.listen = c.addr
		if ai := t.addrs[c.addr]; ai != nil {
			p.source = ai.source
			ai.connected = true
			ai.failures = 0
		}
	}
	t.peers[conn] = p
	t.byID[c.hs.PeerID] = p
	t.byNum[p.id] = p
	if t.info != nil {
		p.has = bitfield.New(t.info.NumPieces())
	}
	if m, ok := firstHave(p.fast, t.info != nil && t.checked, t.have); ok {
		p.send(m)
	}
	t.sendExtendedHandshake(p)
	t.sendAllowedFast(p)
	if t.cfg.DHTPort != 0 && c.hs.SupportsDHT() && !t.private() {
		p.send(wire.Message{ID: wire.Port, Port: t.cfg.DHTPort})
	}
	t.log.Debug("peer connected", "peer", remote, "outgoing", c.outgoing, "fast", p.fast, "ext", p.ext)
	t.publish()
}

// sendExtendedHandshake sends our BEP 10 handshake if the peer supports it.
func (t *Torrent) sendExtendedHandshake(p *peerState) {
	if !p.ext {
		return
	}
	h := wire.ExtendedHandshake{
		M:    t.extensions(),
		V:    ClientVersion,
		Port: int(t.cfg.Port),
		Reqq: serveReqq,
	}
	if t.infoBytes != nil {
		h.MetadataSize = len(t.infoBytes)
	}
	if p.addr.Addr().Is4() {
		b := p.addr.Addr().As4()
		h.YourIP = b[:]
	} else if p.addr.Addr().Is6() {
		b := p.addr.Addr().As16()
		h.YourIP = b[:]
	}
	if t.cfg.OwnIPv6 != nil {
		if ip := t.cfg.OwnIPv6(); ip.Is6() && !ip.Is4In6() {
			b := ip.As16()
			h.IPv6 = b[:]
		}
	}
	payload, err := h.Marshal()
	if err != nil {
		t.log.Error("marshal extension handshake", "err", err)
		return
	}
	p.send(wire.Message{ID: wire.Extended, ExtendedID: wire.ExtendedHandshakeID, Payload: payload})
}

// dropPeer forgets a closed connection and releases what it held.
func (t *Torrent) dropPeer(p *peerState, err error) {
	t.addUploaded(p)
	delete(t.peers, p.conn)
	delete(t.byNum, p.id)
	if t.byID[p.conn.Handshake.PeerID] == p {
		delete(t.byID, p.conn.Handshake.PeerID)
	}
	t.cfg.Conns.Release()
	if t.pk != nil {
		t.pk.RemovePeer(p.id)
		if p.has != nil {
			t.pk.PeerGone(p.has)
		}
	}
	if t.md != nil {
		t.md.peerGone(p)
	}
	t.pexDropped(p)
	// A peer that left is dialled again after a while (redialDelay), but
	// not one closed because the torrent stopped: the end of such a
	// connection may reach the loop after a resume cleared the backoffs,
	// and must not bring one back (the torrent would wait with no peers);
	// nor a fellow seed (see closeFellowSeed).
	now := time.Now()
	ended := func(ai *addrInfo) {
		ai.connected = false
		if p.stopping || p.fellowSeed {
			ai.nextTry = time.Time{}
			return
		}
		if now.Sub(p.start) >= stableConn {
			ai.drops = 0
		}
		ai.drops++
		ai.nextTry = now.Add(redialDelay(ai.drops))
	}
	if ai := t.addrs[p.listen]; ai != nil && p.listen != p.addr {
		ai.seed = p.isSeed()
		ended(ai)
	}
	if ai := t.addrs[p.addr]; ai != nil {
		ai.seed = p.isSeed()
		ended(ai)
	}
	t.log.Debug("peer disconnected", "peer", p.addr, "err", err)
	// Its requests are free again: let other peers pick them up.
	for _, q := range t.peers {
		t.fillRequests(q)
	}
	t.connectPeers()
	t.publish()
}

// closeFellowSeed closes the connection to a seed while this torrent
// seeds: two seeds have nothing to exchange. The address is not dialled
// again while the torrent seeds (addrInfo.seed), and at once when it wants
// data again: its connection may end only after a file was un-skipped, and
// a redial wait then would leave the download with no peer.
func (t *Torrent) closeFellowSeed(p *peerState) {
	p.fellowSeed = true
	p.conn.Close()
}

// closeAllPeers closes every connection because the torrent stops (see
// peerState.stopping).
func (t *Torrent) closeAllPeers() {
	for c, p := range t.peers {
		p.stopping = true
		c.Close()
	}
}

// ban closes and bans a peer that sent corrupt data.
func (t *Torrent) ban(p *peerState) {
	t.log.Warn("banning peer", "peer", p.addr, "reason", "corrupt data")
	t.banned[banKey(p.addr)] = true
	t.banned[banKey(p.conn.Addr)] = true
	t.bannedIDs[p.id] = true
	delete(t.addrs, p.addr)
	p.conn.CloseWith(errBanned)
	// Its blocks in unfinished pieces are suspect: drop them, or each
	// such piece would fail again when good peers complete it and strike
	// them. Pieces already being verified are judged by their hash.
	for _, b := range t.pk.ForgetReceived(p.id, func(i int) bool { return t.verifying[i] }) {
		if pb := t.pieces[b.Piece]; pb != nil {
			t.heldBytes -= int64(b.Length)
			if pb.forget(b.Begin) {
				delete(t.pieces, b.Piece)
			}
		}
	}
}

func netipFrom(a netip.AddrPort, port int) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr(), uint16(port))
}

// peerStats describes a peer for the API.
func (t *Torrent) peerStats(p *peerState) PeerStats {
	ps := PeerStats{
		Addr:         p.conn.Addr.String(),
		Client:       p.client,
		Source:       p.source,
		Outgoing:     p.conn.Outgoing,
		Encrypted:    p.conn.Encrypted,
		Encryption:   p.conn.Crypto,
		Transport:    p.conn.Transport,
		DownloadRate: p.rateDown.shown(),
		UploadRate:   p.rateUp.shown(),
		Downloaded:   p.conn.Downloaded(),
		Uploaded:     p.conn.Uploaded(),
	}
	if ps.Client == "" {
		ps.Client = clientFromPeerID(p.conn.Handshake.PeerID)
	}
	if p.has != nil && p.has.Len() > 0 {
		ps.Progress = float64(p.has.Count()) / float64(p.has.Len())
	} else if p.pendingAll {
		ps.Progress = 1
	}
	var f []byte
	switch {
	case p.amInterested && !p.peerChoking:
		f = append(f, 'D')
	case p.amInterested:
		f = append(f, 'd')
	}
	switch {
	case p.peerInterested && !p.amChoking:
		f = append(f, 'U')
	case p.peerInterested:
		f = append(f, 'u')
	}
	if p.snubbed {
		f = append(f, 'S')
	}
	if p.fast {
		f = append(f, 'E')
	}
	if p.ext {
		f = append(f, 'X')
	}
	ps.Flags = string(f)
	return ps
}

// clientFromPeerID names the client from an Azureus-style peer ID (BEP 20),
// e.g. "-GB0001-…" → "GB 0001"; unknown styles give "".
func clientFromPeerID(id [20]byte) string {
	if id[0] != '-' || id[7] != '-' {
		return ""
	}
	for _, c := range id[1:7] {
		if c < '0' || c > 'z' {
			return ""
		}
	}
	return string(id[1:3]) + " " + string(id[3:7])
}
