package peer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"

	"github.com/gobit/gobit/internal/blockpool"
	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// chunkedVec is a vecReader over a byte stream that, like the kernel's
// readv, fills the buffers in order, at most size() bytes per call. It
// records where each buffer it wrote to starts.
type chunkedVec struct {
	data  []byte
	size  func() int
	wrote map[*byte]bool
}

func (c *chunkedVec) ReadVec(bufs [][]byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	want := min(max(c.size(), 1), len(c.data))
	n := 0
	for _, b := range bufs {
		if n == want {
			break
		}
		k := copy(b, c.data[n:want])
		if k > 0 && c.wrote != nil {
			c.wrote[&b[0]] = true
		}
		n += k
	}
	c.data = c.data[n:]
	return n, nil
}

// referenceRead parses stream with the plain codec, as msgReader must,
// up to the first error.
func referenceRead(stream []byte) ([]wire.Message, error) {
	r := bytes.NewReader(stream)
	var out []wire.Message
	var buf []byte
	for {
		if r.Len() == 0 {
			return out, io.EOF
		}
		var m wire.Message
		var err error
		m, buf, err = wiretest.ReadMessage(r, buf)
		if err != nil {
			return out, err
		}
		if m.ID == wire.Piece && !m.KeepAlive && len(m.Block) > maxBlockLength {
			return out, errBlockTooLarge
		}
		out = append(out, cloneMsg(m))
	}
}

func cloneMsg(m wire.Message) wire.Message {
	if m.Block != nil {
		m.Block = bytes.Clone(m.Block)
	}
	if m.Bitfield != nil {
		m.Bitfield = bytes.Clone(m.Bitfield)
	}
	if m.Payload != nil {
		m.Payload = bytes.Clone(m.Payload)
	}
	return m
}

// readAll reads src with a msgReader to the first error.
func readAll(src vecReader) ([]wire.Message, []wire.Message, error) {
	mr := newMsgReader(src)
	defer mr.release()
	var out, raw []wire.Message
	for {
		m, err := mr.next()
		if err != nil {
			return out, raw, err
		}
		raw = append(raw, m)
		out = append(out, cloneMsg(m))
	}
}

// checkSame reads stream with a msgReader through src and compares the
// messages and the end with the plain codec's.
func checkSame(t *testing.T, stream []byte, src vecReader) []wire.Message {
	t.Helper()
	want, wantErr := referenceRead(stream)
	got, raw, err := readAll(src)
	if len(got) != len(want) {
		t.Fatalf("read %d messages, the codec %d (errors %v / %v)", len(got), len(want), err, wantErr)
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("message %d: got %v, codec %v", i, summary(got[i]), summary(want[i]))
		}
	}
	switch {
	case errors.Is(wantErr, io.EOF):
		if !errors.Is(err, io.EOF) {
			t.Fatalf("stream ended with %v, want io.EOF", err)
		}
	case err == nil || errors.Is(err, io.EOF) && !errors.Is(wantErr, io.ErrUnexpectedEOF):
		t.Fatalf("stream ended with %v, the codec with %v", err, wantErr)
	}
	return raw
}

func summary(m wire.Message) string {
	return fmt.Sprintf("%v index %d begin %d block %d bytes, payload %d bytes", m.ID, m.Index, m.Begin, len(m.Block), len(m.Payload))
}

// randomStream is a stream of mostly whole-block Piece messages, with
// short blocks, other messages and keep-alives between them.
func randomStream(rng *rand.Rand, n int) []byte {
	var b []byte
	for range n {
		switch k := rng.IntN(20); {
		case k < 14:
			b = appendPiece(b, rng, wire.BlockSize)
		case k == 14:
			b = appendPiece(b, rng, 1+rng.IntN(wire.BlockSize))
		case k == 15:
			b = append(b, 0, 0, 0, 0) // keep-alive
		case k == 16:
			m := wire.Message{ID: wire.Have, Index: rng.Uint32()}
			b = m.AppendTo(b)
		case k == 17:
			bf := make([]byte, rng.IntN(100<<10)) // above the scratch buffer's 64 KiB at times
			m := wire.Message{ID: wire.Bitfield, Bitfield: bf}
			b = m.AppendTo(b)
		case k == 18:
			m := wire.Message{ID: wire.Extended, ExtendedID: 3, Payload: []byte("d1:msg_typei0e5:piecei0ee")}
			b = m.AppendTo(b)
		default:
			m := wire.Message{ID: wire.Request, Index: 1, Begin: 2, Length: wire.BlockSize}
			b = m.AppendTo(b)
		}
	}
	return b
}

func appendPiece(b []byte, rng *rand.Rand, n int) []byte {
	b = wire.AppendPieceHeader(b, rng.Uint32N(1000), rng.Uint32N(64)*wire.BlockSize, n)
	start := len(b)
	b = append(b, make([]byte, n)...)
	for i := start; i < len(b); i += 97 {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestMsgReaderMatchesCodec: whatever sizes the reads come in, msgReader
// returns exactly the messages the plain codec parses, and ends the same
// way.
func TestMsgReaderMatchesCodec(t *testing.T) {
	sizes := map[string]func(*rand.Rand) func() int{
		"1 byte":     func(*rand.Rand) func() int { return func() int { return 1 } },
		"13 bytes":   func(*rand.Rand) func() int { return func() int { return 13 } },
		"random":     func(r *rand.Rand) func() int { return func() int { return 1 + r.IntN(200<<10) } },
		"small":      func(r *rand.Rand) func() int { return func() int { return 1 + r.IntN(40) } },
		"everything": func(*rand.Rand) func() int { return func() int { return 1 << 30 } },
	}
	for name, size := range sizes {
		for seed := range uint64(8) {
			rng := rand.New(rand.NewPCG(seed, 7))
			stream := randomStream(rng, 300)
			checkSame(t, stream, &chunkedVec{data: stream, size: size(rng)})
			// Cut short: the reader must end with an error, never hang.
			cut := stream[:rng.IntN(len(stream))]
			checkSame(t, cut, &chunkedVec{data: cut, size: size(rng)})
		}
		t.Run(name+"/plain", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 9))
			stream := randomStream(rng, 200)
			checkSame(t, stream, plainVec{iotestHalf{bytes.NewReader(stream)}})
		})
	}
}

