package torrent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gobit/gobit/internal/storage"
	"github.com/gobit/gobit/internal/wire"
)

// Streaming: a StreamReader reads one file of the torrent while it
// downloads. Each Read waits (up to the reader's timeout) until the piece
// under the read position is verified, and tells the loop where it reads.
// The window of pieces ahead of the read position becomes time-critical in
// the picker, as libtorrent's piece deadlines: the piece under the read
// position is due at once and each next one a piece's download time (at
// the torrent's current rate) later. Critical pieces are picked before
// everything else by every peer that has them, earliest deadline first,
// the fastest peers asked first; a piece behind its deadline is requested
// from several peers at once. When the window moves to pieces nobody was
// asked for (a new reader or a seek), the requests queued at the peers
// for other pieces are cancelled, beyond the few already on their way, so
// the window does not wait behind them; they are asked for again after
// it. The old window's pieces lose their deadlines.

// DefaultStreamTimeout bounds how long a stream read waits for its piece.
const DefaultStreamTimeout = 60 * time.Second

// A reader's window holds the pieces of streamWindowBytes, or of
// streamWindowTime at the torrent's download rate when that is more,
// between streamWindowMin and streamWindowMax pieces.
const (
	streamWindowBytes = 8 << 20
	streamWindowTime  = 4 * time.Second
	streamWindowMin   = 2
	streamWindowMax   = 64
)

// streamMinRate is the download rate assumed for deadlines while the
// torrent's rate is lower (or not known yet).
const streamMinRate = 512 << 10

// streamDupLead is how long before its deadline a time-critical block
// still outstanding is requested from more peers (endgame-style).
const streamDupLead = time.Second

// streamKeepQueued is the least number of requests left queued at a peer
// when the others are cancelled for a window: those are likely on their
// way already.
const streamKeepQueued = 4

// streamExtraRequests is how many requests of time-critical blocks a peer
// may have beyond its usual depth.
const streamExtraRequests = 16

// ErrStreamTimeout is returned by a stream read whose piece did not arrive
// within the reader's timeout.
var ErrStreamTimeout = errors.New("torrent: timed out waiting for the data")

// streamWindow is the time-critical window of one stream reader: n pieces
// from first on. Piece first+k is due at at + k×step (on the streams'
// clock).
type streamWindow struct {
	first, n int
	at, step int64
}

// deadline returns when the window needs piece i, and whether it holds it.
func (w streamWindow) deadline(i int) (int64, bool) {
	if i < w.first || i >= w.first+w.n {
		return 0, false
	}
	return w.at + int64(i-w.first)*w.step, true
}

// streams holds the windows of the open stream readers, by reader id, and
// the readers waiting for pieces. Loop-owned.
type streams struct {
	nextID  int
	win     map[int]streamWindow
	waiters map[int][]chan struct{}
	// epoch is the origin of the deadlines' clock (nanoseconds since it).
	epoch time.Time
}

// clock returns now on the streams' clock.
func (s *streams) clock(now time.Time) int64 {
	if s.epoch.IsZero() {
		s.epoch = now
	}
	return int64(now.Sub(s.epoch))
}

// deadline returns the earliest deadline the windows give piece i, and
// whether any window holds it.
func (s *streams) deadline(i int) (int64, bool) {
	var best int64
	found := false
	for _, w := range s.win {
		if d, ok := w.deadline(i); ok && (!found || d < best) {
			best, found = d, true
		}
	}
	return best, found
}

// priority returns how urgent piece i is for the streams: 0 when no window
// holds it, else n - distance from the window's start (the largest of the
// windows holding it), so the piece a reader needs next comes first.
func (s *streams) priority(i int) int {
	best := 0
	for _, w := range s.win {
		if i >= w.first && i < w.first+w.n {
			best = max(best, w.n-(i-w.first))
		}
	}
	return best
}

// notifyPiece wakes the readers waiting for piece i. It runs on the loop
// when the piece is verified.
func (t *Torrent) notifyPiece(i int) {
	ws := t.sel.streams.waiters[i]
	if len(ws) == 0 {
		return
	}
	for _, c := range ws {
		close(c)
	}
	delete(t.sel.streams.waiters, i)
}

