package torrent

import (
	"time"

	"github.com/gobit/gobit/internal/picker"
	"github.com/gobit/gobit/internal/wire"
)

// Request pipelining. Each peer is kept busy with enough requests to cover
// its bandwidth-delay product: its measured rate times (its round trip plus
// a margin). A peer 240 ms away that sends 5 MB/s needs about 1.2 MB
// requested just to keep its link full; giving every peer the same depth
// starved the fast distant peers and queued many seconds of requests at the
// slow ones.
const (
	// initialQueue is the depth of a peer whose rate is not known yet.
	initialQueue = 32
	// minQueue is the smallest depth of a peer that sends.
	minQueue = 8
	// maxQueue bounds any peer's depth (blocks).
	maxQueue = 500
	// latencyMargin is added to a peer's round trip: it covers the
	// sender's own delays, jitter and loss recovery, and lets the rate grow
	// (a depth of rate × (rtt + margin) allows rate × (1 + margin/rtt)).
	latencyMargin = 500 * time.Millisecond
	// bdpFactor is how many bandwidth-delay products of the whole swarm
	// the buffer budget adds to bufferBudget: the blocks in flight, the
	// partial pieces waiting for them and the pieces being written.
	bdpFactor = 4
	// maxBufferBudget is the hard cap of the buffer budget.
	maxBufferBudget int64 = 64 << 20
	// maxSentTimes bounds a peer's record of request times.
	maxSentTimes = 2 * maxQueue
)

// requestDepth returns how many blocks to keep requested from a peer that
// sends rate bytes per second with the given minimum block latency (0 if
// unknown), at most limit (the peer's reqq; <= 0 for the default).
func requestDepth(rate int64, latency time.Duration, limit int) int {
	if limit <= 0 {
		limit = defaultPeerReqq
	}
	limit = min(limit, maxQueue)
	if rate <= 0 {
		return min(initialQueue, limit)
	}
	bytes := float64(rate) * (latency + latencyMargin).Seconds()
	q := int((bytes + wire.BlockSize - 1) / wire.BlockSize)
	return max(min(q, limit), min(minQueue, limit))
}

// limitedDepth caps a peer's request depth when our download is rate
// limited to limit bytes per second (0: unlimited): data requested beyond
// what the limit lets in within the peer's latency (plus latencyMargin)
// only waits in the socket buffers, where nothing can reorder it, so a
// stream's window requested next would wait behind it. At least
// minLimitedQueue blocks stay requested.
func limitedDepth(depth int, limit int64, latency time.Duration) int {
	if limit <= 0 {
		return depth
	}
	q := int((float64(limit)*(latency+latencyMargin).Seconds() + wire.BlockSize - 1) / wire.BlockSize)
	return min(depth, max(q, minLimitedQueue))
}

// minLimitedQueue is the least depth limitedDepth leaves a peer.
const minLimitedQueue = 2

// bufferLimit returns the buffer budget of a torrent with pieces of
// pieceLen bytes whose peers' bandwidth-delay products add up to bdp
// bytes: bufferBudget plus bdpFactor × bdp, at least three pieces, at most
// maxBufferBudget (unless three pieces need more).
func bufferLimit(pieceLen, bdp int64) int64 {
	b := bufferBudget + bdpFactor*max(bdp, 0)
	b = min(b, maxBufferBudget)
	return max(b, 3*pieceLen)
}

// latencyTracker measures a peer's block latency: the time from sending a
// request to receiving its block. The minimum over the connection is the
// round trip plus the sender's least delay; later samples include the time
// requests wait at the sender behind earlier ones, which depends on our own
// depth, so only the minimum is used.
type latencyTracker struct {
	sent []sentRequest // requests in the order sent; sent[head:] are live
	head int
	min  time.Duration // 0 until a block arrived
}

type sentRequest struct {
	piece, begin int
	at           time.Time
}

// requested records that block b was requested at now.
func (l *latencyTracker) requested(b picker.Block, now time.Time) {
	if l.head > 0 && 2*l.head >= len(l.sent) {
		// Reuse the room of the entries already matched: amortized
		// O(1) per request.
		n := copy(l.sent, l.sent[l.head:])
		l.sent, l.head = l.sent[:n], 0
	}
	if len(l.sent)-l.head >= maxSentTimes {
		// Entries of cancelled or rejected requests pile up only when no
		// block arrives for a while: forget the older half.
		l.head += (len(l.sent) - l.head) / 2
	}
	l.sent = append(l.sent, sentRequest{b.Piece, b.Begin, now})
}

// received records that block b arrived at now. Peers answer in order, so
// the block is normally the oldest entry; older entries (requests answered
// out of order, cancelled or rejected) are dropped with it.
func (l *latencyTracker) received(b picker.Block, now time.Time) {
	for i := l.head; i < len(l.sent); i++ {
		s := l.sent[i]
		if s.piece == b.Piece && s.begin == b.Begin {
			if d := now.Sub(s.at); d > 0 && (l.min == 0 || d < l.min) {
				l.min = d
			}
			l.head = i + 1
			if l.head == len(l.sent) {
				l.sent, l.head = l.sent[:0], 0
			}
			return
		}
	}
}

// pending returns the number of requests recorded and not yet matched.
func (l *latencyTracker) pending() int { return len(l.sent) - l.head }

// clear forgets the outstanding requests (they were discarded), keeping the
// minimum.
func (l *latencyTracker) clear() { l.sent, l.head = l.sent[:0], 0 }