// iotestHalf returns at most half of what is asked for, rounded up.
type iotestHalf struct{ r io.Reader }

func (h iotestHalf) Read(p []byte) (int, error) { return h.r.Read(p[:(len(p)+1)/2]) }

// TestMsgReaderReadsBlocksInPlace: when the data comes in large reads,
// whole blocks are read by the kernel straight into the buffers returned,
// not copied from the scratch buffer.
func TestMsgReaderReadsBlocksInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var stream []byte
	for range 200 {
		stream = appendPiece(stream, rng, wire.BlockSize)
	}
	src := &chunkedVec{data: stream, size: func() int { return 100 << 10 }, wrote: map[*byte]bool{}}
	raw := checkSame(t, stream, src)
	direct := 0
	for _, m := range raw {
		if src.wrote[&m.Block[0]] {
			direct++
		}
		if uintptr(unsafe.Pointer(&m.Block[0]))%4096 != 0 {
			t.Fatal("a block is not page-aligned")
		}
	}
	// The first block of the stream, and those the read-ahead depth was
	// still growing past, come through the scratch buffer.
	if direct < len(raw)*9/10 {
		t.Fatalf("%d of %d blocks were read in place, want at least 90 %%", direct, len(raw))
	}
}

// TestMsgReaderTrickleHoldsNoGuesses: a peer that sends a block a few bytes
// at a time costs its one block, not blocks for guesses too.
func TestMsgReaderTrickleHoldsNoGuesses(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var stream []byte
	for range 3 {
		stream = appendPiece(stream, rng, wire.BlockSize)
	}
	src := &chunkedVec{data: stream, size: func() int { return 100 }}
	mr := newMsgReader(src)
	defer mr.release()
	for range 2 {
		if _, err := mr.next(); err != nil {
			t.Fatal(err)
		}
		for i, g := range mr.guess {
			if g.block != nil {
				t.Fatalf("guess %d holds a block while the peer sends 100 bytes at a time", i)
			}
		}
	}
}

// TestMsgReaderRejectsHugeBlocks: a Piece message above maxBlockLength is
// an error, not an allocation.
func TestMsgReaderRejectsHugeBlocks(t *testing.T) {
	stream := wire.AppendPieceHeader(nil, 0, 0, maxBlockLength+1)
	stream = append(stream, make([]byte, maxBlockLength+1)...)
	_, _, err := readAll(&chunkedVec{data: stream, size: func() int { return 1 << 20 }})
	if !errors.Is(err, errBlockTooLarge) {
		t.Fatalf("error %v, want errBlockTooLarge", err)
	}
}

// TestMsgReaderReturnsBlocksOnRelease: blocks read ahead but not handed out,
// and those kept for guesses, go back to the pool when the reader is
// released.
func TestMsgReaderReturnsBlocksOnRelease(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var stream []byte
	for range 20 {
		stream = appendPiece(stream, rng, wire.BlockSize)
	}
	mr := newMsgReader(&chunkedVec{data: stream, size: func() int { return 1 << 20 }})
	for i := 0; i < 10 && len(mr.queue)-mr.head == 0; i++ {
		if _, err := mr.next(); err != nil {
			t.Fatal(err)
		}
	}
	if len(mr.queue)-mr.head == 0 {
		t.Fatal("nothing was read ahead")
	}
	before := freeCount()
	held := len(mr.queue) - mr.head
	for _, g := range mr.guess {
		if g.block != nil {
			held++
		}
	}
	mr.release()
	if got := freeCount() - before; got != held {
		t.Fatalf("release returned %d blocks to the pool, want %d", got, held)
	}
}

func freeCount() int { return blockpool.Idle() }

// FuzzMsgReader: any bytes, read in any sizes, parse as the plain codec
// parses them.
func FuzzMsgReader(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	f.Add(randomStream(rng, 5), uint64(1))
	f.Add(wire.AppendPieceHeader(nil, 0, 0, 10), uint64(2))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 1}, uint64(3))
	f.Fuzz(func(t *testing.T, stream []byte, seed uint64) {
		r := rand.New(rand.NewPCG(seed, seed>>1))
		checkSame(t, stream, &chunkedVec{data: stream, size: func() int { return 1 + r.IntN(1+int(seed%(40<<10))) }})
	})
}

// BenchmarkMsgReaderPieces reads whole-block Piece messages arriving 64 KiB
// at a time: the kernel's copy is simulated; the rest is the reader's.
func BenchmarkMsgReaderPieces(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	var stream []byte
	for range 256 {
		stream = appendPiece(stream, rng, wire.BlockSize)
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		mr := newMsgReader(&chunkedVec{data: stream, size: func() int { return 64 << 10 }})
		for {
			m, err := mr.next()
			if err != nil {
				break
			}
			PutBlock(m.Block)
		}
		mr.release()
	}
}
