package peer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gobit/gobit/internal/blockpool"
	"github.com/gobit/gobit/internal/rawio"
	"github.com/gobit/gobit/internal/wire"
)

// A download is almost all Piece messages: a 13-byte header, then a 16 KiB
// block. msgReader lands those blocks straight in pooled block buffers, so
// the kernel's copy out of the socket is the only one (a buffered reader
// copied every byte a second time, 7 % of a download's processor time).
//
// While it reads the rest of a block, it offers the kernel, in the same
// readv(2) call, room for the next few messages as if they were Piece
// messages of a whole block: a 13-byte header, then a fresh block. Once the
// call returns, each header is checked; where the guess was right, the
// block already holds its data. From the first wrong or partly read header
// on, the bytes are moved into the scratch buffer and parsed from there as
// any other message (rare: seeders send little else).
//
// Sources that are not raw sockets read into the first buffer only, which
// is correct and merely does not read ahead.

// vecReader reads into bufs in order, as readv(2) does (see
// rawio.VecReader): a raw socket (*rawio.Conn) or a plainVec.
type vecReader = rawio.VecReader

// plainVec reads from an io.Reader into the first non-empty buffer.
type plainVec struct{ r io.Reader }

// maxEmptyReads is how many reads in a row may return neither data nor an
// error (io.Reader allows it; net.Pipe does it for an empty write) before
// ReadVec gives up with io.ErrNoProgress, as bufio.Reader does.
const maxEmptyReads = 100

func (p plainVec) ReadVec(bufs [][]byte) (int, error) {
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		for range maxEmptyReads {
			n, err := p.r.Read(b)
			switch {
			case n > 0:
				return n, nil // a sticky error comes back on the next call
			case err != nil:
				return 0, err
			}
		}
		return 0, io.ErrNoProgress
	}
	return 0, nil
}

const (
	pieceHeaderLen = 13       // length prefix, ID, index, begin
	maxReadAhead   = 8        // guessed messages offered to one read
	scratchSize    = 64 << 10 // the scratch buffer's usual size
	scratchTail    = 4 << 10  // scratch room offered after the guesses
)

// maxBlockLength is the largest Piece payload accepted (clients that answer
// 128 KiB requests; gobit asks for 16 KiB).
const maxBlockLength = 128 << 10

// errBlockTooLarge is the error for a Piece message above maxBlockLength.
var errBlockTooLarge = errors.New("wire: piece block too large")

// pending is a Piece message being read: its header and its block, of which
// the first bn bytes are in.
type pending struct {
	hdr   [pieceHeaderLen]byte
	hn    int
	block []byte
	bn    int
}

func (p *pending) complete() bool { return p.hn == pieceHeaderLen && p.bn == len(p.block) }

// message returns the Piece message; the block goes with it.
func (p *pending) message() wire.Message {
	return wire.Message{
		ID:    wire.Piece,
		Index: binary.BigEndian.Uint32(p.hdr[5:]),
		Begin: binary.BigEndian.Uint32(p.hdr[9:]),
		Block: p.block,
	}
}

// wholeBlockPiece reports whether hdr starts a Piece message of one whole
// wire.BlockSize block: what a guess assumes.
func wholeBlockPiece(hdr []byte) bool {
	return binary.BigEndian.Uint32(hdr) == 9+wire.BlockSize && wire.ID(hdr[4]) == wire.Piece
}

// msgReader reads peer wire messages from src.
//
// Unread data is, in stream order, the Piece messages in queue, then
// buf[r:w]. Only the last message in queue may be incomplete, and then
// buf holds nothing.
type msgReader struct {
	src   vecReader
	buf   []byte
	r, w  int
	queue []pending
	head  int // queue[:head] have been returned

	guess [maxReadAhead]pending // their blocks are kept between reads
	depth int                   // guesses offered to the next read
	iov   [][]byte
}

func newMsgReader(src vecReader) *msgReader {
	return &msgReader{src: src, buf: make([]byte, scratchSize)}
}