// setStreamWindow moves reader id's window to n pieces from first (n == 0
// removes it): the pieces that enter or leave a window get their new
// priority and deadline. A window over pieces nobody was asked for has the
// peers' queued requests for other pieces cancelled (expedite), then every
// peer, fastest first, picks again.
func (t *Torrent) setStreamWindow(id, first, n int) {
	s := &t.sel.streams
	old, had := s.win[id]
	if had && old.first == first && old.n == n {
		return
	}
	now := time.Now()
	if n > 0 {
		if s.win == nil {
			s.win = make(map[int]streamWindow)
		}
		s.win[id] = streamWindow{first: first, n: n, at: s.clock(now), step: t.streamStep()}
	} else {
		delete(s.win, id)
	}
	if t.pk == nil || t.info == nil {
		return
	}
	np := t.info.NumPieces()
	update := func(w streamWindow) {
		for i := max(w.first, 0); i < min(w.first+w.n, np); i++ {
			t.pk.SetPriority(i, t.piecePriority(i))
			if d, ok := s.deadline(i); ok {
				t.pk.SetDeadline(i, d)
			} else {
				t.pk.ClearDeadline(i)
			}
		}
	}
	if had {
		update(old)
	}
	if n > 0 {
		update(s.win[id])
	}
	t.pk.SetNow(s.clock(now))
	// Blocks of pieces due within streamDupLead are asked of more peers
	// already.
	t.pk.SetDuplicateLead(int64(streamDupLead))
	// A window over skipped pieces of a finished torrent wants them; one
	// leaving them may finish the torrent again.
	if (t.state == StateSeeding && !t.pk.Done()) || (t.state == StateDownloading && t.pk.Done()) {
		t.wantChanged()
		return
	}
	peers := t.peersByRate()
	if n > 0 && first >= 0 && first < np && t.pk.Unrequested(first) > 0 {
		fresh := t.freshCritical()
		for _, p := range peers {
			t.expedite(p, fresh)
		}
	}
	for _, p := range peers {
		t.updateInterest(p)
		t.fillRequests(p)
	}
}

// streamStep returns the deadline step of a window: one piece's download
// time at the torrent's rate (at least streamMinRate).
func (t *Torrent) streamStep() int64 {
	if t.info == nil {
		return 0
	}
	rate := max(t.rateDown.recent(), streamMinRate)
	return int64(float64(t.info.PieceLength) / float64(rate) * float64(time.Second))
}

// peerDelay returns how long a block requested from the peer now, behind
// the inflight blocks already requested, would take to arrive (in
// nanoseconds): 0 for a peer whose rate is not known yet or at least half
// the fastest peer's, so that the fastest peers always take the most
// urgent pieces.
func (t *Torrent) peerDelay(p *peerState, inflight int) int64 {
	r := p.rateDown.recent()
	if r <= 0 || 2*r >= t.fastest {
		return 0
	}
	return int64(float64((inflight+1)*wire.BlockSize) / float64(r) * float64(time.Second))
}

// streamWindowPieces returns how many pieces a reader's window holds now.
func (t *Torrent) streamWindowPieces() int {
	pl := t.info.PieceLength
	bytes := max(int64(streamWindowBytes), int64(float64(t.rateDown.recent())*streamWindowTime.Seconds()))
	return int(min(max((bytes+pl-1)/pl, streamWindowMin), streamWindowMax))
}

// peersByRate returns the torrent's peers, fastest download first.
func (t *Torrent) peersByRate() []*peerState {
	ps := make([]*peerState, 0, len(t.peers))
	for _, p := range t.peers {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *peerState) int {
		if c := cmp.Compare(b.rateDown.recent(), a.rateDown.recent()); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return ps
}

// freshCritical returns the pieces of the stream windows with blocks
// nobody was asked for.
func (t *Torrent) freshCritical() []int {
	if t.pk == nil || t.info == nil {
		return nil
	}
	var fresh []int
	np := t.info.NumPieces()
	for _, w := range t.sel.streams.win {
		for i := max(w.first, 0); i < min(w.first+w.n, np); i++ {
			if t.pk.Unrequested(i) > 0 && !slices.Contains(fresh, i) {
				fresh = append(fresh, i)
			}
		}
	}
	return fresh
}

// expedite cancels the requests queued at a peer for pieces needed later
// than the earliest of the fresh pieces (time-critical pieces with blocks
// nobody was asked for) or not time-critical at all, when the peer has one
// of the fresh pieces, so that what the peer is asked for next is not
// served after them. The oldest requests stay (streamKeepQueued, or the
// peer's bandwidth-delay product if more: those are on their way). The
// cancelled blocks are picked again later, in deadline order.
func (t *Torrent) expedite(p *peerState, fresh []int) {
	if len(fresh) == 0 || t.pk == nil || p.has == nil || p.peerChoking || t.pk.NumRequests(p.id) <= streamKeepQueued {
		return
	}
	earliest, found := int64(0), false
	for _, i := range fresh {
		if d, ok := t.pk.Deadline(i); ok && p.has.Has(i) && (!found || d < earliest) {
			earliest, found = d, true
		}
	}
	if !found {
		return
	}
	keep := max(streamKeepQueued, int(p.bdp()/wire.BlockSize))
	for i, b := range t.pk.PeerRequests(p.id) {
		if i < keep {
			continue
		}
		if d, ok := t.pk.Deadline(b.Piece); ok && d <= earliest {
			continue
		}
		p.send(wire.Message{ID: wire.Cancel, Index: uint32(b.Piece), Begin: uint32(b.Begin), Length: uint32(b.Length)})
		t.pk.Cancel(p.id, b)
	}
}

// StreamReader reads one file of a torrent, waiting for pieces that are not
// there yet. It implements io.ReadSeekCloser; it is not safe for concurrent
// use (one reader per client request).
type StreamReader struct {
	t       *Torrent
	id      int
	path    string
	start   int64 // the file's offset in the torrent's payload
	size    int64
	pl      int64
	off     int64 // read position within the file
	timeout time.Duration
	closed  bool
	ctx     context.Context
}

// OpenStream returns a reader of the file with the given index (as in
// Stats.Files), whose reads wait up to timeout (DefaultStreamTimeout when
// 0) for their pieces, and give up when ctx is done (the client went
// away). It fails with ErrNoMetadata before the metadata is known and with
// an error wrapping ErrFileIndex for an index out of range. Close the
// reader to give its window's pieces back their priority.
func (t *Torrent) OpenStream(ctx context.Context, index int, timeout time.Duration) (*StreamReader, error) {
	if timeout <= 0 {
		timeout = DefaultStreamTimeout
	}
	var (
		r   *StreamReader
		err error
	)
	derr := t.do(func() {
		if t.info == nil {
			err = ErrNoMetadata
			return
		}
		idx := t.fileEntryIndexes()
		if index < 0 || index >= len(idx) {
			err = fmt.Errorf("%w: file %d of %d", ErrFileIndex, index, len(idx))
			return
		}
		e := t.info.FileEntries()[idx[index]]
		e.Path = t.entryPaths()[idx[index]]
		t.sel.streams.nextID++
		r = &StreamReader{
			t: t, ctx: ctx, id: t.sel.streams.nextID, path: e.Path, start: e.Offset, size: e.Length,
			pl: t.info.PieceLength, timeout: timeout,
		}
	})
	if derr != nil {
		return nil, derr
	}
	return r, err
}

// Path returns the file's path relative to the save directory.
func (r *StreamReader) Path() string { return r.path }

// Size returns the file's size in bytes.
func (r *StreamReader) Size() int64 { return r.size }

// Seek implements io.Seeker. Seeking moves no window: the next Read does.
func (r *StreamReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.off + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, errors.New("torrent: stream seek: bad whence")
	}
	if abs < 0 {
		return 0, errors.New("torrent: stream seek: negative position")
	}
	r.off = abs
	return abs, nil
}

