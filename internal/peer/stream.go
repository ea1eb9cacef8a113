package peer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/gobit/gobit/internal/wire"
)

// stream reads peer wire messages with as few copies as it can.
//
// A Piece message's payload is the data itself, and it is read from the
// socket straight into its block buffer where possible instead of through
// a buffer (which cost a copy of every downloaded byte, ~9 % of a
// download's CPU). When a payload goes past the bytes already buffered, one
// vectored read (readv) asks for the rest of the payload, then for the
// next messages as if they were Pieces of full 16 KiB blocks — a 13-byte
// header slot and a pooled block, specSlots times — then for a little more
// into the buffer. Peers sending data send Pieces back to back, so the
// slots usually hold whole messages, which are handed out as they are. A
// slot whose header is not such a Piece, or that the read filled only in
// part, has its bytes moved into the buffer, where the ordinary parser
// takes them: the logical byte stream is never changed, only where its
// bytes landed.
//
// The stream's logical order: ready (complete Pieces from slots), then
// buf[r:w], then the socket.
type stream struct {
	readv func(iovs [][]byte) (int, error)
	buf   []byte
	r, w  int
	ready []wire.Message
	iovs  [][]byte // scratch for readv
	hdrs  [specSlots][13]byte
}

const (
	// streamBuf is the buffer for everything but piece payloads.
	streamBuf = 64 << 10
	// specSlots is how many following Pieces one read may take directly.
	specSlots = 3
	// specTail is how much of the buffer a speculative read fills after
	// the slots: small, so that most bytes land in blocks.
	specTail = 4 << 10
	// pieceFrame is the frame length of a Piece carrying a full block.
	pieceFrame = 9 + wire.BlockSize
)

func newStream(nc net.Conn) *stream {
	return &stream{readv: readvFunc(nc), buf: make([]byte, streamBuf)}
}

// buffered returns the number of unparsed bytes in the buffer.
func (s *stream) buffered() int { return s.w - s.r }