// next returns the next message. Its Block, if any, is the caller's (from
// the block pool when it is a whole block); other slices alias the
// reader's buffer and are valid until the next call.
func (mr *msgReader) next() (wire.Message, error) {
	for {
		if mr.head < len(mr.queue) {
			p := &mr.queue[mr.head]
			if p.complete() {
				m := p.message()
				*p = pending{}
				if mr.head++; mr.head == len(mr.queue) {
					mr.queue, mr.head = mr.queue[:0], 0
				}
				return m, nil
			}
			if err := mr.readAhead(p); err != nil {
				return wire.Message{}, err
			}
			continue
		}
		m, ok, err := mr.parse()
		if ok || err != nil {
			return m, err
		}
		if len(mr.queue) > 0 {
			continue // a Piece message whose block is still being read
		}
		if err := mr.readScratch(); err != nil {
			return wire.Message{}, err
		}
	}
}

// ready reports whether next would return without reading from the
// source: the next message (or the error it ends with) is in memory.
func (mr *msgReader) ready() bool {
	if mr.head < len(mr.queue) {
		return mr.queue[mr.head].complete()
	}
	b := mr.buf[mr.r:mr.w]
	if len(b) < 4 {
		return false
	}
	n := binary.BigEndian.Uint32(b)
	switch {
	case n == 0 || n > wire.MaxMessageLength:
		return true
	case len(b) >= 5 && wire.ID(b[4]) == wire.Piece && n >= 9 && n-9 > maxBlockLength:
		return true
	}
	return len(b) >= 4+int(n)
}

// parse takes the next message from the scratch buffer, if it holds one
// whole. A Piece message it starts but cannot finish goes to the queue.
func (mr *msgReader) parse() (wire.Message, bool, error) {
	b := mr.buf[mr.r:mr.w]
	if len(b) < 4 {
		return wire.Message{}, false, nil
	}
	n := binary.BigEndian.Uint32(b)
	switch {
	case n == 0:
		mr.r += 4
		return wire.Message{KeepAlive: true}, true, nil
	case n > wire.MaxMessageLength:
		return wire.Message{}, false, fmt.Errorf("%w: length prefix %d exceeds %d", wire.ErrMessageTooLarge, n, wire.MaxMessageLength)
	}
	if len(b) < 5 {
		return wire.Message{}, false, nil
	}
	if wire.ID(b[4]) == wire.Piece && n >= 9 {
		if n-9 > maxBlockLength {
			return wire.Message{}, false, fmt.Errorf("%w: %d bytes", errBlockTooLarge, n-9)
		}
		if len(b) < pieceHeaderLen {
			return wire.Message{}, false, nil
		}
		var p pending
		p.hn = copy(p.hdr[:], b)
		p.block = blockpool.Get(int(n - 9))
		p.bn = copy(p.block, b[pieceHeaderLen:])
		mr.r += pieceHeaderLen + p.bn
		if p.complete() {
			return p.message(), true, nil
		}
		mr.r, mr.w = 0, 0 // the block took all there was
		mr.queue = append(mr.queue, p)
		return wire.Message{}, false, nil
	}
	if len(b) < 4+int(n) {
		return wire.Message{}, false, nil
	}
	mr.r += 4 + int(n)
	m, err := wire.ParseMessage(b[4 : 4+n])
	return m, err == nil, err
}

// readScratch reads more into the scratch buffer, growing it if the
// message at its start needs the room.
func (mr *msgReader) readScratch() error {
	mr.dropGuesses() // no block is being read: an idle peer holds none
	if mr.r > 0 {
		mr.w = copy(mr.buf, mr.buf[mr.r:mr.w])
		mr.r = 0
	}
	if mr.w == len(mr.buf) {
		// Only a message longer than the buffer fills it unparsed; parse
		// has checked its length against wire.MaxMessageLength.
		grown := make([]byte, 4+int(binary.BigEndian.Uint32(mr.buf)))
		copy(grown, mr.buf[:mr.w])
		mr.buf = grown
	}
	iov := append(mr.iov[:0], mr.buf[mr.w:]) // mr.iov: no allocation per read
	n, err := mr.src.ReadVec(iov)
	clear(iov)
	mr.iov = iov[:0]
	mr.w += n
	if n > 0 {
		return nil
	}
	return readErr(err, mr.w > 0)
}

