package wiretest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/gobit/gobit/internal/wire"
)

// samples has one message of most kinds, with empty and full-size bodies.
func samples() []wire.Message {
	return []wire.Message{
		{KeepAlive: true},
		{ID: wire.Choke},
		{ID: wire.Have, Index: 0xdeadbeef},
		{ID: wire.Bitfield, Bitfield: []byte{0xff, 0x80}},
		{ID: wire.Bitfield, Bitfield: []byte{}},
		{ID: wire.Request, Index: 1, Begin: 2 * wire.BlockSize, Length: wire.BlockSize},
		{ID: wire.Piece, Index: 7, Begin: wire.BlockSize, Block: bytes.Repeat([]byte{0xab}, wire.BlockSize)},
		{ID: wire.Port, Port: 6881},
		{ID: wire.HaveNone},
		{ID: wire.Reject, Index: 9, Begin: 10, Length: 11},
		{ID: wire.Extended, ExtendedID: 0, Payload: []byte("d1:md11:ut_metadatai1eee")},
		{ID: 0x42, Payload: []byte("future")},
	}
}

// frame builds a frame with the given length prefix and body.
func frame(length uint32, body ...byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, length), body...)
}

func TestReadMessageStreamErrors(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"malformed body is the parser's error", frame(4, byte(wire.Have), 0, 0, 1), wire.ErrBadMessage},
		{"truncated body", frame(13, byte(wire.Request), 0, 0, 0), io.ErrUnexpectedEOF},
		{"truncated prefix", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"empty stream", nil, io.EOF},
		{"prefix only", frame(1), io.ErrUnexpectedEOF},
		{"oversized", frame(wire.MaxMessageLength + 1), wire.ErrMessageTooLarge},
		{"100 MB", frame(100 << 20), wire.ErrMessageTooLarge},
		{"max uint32", frame(0xffffffff), wire.ErrMessageTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ReadMessage(bytes.NewReader(tt.input), nil); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadMessageTooLargeReadsOnlyPrefix(t *testing.T) {
	// A 100 MB length prefix followed by plenty of data: ReadMessage must
	// stop after the 4-byte prefix and must not grow the buffer.
	input := append(frame(100<<20), make([]byte, 1<<20)...)
	cr := &countingReader{r: bytes.NewReader(input)}
	buf := make([]byte, 64)
	_, out, err := ReadMessage(cr, buf)
	if !errors.Is(err, wire.ErrMessageTooLarge) {
		t.Fatalf("err = %v, want ErrMessageTooLarge", err)
	}
	if cr.n != 4 {
		t.Errorf("read %d bytes, want 4", cr.n)
	}
	if cap(out) != cap(buf) {
		t.Errorf("buffer grew from %d to %d", cap(buf), cap(out))
	}
}

func TestReadMessageAtLimit(t *testing.T) {
	bf := make([]byte, wire.MaxMessageLength-1)
	bf[0] = 0x80
	m := wire.Message{ID: wire.Bitfield, Bitfield: bf}
	got, _, err := ReadMessage(bytes.NewReader(m.AppendTo(nil)), nil)
	if err != nil || !bytes.Equal(got.Bitfield, bf) {
		t.Fatalf("message at MaxMessageLength: err %v", err)
	}
}

func TestReadMessageBufferReuse(t *testing.T) {
	var stream []byte
	for _, m := range samples() {
		stream = m.AppendTo(stream)
	}
	r := bytes.NewReader(stream)
	buf := make([]byte, 0, 4+9+wire.BlockSize)
	for i, want := range samples() {
		got, out, err := ReadMessage(r, buf)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if &out[:1][0] != &buf[:1][0] {
			t.Fatalf("message %d (%s): buffer of cap %d not reused", i, want.ID, cap(buf))
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("message %d: got %+v, want %+v", i, got, want)
		}
		buf = out
	}
	if _, _, err := ReadMessage(r, buf); !errors.Is(err, io.EOF) {
		t.Errorf("at end of stream: err = %v, want io.EOF", err)
	}

	// A small buffer is replaced by a big enough one, which is returned.
	big := wire.Message{ID: wire.Bitfield, Bitfield: make([]byte, 100<<10)}
	_, out, err := ReadMessage(bytes.NewReader(big.AppendTo(nil)), make([]byte, 8))
	if err != nil || cap(out) < big.Len() {
		t.Fatalf("err %v, returned buffer cap %d", err, cap(out))
	}
}

func TestReadMessageAllocs(t *testing.T) {
	m := wire.Message{ID: wire.Piece, Index: 1, Begin: 0, Block: make([]byte, wire.BlockSize)}
	f := m.AppendTo(nil)
	r := bytes.NewReader(f)
	buf := make([]byte, len(f))
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(f)
		var err error
		_, buf, err = ReadMessage(r, buf)
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadMessage allocates %.1f times per piece message, want 0", allocs)
	}
}

func FuzzReadMessage(f *testing.F) {
	for _, m := range samples() {
		f.Add(m.AppendTo(nil))
	}
	f.Add(frame(100 << 20))
	f.Add(frame(5, byte(wire.Have), 1))
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var buf []byte
		for range 64 {
			var m wire.Message
			var err error
			before := r.Len()
			m, buf, err = ReadMessage(r, buf)
			if err != nil {
				return
			}
			consumed := before - r.Len()
			// A decoded message re-encodes to exactly the bytes it came from.
			enc := m.AppendTo(nil)
			orig := data[len(data)-before : len(data)-before+consumed]
			if !bytes.Equal(enc, orig) {
				t.Fatalf("re-encoding %+v: got %x, want %x", m, enc, orig)
			}
		}
	})
}

func BenchmarkReadPiece(b *testing.B) {
	m := wire.Message{ID: wire.Piece, Block: make([]byte, wire.BlockSize)}
	var stream []byte
	for i := range 64 {
		m.Index = uint32(i)
		stream = m.AppendTo(stream)
	}
	r := bytes.NewReader(stream)
	buf := make([]byte, 4+9+wire.BlockSize)
	b.SetBytes(wire.BlockSize)
	b.ReportAllocs()
	for b.Loop() {
		if r.Len() == 0 {
			r.Reset(stream)
		}
		m, out, err := ReadMessage(r, buf)
		if err != nil || len(m.Block) != wire.BlockSize {
			b.Fatal(err)
		}
		buf = out
	}
}
