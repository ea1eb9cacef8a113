package peer

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/wire"
)

// randomMessages returns n messages of a download's mix: mostly full-block
// Pieces, some short and long Pieces, and every other kind in between.
func randomMessages(rng *rand.Rand, n int) []wire.Message {
	var out []wire.Message
	for range n {
		var m wire.Message
		switch k := rng.IntN(20); {
		case k < 12:
			m = wire.Message{ID: wire.Piece, Index: rng.Uint32N(1000), Begin: rng.Uint32N(64) * wire.BlockSize, Block: make([]byte, wire.BlockSize)}
		case k < 14:
			m = wire.Message{ID: wire.Piece, Index: 1, Begin: 0, Block: make([]byte, 1+rng.IntN(3*wire.BlockSize))}
		case k == 14:
			m = wire.Message{ID: wire.Have, Index: rng.Uint32N(1000)}
		case k == 15:
			m = wire.Message{KeepAlive: true}
		case k == 16:
			m = wire.Message{ID: wire.Extended, ExtendedID: 3, Payload: make([]byte, rng.IntN(40000))}
		case k == 17:
			m = wire.Message{ID: wire.Bitfield, Bitfield: make([]byte, 1+rng.IntN(300))}
		case k == 18:
			m = wire.Message{ID: wire.Request, Index: 5, Begin: 16384, Length: 16384}
		default:
			m = wire.Message{ID: wire.Unchoke}
		}
		for _, b := range [][]byte{m.Block, m.Payload, m.Bitfield} {
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
		}
		out = append(out, m)
	}
	return out
}

func encodeAll(msgs []wire.Message) []byte {
	var b []byte
	for i := range msgs {
		if msgs[i].KeepAlive {
			b = append(b, 0, 0, 0, 0)
			continue
		}
		b = msgs[i].AppendTo(b)
	}
	return b
}

// chunkyReadv is a readv over data that fills its buffers in order but
// returns at most a random number of bytes per call, like a socket.
func chunkyReadv(rng *rand.Rand, data []byte) func([][]byte) (int, error) {
	return func(iovs [][]byte) (int, error) {
		if len(data) == 0 {
			return 0, io.EOF
		}
		limit := 1 + rng.IntN(100000)
		if rng.IntN(4) == 0 {
			limit = 1 + rng.IntN(20) // tiny reads: headers split anywhere
		}
		n := 0
		for _, b := range iovs {
			k := copy(b, data[:min(len(data), limit-n)])
			data = data[k:]
			n += k
			if n == limit || len(data) == 0 {
				break
			}
		}
		return n, nil
	}
}

// readAll reads messages until the stream ends and re-encodes them.
func readAll(t *testing.T, s *stream) ([]byte, error) {
	t.Helper()
	var got []wire.Message
	var scratch []byte
	for {
		m, b, err := s.next(scratch)
		scratch = b
		if err != nil {
			return encodeAll(got), err
		}
		// Copy what aliases the scratch buffer or the pool.
		m.Payload = bytes.Clone(m.Payload)
		m.Bitfield = bytes.Clone(m.Bitfield)
		if m.Block != nil {
			blk := bytes.Clone(m.Block)
			PutBlock(m.Block) // recycled blocks must not disturb later ones
			m.Block = blk
		}
		got = append(got, m)
	}
}

// TestStreamKeepsTheByteStream: whatever way the bytes arrive, the stream
// returns exactly the messages sent, in order, with the data intact —
// whether a Piece's payload landed in its block directly, in a speculative
// slot, or in the buffer.
func TestStreamKeepsTheByteStream(t *testing.T) {
	seeds := uint64(40)
	if testing.Short() {
		seeds = 6 // the race detector makes each one slow
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(seed, 7))
		want := encodeAll(randomMessages(rng, 300))
		s := &stream{readv: chunkyReadv(rng, want), buf: make([]byte, streamBuf)}
		got, err := readAll(t, s)
		if !errors.Is(err, io.EOF) {
			t.Fatalf("seed %d: stream ended with %v, want EOF", seed, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %d: the messages read differ from those sent (%d vs %d bytes)", seed, len(got), len(want))
		}
	}
}

