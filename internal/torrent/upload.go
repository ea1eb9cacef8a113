package torrent

import (
	"errors"
	"fmt"
	"time"

	"github.com/gobit/gobit/internal/choker"
	"github.com/gobit/gobit/internal/storage"

	"github.com/gobit/gobit/internal/wire"
)

// maxRequestLength is the largest block a peer may request; 16 KiB is the
// norm, some clients ask for up to 128 KiB.
const maxRequestLength = 128 << 10

// requestVerdict is what to do with a peer's block request.
type requestVerdict int

const (
	requestServe  requestVerdict = iota // read the block and send it
	requestReject                       // refuse politely (reject message for Fast peers)
	requestDrop                         // protocol violation: disconnect the peer
)

// requestState is what validateRequest needs to know about the torrent and
// the peer.
type requestState struct {
	numPieces   int             // 0 while the info dictionary is unknown
	pieceSize   func(int) int64 // size of piece i
	have        func(int) bool  // we have verified piece i
	choked      bool            // we choke the peer
	allowedFast func(int) bool  // piece i is in the peer's allowed-fast set
	fastTaken   func(int) bool  // piece i is given to another choked peer already
	queued      int64           // bytes of this peer's requests being read or waiting to be sent
}

// validateRequest decides on a request (BEP 3, BEP 6): lengths 1..128 KiB
// inside a piece we have, from an unchoked peer (or for an allowed-fast
// piece not given to another choked peer), within the per-peer queue bound.
// Out-of-range or malformed requests drop the peer; requests we merely
// cannot serve now are rejected.
func validateRequest(st requestState, m wire.Message) (requestVerdict, error) {
	if m.Length == 0 || m.Length > maxRequestLength {
		return requestDrop, fmt.Errorf("%w: request length %d", errProtocol, m.Length)
	}
	if st.numPieces == 0 {
		return requestReject, nil
	}
	if int(m.Index) >= st.numPieces {
		return requestDrop, fmt.Errorf("%w: request for piece %d out of range", errProtocol, m.Index)
	}
	if int64(m.Begin)+int64(m.Length) > st.pieceSize(int(m.Index)) {
		return requestDrop, fmt.Errorf("%w: request %d+%d beyond piece %d", errProtocol, m.Begin, m.Length, m.Index)
	}
	if st.choked && (!st.allowedFast(int(m.Index)) || st.fastTaken(int(m.Index))) {
		return requestReject, nil
	}
	if !st.have(int(m.Index)) || st.queued+int64(m.Length) > maxServeQueued {
		return requestReject, nil
	}
	return requestServe, nil
}

// handleRequest validates a block request and queues a disk read for it.
func (t *Torrent) handleRequest(p *peerState, m wire.Message) error {
	st := requestState{
		choked:      p.amChoking,
		allowedFast: func(i int) bool { return p.weAllowFast[i] },
		fastTaken:   func(i int) bool { return t.fastTaken(p, uint32(i)) },
		queued:      p.servingBytes + int64(p.conn.QueuedBytes()),
	}
	if t.info != nil && t.have != nil {
		st.numPieces = t.info.NumPieces()
		st.pieceSize = t.info.PieceSize
		st.have = t.have.Has
	}
	verdict, err := validateRequest(st, m)
	switch verdict {
	case requestDrop:
		return err
	case requestReject:
		t.reject(p, m)
		return nil
	}
	k := reqKey{m.Index, m.Begin, m.Length}
	if p.serving[k] {
		return nil // duplicate request
	}
	if p.amChoking {
		t.fastGiven[k.index] = p.id
	}
	p.startServing(k)
	t.serve(p, k)
	return nil
}

// waitingRequest is a request waiting for its piece to be loaded into the
// read cache.
type waitingRequest struct {
	p *peerState
	k reqKey
}

// serve sends a validated request's block. Peers ask for every block of a
// piece, so the loop serves blocks of cached pieces itself, and a piece
// not cached yet is loaded by one disk job for all the requests that wait
// for it (t.loading); each block would otherwise cost a disk job and two
// hand-offs between goroutines. Pieces the cache does not hold are read
// block by block in disk jobs.
func (t *Torrent) serve(p *peerState, k reqKey) {
	cache := t.cfg.ReadCache
	piece := int(k.index)
	if buf, rel := cache.Cached(t.hash, piece, int(k.begin), int(k.length)); buf != nil {
		t.handleBlockRead(p, k, buf, rel, nil)
		return
	}
	if !cache.holds(t.info.PieceSize(piece)) {
		t.readBlock(p, k)
		return
	}
	if w, ok := t.loading[piece]; ok {
		t.loading[piece] = append(w, waitingRequest{p, k})
		return
	}
	t.loading[piece] = []waitingRequest{{p, k}}
	t.postDisk(loadJob(cache, t.store, t.hash, piece))
}