// Read implements io.Reader: it reads from the piece under the read
// position, waiting for it when it is not verified yet, at most up to that
// piece's end.
func (r *StreamReader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errors.New("torrent: stream closed")
	}
	if r.off >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	pos := r.start + r.off
	piece := int(pos / r.pl)
	n := min(int64(len(p)), r.size-r.off, (int64(piece)+1)*r.pl-pos)
	st, err := r.waitPiece(piece)
	if err != nil {
		return 0, err
	}
	r.t.ioMu.RLock()
	err = st.ReadAt(p[:n], pos)
	r.t.ioMu.RUnlock()
	if err != nil {
		return 0, fmt.Errorf("torrent: stream read: %w", err)
	}
	r.off += n
	return int(n), nil
}

// waitPiece moves the reader's window to piece and waits until the piece is
// verified; it returns the storage to read it from.
func (r *StreamReader) waitPiece(piece int) (*storage.Storage, error) {
	t := r.t
	var (
		st    *storage.Storage
		ready chan struct{}
		err   error
	)
	derr := t.do(func() {
		if t.info == nil || t.have == nil {
			err = ErrNoMetadata
			return
		}
		t.setStreamWindow(r.id, piece, t.streamWindowPieces())
		st = t.store
		if t.have.Has(piece) && st != nil {
			return
		}
		if t.state == StateError {
			err = fmt.Errorf("torrent: stream: %s", t.errMsg)
			return
		}
		ready = make(chan struct{})
		ws := &t.sel.streams
		if ws.waiters == nil {
			ws.waiters = make(map[int][]chan struct{})
		}
		ws.waiters[piece] = append(ws.waiters[piece], ready)
	})
	if derr != nil {
		return nil, derr
	}
	if err != nil || ready == nil {
		return st, err
	}
	timer := time.NewTimer(r.timeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-timer.C:
		_ = t.do(func() { t.dropWaiter(piece, ready) })
		return nil, fmt.Errorf("%w: piece %d not downloaded within %v", ErrStreamTimeout, piece, r.timeout)
	case <-r.ctx.Done():
		_ = t.do(func() { t.dropWaiter(piece, ready) })
		return nil, r.ctx.Err()
	case <-t.doneC:
		return nil, ErrStopped
	}
	// The storage may have changed meanwhile (a move): take it again.
	derr = t.do(func() { st = t.store })
	if derr != nil {
		return nil, derr
	}
	if st == nil {
		return nil, ErrNoMetadata
	}
	return st, nil
}

// dropWaiter forgets a waiter that gave up.
func (t *Torrent) dropWaiter(piece int, c chan struct{}) {
	ws := t.sel.streams.waiters[piece]
	for i, w := range ws {
		if w == c {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(t.sel.streams.waiters, piece)
	} else {
		t.sel.streams.waiters[piece] = ws
	}
}

// Close removes the reader's window.
func (r *StreamReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.t.do(func() { r.t.setStreamWindow(r.id, 0, 0) })
	if errors.Is(err, ErrStopped) {
		return nil
	}
	return err
}
