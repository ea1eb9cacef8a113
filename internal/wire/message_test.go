package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// allMessages has one message of every kind gobit encodes.
func allMessages() []Message {
	block := bytes.Repeat([]byte{0xab}, BlockSize)
	return []Message{
		{KeepAlive: true},
		{ID: Choke},
		{ID: Unchoke},
		{ID: Interested},
		{ID: NotInterested},
		{ID: Have, Index: 0xdeadbeef},
		{ID: Bitfield, Bitfield: []byte{0xff, 0x80}},
		{ID: Bitfield, Bitfield: []byte{}},
		{ID: Request, Index: 1, Begin: 2 * BlockSize, Length: BlockSize},
		{ID: Piece, Index: 7, Begin: BlockSize, Block: block},
		{ID: Piece, Index: 7, Begin: 0, Block: []byte{}},
		{ID: Cancel, Index: 3, Begin: 4, Length: 5},
		{ID: Port, Port: 6881},
		{ID: Suggest, Index: 42},
		{ID: HaveAll},
		{ID: HaveNone},
		{ID: Reject, Index: 9, Begin: 10, Length: 11},
		{ID: AllowedFast, Index: 1313},
		{ID: Extended, ExtendedID: 0, Payload: []byte("d1:md11:ut_metadatai1eee")},
		{ID: Extended, ExtendedID: 3, Payload: []byte{}},
		{ID: 0x42, Payload: []byte("future")},
		{ID: 0x43, Payload: []byte{}},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range allMessages() {
		t.Run(m.ID.String(), func(t *testing.T) {
			frame := m.AppendTo([]byte("prefix"))
			if !bytes.HasPrefix(frame, []byte("prefix")) {
				t.Fatal("AppendTo dropped existing bytes")
			}
			frame = frame[len("prefix"):]
			if got := binary.BigEndian.Uint32(frame); int(got) != len(frame)-4 || int(got) != m.Len() {
				t.Fatalf("length prefix %d, frame body %d, Len %d", got, len(frame)-4, m.Len())
			}
			got, _, err := ReadMessage(bytes.NewReader(frame), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Errorf("got %+v\nwant %+v", got, m)
			}
		})
	}
}

func TestMessageWireFormat(t *testing.T) {
	tests := []struct {
		m    Message
		want string
	}{
		{Message{KeepAlive: true}, "00000000"},
		{Message{ID: Interested}, "0000000102"},
		{Message{ID: Have, Index: 0x01020304}, "000000050401020304"},
		{Message{ID: Request, Index: 1, Begin: 0x4000, Length: 0x4000}, "0000000d06000000010000400000004000"},
		{Message{ID: Piece, Index: 2, Begin: 3, Block: []byte{0xaa}}, "0000000a070000000200000003aa"},
		{Message{ID: Port, Port: 0x1ae1}, "00000003091ae1"},
		{Message{ID: HaveAll}, "000000010e"},
		{Message{ID: AllowedFast, Index: 5}, "000000051100000005"},
		{Message{ID: Extended, ExtendedID: 2, Payload: []byte{0xee}}, "000000031402ee"},
	}
	for _, tt := range tests {
		if got := hexString(tt.m.AppendTo(nil)); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.m.ID, got, tt.want)
		}
	}
	hdr := AppendPieceHeader(nil, 2, 3, 1)
	if got := hexString(append(hdr, 0xaa)); got != "0000000a070000000200000003aa" {
		t.Errorf("AppendPieceHeader: got %s", got)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

// frame builds a frame with the given length prefix and body.
func frame(length uint32, body ...byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, length), body...)
}