// readBlock reads one block in a disk job and sends it.
func (t *Torrent) readBlock(p *peerState, k reqKey) {
	t.postDisk(readJob(t.cfg.ReadCache, t.store, t.hash, p, k))
}

// handlePieceLoaded serves the requests that waited for a piece to be
// loaded into the read cache.
func (t *Torrent) handlePieceLoaded(piece int, err error) {
	waiting := t.loading[piece]
	delete(t.loading, piece)
	for _, w := range waiting {
		var buf []byte
		rel := noRelease
		if err == nil {
			if buf, rel = t.cfg.ReadCache.Cached(t.hash, piece, int(w.k.begin), int(w.k.length)); buf == nil {
				t.readBlock(w.p, w.k) // already evicted again (a small cache)
				continue
			}
		}
		t.handleBlockRead(w.p, w.k, buf, rel, err) // drops cancelled requests
	}
}

func (t *Torrent) handleBlockRead(p *peerState, k reqKey, buf []byte, release func(), err error) {
	if !p.serving[k] || t.peers[p.conn] != p {
		release()
		return // cancelled, or the peer is gone
	}
	p.stopServing(k)
	if err != nil {
		release()
		t.reject(p, wire.Message{Index: k.index, Begin: k.begin, Length: k.length})
		if !errors.Is(err, storage.ErrClosed) && t.have.Has(int(k.index)) {
			// Data we verified is gone or unreadable (file deleted, disk
			// failing): stop rather than serve errors; a recheck recovers.
			t.fail(fmt.Errorf("read piece %d: %w", k.index, err))
		}
		return
	}
	if p.amChoking && !p.weAllowFast[int(k.index)] {
		release()
		t.reject(p, wire.Message{Index: k.index, Begin: k.begin, Length: k.length})
		return
	}
	p.conn.SendRelease(wire.Message{ID: wire.Piece, Index: k.index, Begin: k.begin, Block: buf}, release)
}

func (t *Torrent) handleCancel(p *peerState, m wire.Message) {
	k := reqKey{m.Index, m.Begin, m.Length}
	if p.serving[k] {
		p.stopServing(k)
		return
	}
	// Already read: drop it from the send queue if still there.
	p.conn.RemoveQueued(func(q *wire.Message) bool {
		return q.ID == wire.Piece && q.Index == m.Index && q.Begin == m.Begin && uint32(len(q.Block)) == m.Length
	})
}

// fastTaken reports whether piece is given to a choked peer other than p
// that is still connected.
//
// Allowed-fast pieces are a gift to help a choked peer start (BEP 6), and
// their set depends only on the peer's /24 (or /64) network, so peers of
// one network all get the same set. Serving each of them every piece of
// its set would send those pieces over and over while the rest of the
// torrent waits: as the only seeder of 20 peers of one /24 and 32 pieces,
// gobit spent 40 % of its upload on the ten allowed-fast pieces (one of
// them sent 13 times). BEP 6 lets a peer reject allowed-fast requests "if
// the local peer lacks sufficient resources", so each piece is given to
// one choked peer at a time; the others get it when unchoked or from that
// peer.
func (t *Torrent) fastTaken(p *peerState, piece uint32) bool {
	id, ok := t.fastGiven[piece]
	if !ok || id == p.id {
		return false
	}
	if _, connected := t.byNum[id]; !connected {
		delete(t.fastGiven, piece)
		return false
	}
	return true
}

// reject tells a Fast-extension peer we will not serve a request; peers
// without the extension learn it from the choke.
func (t *Torrent) reject(p *peerState, m wire.Message) {
	if p.fast {
		p.send(wire.Message{ID: wire.Reject, Index: m.Index, Begin: m.Begin, Length: m.Length})
	}
}

// maybeUnchoke unchokes an interested peer at once when an upload slot is
// free, rather than making it wait for the next choke review.
func (t *Torrent) maybeUnchoke(p *peerState) {
	if !p.amChoking || !p.peerInterested || t.paused || !t.checked || p.isSeed() {
		return
	}
	slots := t.choker.Slots()
	if slots >= 0 && t.unchoked() >= slots+1 { // +1: the optimistic slot
		return
	}
	t.unchoke(p, time.Now())
}