// fill reads until at least n bytes (n <= len(buf)) are buffered.
func (s *stream) fill(n int) error {
	if s.r > 0 && s.r+n > len(s.buf) {
		s.w = copy(s.buf, s.buf[s.r:s.w])
		s.r = 0
	}
	for s.buffered() < n {
		k, err := s.readv(append(s.iovs[:0], s.buf[s.w:]))
		s.w += k
		if err != nil {
			if s.buffered() >= n {
				return nil
			}
			if errors.Is(err, io.EOF) && s.buffered() > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// Read implements io.Reader over the logical stream (after any ready
// Pieces, which next hands out first), for the codec's slow path.
func (s *stream) Read(p []byte) (int, error) {
	if s.buffered() == 0 {
		if len(p) >= len(s.buf) {
			return s.readv(append(s.iovs[:0], p))
		}
		s.r, s.w = 0, 0
		if err := s.fill(1); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.buf[s.r:s.w])
	s.r += n
	return n, nil
}

// next returns the next message. Piece blocks come from the block pool;
// other messages' slices alias scratch (returned, possibly grown).
func (s *stream) next(scratch []byte) (wire.Message, []byte, error) {
	if len(s.ready) > 0 {
		m := s.ready[0]
		s.ready[0] = wire.Message{}
		s.ready = s.ready[1:]
		return m, scratch, nil
	}
	if err := s.fill(4); err != nil {
		return wire.ReadMessage(s, scratch) // reports the error
	}
	n := binary.BigEndian.Uint32(s.buf[s.r:])
	if n == 0 {
		s.r += 4
		return wire.Message{KeepAlive: true}, scratch, nil
	}
	if n < 9 || n-9 > maxBlockLength {
		return wire.ReadMessage(s, scratch) // not a piece; or too large: the codec reports it
	}
	if err := s.fill(5); err != nil || wire.ID(s.buf[s.r+4]) != wire.Piece {
		return wire.ReadMessage(s, scratch)
	}
	if err := s.fill(13); err != nil {
		return wire.Message{}, scratch, fmt.Errorf("wire: read piece header: %w", err)
	}
	h := s.buf[s.r : s.r+13]
	m := wire.Message{ID: wire.Piece, Index: binary.BigEndian.Uint32(h[5:]), Begin: binary.BigEndian.Uint32(h[9:])}
	s.r += 13
	block := getBlock(int(n - 9))
	k := copy(block, s.buf[s.r:s.w])
	s.r += k
	if k < len(block) {
		if err := s.readPayload(block[k:], len(block) == wire.BlockSize); err != nil {
			PutBlock(block)
			return wire.Message{}, scratch, fmt.Errorf("wire: read %d-byte block: %w", len(block), err)
		}
	}
	m.Block = block
	return m, scratch, nil
}

// readPayload reads the rest of a payload (the buffer is empty) straight
// into it; with speculate, the same reads take the following full-block
// Pieces into slots (see stream).
func (s *stream) readPayload(rest []byte, speculate bool) error {
	s.r, s.w = 0, 0
	if !speculate {
		_, err := io.ReadFull(readvReader(s.readv), rest)
		return err
	}
	var blocks [specSlots][]byte
	for i := range blocks {
		blocks[i] = getBlock(wire.BlockSize)
	}
	iovs := append(s.iovs[:0], rest)
	for i := range blocks {
		iovs = append(iovs, s.hdrs[i][:], blocks[i])
	}
	iovs = append(iovs, s.buf[:specTail])
	s.iovs = iovs
	total := 0
	for total < len(rest) {
		k, err := s.readv(skipIovs(iovs, total))
		total += k
		if err != nil && total < len(rest) {
			for _, b := range blocks {
				PutBlock(b)
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if err != nil {
			break // the payload is complete; report the error at the next read
		}
	}
	s.takeSlots(blocks, total-len(rest))
	return nil
}

// takeSlots sorts out the extra bytes a speculative read placed after the
// payload: whole full-block Pieces in the slots become ready messages,
// and everything from the first other slot on is moved, in stream order,
// into the buffer.
func (s *stream) takeSlots(blocks [specSlots][]byte, extra int) {
	i := 0
	for ; i < specSlots && extra >= 13+wire.BlockSize; i++ {
		h := s.hdrs[i][:]
		if binary.BigEndian.Uint32(h) != pieceFrame || wire.ID(h[4]) != wire.Piece {
			break
		}
		s.ready = append(s.ready, wire.Message{ID: wire.Piece, Index: binary.BigEndian.Uint32(h[5:]),
			Begin: binary.BigEndian.Uint32(h[9:]), Block: blocks[i]})
		blocks[i] = nil
		extra -= 13 + wire.BlockSize
	}
	// Bytes left: in slots i.. (in part), then in buf[:tail].
	inSlots := min(extra, (specSlots-i)*(13+wire.BlockSize))
	tail := extra - inSlots
	if inSlots > 0 {
		// Make room in front of the tail, then copy the slot bytes there.
		copy(s.buf[inSlots:], s.buf[:tail])
		at := 0
		for j := i; j < specSlots && at < inSlots; j++ {
			at += copy(s.buf[at:inSlots], s.hdrs[j][:])
			at += copy(s.buf[at:inSlots], blocks[j])
		}
	}
	s.r, s.w = 0, inSlots+tail
	for _, b := range blocks {
		if b != nil {
			PutBlock(b)
		}
	}
}

// skipIovs returns iovs without their first n bytes (sharing memory; the
// first remaining buffer is re-sliced in a copy of the slice header list).
func skipIovs(iovs [][]byte, n int) [][]byte {
	for n > 0 && len(iovs) > 0 && n >= len(iovs[0]) {
		n -= len(iovs[0])
		iovs = iovs[1:]
	}
	if n == 0 || len(iovs) == 0 {
		return iovs
	}
	out := append([][]byte{iovs[0][n:]}, iovs[1:]...)
	return out
}

// readvReader adapts a readv function to io.Reader.
type readvReader func(iovs [][]byte) (int, error)

func (f readvReader) Read(p []byte) (int, error) { return f([][]byte{p}) }

// readFirst returns a vectored read that reads into the first non-empty
// buffer only (a correct readv that happens to fill one buffer).
func readFirst(r io.Reader) func(iovs [][]byte) (int, error) {
	return func(iovs [][]byte) (int, error) {
		for _, b := range iovs {
			if len(b) > 0 {
				return r.Read(b)
			}
		}
		return 0, nil
	}
}