func TestReadMessageMalformed(t *testing.T) {
	tests := []struct {
		name   string
		input  []byte
		want   error
		wantID ID
	}{
		{"have too short", frame(4, byte(Have), 0, 0, 1), ErrBadMessage, Have},
		{"have too long", frame(6, byte(Have), 0, 0, 0, 1, 2), ErrBadMessage, Have},
		{"choke with payload", frame(2, byte(Choke), 0), ErrBadMessage, Choke},
		{"have all with payload", frame(2, byte(HaveAll), 0), ErrBadMessage, HaveAll},
		{"request 12", frame(12, byte(Request), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), ErrBadMessage, Request},
		{"cancel 14", frame(14, byte(Cancel), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), ErrBadMessage, Cancel},
		{"reject 5", frame(5, byte(Reject), 0, 0, 0, 0), ErrBadMessage, Reject},
		{"suggest 1", frame(1, byte(Suggest)), ErrBadMessage, Suggest},
		{"allowed fast 6", frame(6, byte(AllowedFast), 0, 0, 0, 0, 0), ErrBadMessage, AllowedFast},
		{"port 2", frame(2, byte(Port), 1), ErrBadMessage, Port},
		{"piece without begin", frame(5, byte(Piece), 0, 0, 0, 0), ErrBadMessage, Piece},
		{"extended without id", frame(1, byte(Extended)), ErrBadMessage, Extended},
		{"truncated body", frame(13, byte(Request), 0, 0, 0), io.ErrUnexpectedEOF, 0},
		{"truncated prefix", []byte{0, 0}, io.ErrUnexpectedEOF, 0},
		{"empty stream", nil, io.EOF, 0},
		{"prefix only", frame(1), io.ErrUnexpectedEOF, 0},
		{"oversized", frame(MaxMessageLength + 1), ErrMessageTooLarge, 0},
		{"100 MB", frame(100 << 20), ErrMessageTooLarge, 0},
		{"max uint32", frame(0xffffffff), ErrMessageTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := ReadMessage(bytes.NewReader(tt.input), nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == ErrBadMessage {
				if m.ID != tt.wantID {
					t.Errorf("returned ID %s, want %s", m.ID, tt.wantID)
				}
				if !strings.Contains(err.Error(), tt.wantID.String()) {
					t.Errorf("error %q does not name %s", err, tt.wantID)
				}
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
	if !errors.Is(err, ErrMessageTooLarge) {
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
	bf := make([]byte, MaxMessageLength-1)
	bf[0] = 0x80
	m := Message{ID: Bitfield, Bitfield: bf}
	got, _, err := ReadMessage(bytes.NewReader(m.AppendTo(nil)), nil)
	if err != nil || !bytes.Equal(got.Bitfield, bf) {
		t.Fatalf("message at MaxMessageLength: err %v", err)
	}
}

func TestReadMessageBufferReuse(t *testing.T) {
	var stream []byte
	for _, m := range allMessages() {
		stream = m.AppendTo(stream)
	}
	r := bytes.NewReader(stream)
	buf := make([]byte, 0, 4+9+BlockSize)
	for i, want := range allMessages() {
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
	big := Message{ID: Bitfield, Bitfield: make([]byte, 100<<10)}
	_, out, err := ReadMessage(bytes.NewReader(big.AppendTo(nil)), make([]byte, 8))
	if err != nil || cap(out) < big.Len() {
		t.Fatalf("err %v, returned buffer cap %d", err, cap(out))
	}
}

func TestReadMessageAllocs(t *testing.T) {
	m := Message{ID: Piece, Index: 1, Begin: 0, Block: make([]byte, BlockSize)}
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

func TestIDString(t *testing.T) {
	tests := map[ID]string{
		Choke: "choke", NotInterested: "not_interested", Piece: "piece", Port: "port",
		Suggest: "suggest", HaveAll: "have_all", HaveNone: "have_none", Reject: "reject",
		AllowedFast: "allowed_fast", Extended: "extended", 10: "unknown(0x0a)", 0xff: "unknown(0xff)",
	}
	for id, want := range tests {
		if got := id.String(); got != want {
			t.Errorf("ID(%d).String() = %q, want %q", uint8(id), got, want)
		}
	}
}

func FuzzReadMessage(f *testing.F) {
	for _, m := range allMessages() {
		f.Add(m.AppendTo(nil))
	}
	f.Add(frame(100 << 20))
	f.Add(frame(5, byte(Have), 1))
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var buf []byte
		for range 64 {
			var m Message
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

func pieceStream(n int) []byte {
	m := Message{ID: Piece, Block: make([]byte, BlockSize)}
	var b []byte
	for i := range n {
		m.Index = uint32(i)
		b = m.AppendTo(b)
	}
	return b
}

func BenchmarkReadPiece(b *testing.B) {
	stream := pieceStream(64)
	r := bytes.NewReader(stream)
	buf := make([]byte, 4+9+BlockSize)
	b.SetBytes(BlockSize)
	b.ReportAllocs()
	for b.Loop() {
		if r.Len() == 0 {
			r.Reset(stream)
		}
		m, out, err := ReadMessage(r, buf)
		if err != nil || len(m.Block) != BlockSize {
			b.Fatal(err)
		}
		buf = out
	}
}

func BenchmarkAppendPiece(b *testing.B) {
	m := Message{ID: Piece, Index: 1, Begin: BlockSize, Block: make([]byte, BlockSize)}
	buf := make([]byte, 0, 4+9+BlockSize)
	b.SetBytes(BlockSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.AppendTo(buf[:0])
	}
}
