package torrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gobit/gobit/internal/storage"
)

// Streaming: a StreamReader reads one file of the torrent while it
// downloads. Each Read waits (up to the reader's timeout) until the piece
// under the read position is verified, and tells the loop where it reads,
// so that a window of pieces ahead of it is fetched before everything
// else, the nearest first (a deadline order: the piece needed soonest has
// the highest priority).

// DefaultStreamTimeout bounds how long a stream read waits for its piece.
const DefaultStreamTimeout = 60 * time.Second

// streamWindowBytes is about how far ahead of a reader pieces are
// time-critical; the window holds between streamWindowMin and
// streamWindowMax pieces.
const (
	streamWindowBytes = 8 << 20
	streamWindowMin   = 2
	streamWindowMax   = 64
)

// ErrStreamTimeout is returned by a stream read whose piece did not arrive
// within the reader's timeout.
var ErrStreamTimeout = errors.New("torrent: timed out waiting for the data")

// streamWindow is the time-critical window of one stream reader: n pieces
// from first on, the nearest most urgent.
type streamWindow struct {
	first, n int
}

// streams holds the windows of the open stream readers, by reader id, and
// the readers waiting for pieces. Loop-owned.
type streams struct {
	nextID  int
	win     map[int]streamWindow
	waiters map[int][]chan struct{}
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

// setStreamWindow moves reader id's window (n == 0 removes it) and gives
// the pieces that enter or leave a window their new priority.
func (t *Torrent) setStreamWindow(id, first, n int) {
	s := &t.sel.streams
	old, had := s.win[id]
	if had && old.first == first && old.n == n {
		return
	}
	if n > 0 {
		if s.win == nil {
			s.win = make(map[int]streamWindow)
		}
		s.win[id] = streamWindow{first: first, n: n}
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
		}
	}
	if had {
		update(old)
	}
	if n > 0 {
		update(streamWindow{first: first, n: n})
	}
	// A window over skipped pieces of a finished torrent wants them; one
	// leaving them may finish the torrent again.
	if (t.state == StateSeeding && !t.pk.Done()) || (t.state == StateDownloading && t.pk.Done()) {
		t.wantChanged()
		return
	}
	for _, p := range t.peers {
		t.updateInterest(p)
		t.fillRequests(p)
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
	window  int // pieces in the window
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
		pl := t.info.PieceLength
		r = &StreamReader{
			t: t, ctx: ctx, id: t.sel.streams.nextID, path: e.Path, start: e.Offset, size: e.Length, pl: pl, timeout: timeout,
			window: int(min(max((streamWindowBytes+pl-1)/pl, streamWindowMin), streamWindowMax)),
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
		t.setStreamWindow(r.id, piece, r.window)
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