// readAhead reads the rest of p's block (p is the last message in the
// queue and the scratch buffer is empty) and, in the same call, guesses at
// the messages after it.
func (mr *msgReader) readAhead(p *pending) error {
	k := mr.depth
	iov := append(mr.iov[:0], p.block[p.bn:])
	for i := range k {
		g := &mr.guess[i]
		if g.block == nil {
			g.block = blockpool.Get(wire.BlockSize)
		}
		iov = append(iov, g.hdr[:], g.block)
	}
	iov = append(iov, mr.buf[:scratchTail])
	n, err := mr.src.ReadVec(iov)
	clear(iov)
	mr.iov = iov[:0]

	// Hand the bytes out in the order the kernel filled the buffers.
	took := min(n, len(p.block)-p.bn)
	p.bn += took
	n -= took
	finished := p.bn == len(p.block)
	used := 0
	for i := 0; i < k && n > 0; i++ {
		g := &mr.guess[i]
		g.hn = min(n, pieceHeaderLen)
		n -= g.hn
		g.bn = min(n, wire.BlockSize)
		n -= g.bn
		used = i + 1
	}
	mr.r, mr.w = 0, n // only when every guess is full

	for i := 0; i < used; i++ {
		g := &mr.guess[i]
		if g.hn < pieceHeaderLen || !wholeBlockPiece(g.hdr[:]) {
			mr.spill(i, used)
			break
		}
		mr.queue = append(mr.queue, *g) // p may now point at a moved array
		*g = pending{}
	}
	// The next read offers two guesses more than this one filled; none if
	// this one did not even finish its block (the peer trickles: holding
	// blocks for guesses would only cost memory). Unused guesses keep their
	// blocks for the next read, as many as it will offer.
	mr.depth = 0
	if finished {
		mr.depth = min(used+2, maxReadAhead)
	}
	for i := range mr.guess {
		g := &mr.guess[i]
		g.hn, g.bn = 0, 0
		if i >= mr.depth && g.block != nil {
			PutBlock(g.block)
			g.block = nil
		}
	}
	if took > 0 {
		return nil
	}
	return readErr(err, true)
}

// spill moves the bytes read into guesses from..to-1, and then those in
// the scratch buffer, into the scratch buffer in stream order.
func (mr *msgReader) spill(from, to int) {
	l := 0
	for i := from; i < to; i++ {
		l += mr.guess[i].hn + mr.guess[i].bn
	}
	if need := l + mr.w; need > len(mr.buf) {
		grown := make([]byte, max(need, scratchSize))
		copy(grown, mr.buf[:mr.w])
		mr.buf = grown
	}
	copy(mr.buf[l:], mr.buf[:mr.w])
	off := 0
	for i := from; i < to; i++ {
		g := &mr.guess[i]
		off += copy(mr.buf[off:], g.hdr[:g.hn])
		off += copy(mr.buf[off:], g.block[:g.bn])
	}
	mr.w += l
}

// dropGuesses returns the guesses' blocks to the pool.
func (mr *msgReader) dropGuesses() {
	for i := range mr.guess {
		if g := &mr.guess[i]; g.block != nil {
			PutBlock(g.block)
			*g = pending{}
		}
	}
}

// release returns to the pool the blocks of messages not handed out and
// those of the guesses.
func (mr *msgReader) release() {
	for i := mr.head; i < len(mr.queue); i++ {
		PutBlock(mr.queue[i].block)
	}
	mr.queue, mr.head = nil, 0
	mr.dropGuesses()
}

// readErr is the error for a read that returned no bytes: io.EOF in the
// middle of a message becomes io.ErrUnexpectedEOF.
func readErr(err error, midMessage bool) error {
	if err == nil {
		err = io.ErrNoProgress
	}
	if midMessage && errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("wire: read message: %w", err)
}