func (t *Torrent) unchoke(p *peerState, now time.Time) {
	if !p.amChoking {
		return
	}
	p.amChoking = false
	p.lastUnchoked = now
	p.upAtUnchoke = p.conn.Uploaded()
	p.send(wire.Message{ID: wire.Unchoke})
}

func (t *Torrent) choke(p *peerState) {
	if p.amChoking {
		return
	}
	p.amChoking = true
	p.send(wire.Message{ID: wire.Choke})
	// Requests we were about to serve are dropped (Fast peers get rejects),
	// except those for allowed-fast pieces.
	for k := range p.serving {
		if !p.weAllowFast[int(k.index)] {
			t.reject(p, wire.Message{Index: k.index, Begin: k.begin, Length: k.length})
			p.stopServing(k)
		}
	}
}

// allowedFastCount is how many pieces we let a choked Fast peer request
// (BEP 6 suggests 10).
const allowedFastCount = 10

// sendAllowedFast sends the canonical allowed-fast set (BEP 6) to a Fast
// peer once the torrent's size is known, so a choked newcomer can bootstrap.
func (t *Torrent) sendAllowedFast(p *peerState) {
	if !p.fast || t.info == nil || p.weAllowFast != nil {
		return
	}
	n := t.info.NumPieces()
	if n <= allowedFastCount {
		// Too few pieces: allowing all would defeat choking.
		p.weAllowFast = map[int]bool{}
		return
	}
	set := wire.AllowedFastSet(p.conn.Addr.Addr(), t.hash, n, allowedFastCount)
	p.weAllowFast = make(map[int]bool, len(set))
	for _, i := range set {
		p.weAllowFast[int(i)] = true
		p.send(wire.Message{ID: wire.AllowedFast, Index: i})
	}
}

func (t *Torrent) unchoked() int {
	n := 0
	for _, p := range t.peers {
		if !p.amChoking {
			n++
		}
	}
	return n
}

// chokeReviewEvery is the period of the choke review, in ticks (seconds).
const chokeReviewEvery = 10

// seedPieceQuota is how many pieces' worth of data a peer is sent in a
// seeding upload slot before the slot rotates to a peer that waits, even if
// its minute (choker.DefaultSeedRotate) is not up; the quota is at least
// minSeedQuota bytes, so that small pieces do not turn the slots over every
// round. As the only seeder of 20 peers (WAN scenario d, 1 MiB pieces) 4
// pieces did as well as the minute alone or slightly better, and 20 pieces
// (libtorrent's seeding_piece_quota, which it applies only after a minute
// too) slightly worse: see docs/performance.md.
const (
	seedPieceQuota = 4
	minSeedQuota   = 4 << 20
)

// unchokeTick runs the choker every chokeReviewEvery ticks and applies its
// decision; in between it only fills free slots.
func (t *Torrent) unchokeTick(now time.Time) {
	t.chokeRound++
	if len(t.peers) == 0 {
		return // nothing to review (and most of thousands of torrents are so)
	}
	if t.chokeRound%chokeReviewEvery != 1 {
		for _, p := range t.peers {
			t.maybeUnchoke(p)
		}
		return
	}
	cands := make([]choker.Peer, 0, len(t.peers))
	byID := make(map[int]*peerState, len(t.peers))
	for _, p := range t.peers {
		byID[p.id] = p
		cands = append(cands, choker.Peer{
			ID:                   p.id,
			Interested:           p.peerInterested,
			Choked:               p.amChoking,
			DownloadRate:         p.rateDown.get(),
			UploadRate:           p.rateUp.get(),
			ConnectedAt:          p.start,
			LastUnchoked:         p.lastUnchoked,
			UploadedSinceUnchoke: p.conn.Uploaded() - p.upAtUnchoke,
			Snubbed:              p.snubbed,
			Seed:                 p.isSeed(),
		})
	}
	if t.info != nil {
		t.choker.SetSeedQuota(max(seedPieceQuota*t.info.PieceLength, minSeedQuota))
	}
	unchoke := t.choker.Review(cands, t.state == StateSeeding, now)
	for id, p := range byID {
		if unchoke[id] {
			t.unchoke(p, now)
		} else {
			t.choke(p)
		}
	}
}

// startServing records a request being served.
func (p *peerState) startServing(k reqKey) {
	p.serving[k] = true
	p.servingBytes += int64(k.length)
}

// stopServing forgets a request: sent to the writer, cancelled or dropped.
func (p *peerState) stopServing(k reqKey) {
	if p.serving[k] {
		delete(p.serving, k)
		p.servingBytes -= int64(k.length)
	}
}