// TestStreamPiecesLandInBlocks: Pieces sent back to back and read in big
// chunks mostly skip the buffer (the point of the stream), and every
// byte still arrives.
func TestStreamPiecesLandInBlocks(t *testing.T) {
	var msgs []wire.Message
	for i := range 200 {
		b := make([]byte, wire.BlockSize)
		b[0], b[len(b)-1] = byte(i), byte(i>>8)
		msgs = append(msgs, wire.Message{ID: wire.Piece, Index: uint32(i / 64), Begin: uint32(i%64) * wire.BlockSize, Block: b})
	}
	want := encodeAll(msgs)
	data := want
	copied := 0
	// A socket with everything available: each read fills all it is given.
	readv := func(iovs [][]byte) (int, error) {
		if len(data) == 0 {
			return 0, io.EOF
		}
		n := 0
		for _, b := range iovs {
			k := copy(b, data)
			data = data[k:]
			n += k
		}
		return n, nil
	}
	s := &stream{readv: readv, buf: make([]byte, streamBuf)}
	var got []wire.Message
	for {
		r0 := s.r
		before := s.buffered()
		m, _, err := s.next(nil)
		if err != nil {
			break
		}
		if before > 0 && s.r > r0 {
			copied += min(s.r-r0, before) // bytes taken from the buffer
		}
		got = append(got, wire.Message{ID: m.ID, Index: m.Index, Begin: m.Begin, Block: bytes.Clone(m.Block)})
		PutBlock(m.Block)
	}
	if !bytes.Equal(encodeAll(got), want) {
		t.Fatal("pieces differ")
	}
	t.Logf("%d of %d bytes through the buffer", copied, len(want))
	if copied > len(want)/4 {
		t.Errorf("%d of %d bytes went through the buffer; want most read straight into blocks", copied, len(want))
	}
}

// TestStreamTruncatedPayload: a connection that ends inside a payload (or
// a speculative slot) is an unexpected EOF, not a short block.
func TestStreamTruncatedPayload(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	full := encodeAll(randomMessages(rng, 50))
	for _, cut := range []int{len(full) - 1, len(full) - 5000, 17, 13 + 100} {
		data := full[:cut]
		s := &stream{readv: chunkyReadv(rng, data), buf: make([]byte, streamBuf)}
		_, err := readAll(t, s)
		if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			t.Fatalf("cut at %d: %v, want an EOF error", cut, err)
		}
		if cut == len(full)-1 && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut inside the last message: %v, want ErrUnexpectedEOF", err)
		}
	}
}

// TestStreamOverTCP: the same over a real loopback TCP connection, so the
// readv system call path runs, with the sender writing in odd chunks.
func TestStreamOverTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	want := encodeAll(randomMessages(rng, 400))
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		defer c.Close()
		for data := want; len(data) > 0; {
			k := min(len(data), 1+rng.IntN(70000))
			if _, err := c.Write(data[:k]); err != nil {
				return
			}
			data = data[k:]
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := readAll(t, newStream(c))
	if !errors.Is(err, io.EOF) {
		t.Fatalf("stream ended with %v, want EOF", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the messages read differ from those sent (%d vs %d bytes)", len(got), len(want))
	}
}

// TestStreamDeadline: a read deadline interrupts a wait for data on a TCP
// connection (the readv path waits through the runtime's poller).
func TestStreamDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	// Half a piece, then silence.
	m := wire.Message{ID: wire.Piece, Block: make([]byte, wire.BlockSize)}
	frame := m.AppendTo(nil)
	c1.Write(frame[:len(frame)/2])
	c2.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	start := time.Now()
	_, _, err = newStream(c2).next(nil)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("the deadline did not interrupt the read")
	}
}
