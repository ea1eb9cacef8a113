package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
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
			got, err := ParseMessage(frame[4:])
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

func TestParseMessageMalformed(t *testing.T) {
	tests := []struct {
		name   string
		body   []byte
		want   error
		wantID ID
	}{
		{"have too short", []byte{byte(Have), 0, 0, 1}, ErrBadMessage, Have},
		{"have too long", []byte{byte(Have), 0, 0, 0, 1, 2}, ErrBadMessage, Have},
		{"choke with payload", []byte{byte(Choke), 0}, ErrBadMessage, Choke},
		{"have all with payload", []byte{byte(HaveAll), 0}, ErrBadMessage, HaveAll},
		{"request 12", []byte{byte(Request), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrBadMessage, Request},
		{"cancel 14", []byte{byte(Cancel), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrBadMessage, Cancel},
		{"reject 5", []byte{byte(Reject), 0, 0, 0, 0}, ErrBadMessage, Reject},
		{"suggest 1", []byte{byte(Suggest)}, ErrBadMessage, Suggest},
		{"allowed fast 6", []byte{byte(AllowedFast), 0, 0, 0, 0, 0}, ErrBadMessage, AllowedFast},
		{"port 2", []byte{byte(Port), 1}, ErrBadMessage, Port},
		{"piece without begin", []byte{byte(Piece), 0, 0, 0, 0}, ErrBadMessage, Piece},
		{"extended without id", []byte{byte(Extended)}, ErrBadMessage, Extended},
		{"oversized bitfield", append([]byte{byte(Bitfield)}, make([]byte, MaxMessageLength)...), ErrMessageTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage(tt.body)
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

func TestParseMessageAtLimit(t *testing.T) {
	bf := make([]byte, MaxMessageLength-1)
	bf[0] = 0x80
	m := Message{ID: Bitfield, Bitfield: bf}
	got, err := ParseMessage(m.AppendTo(nil)[4:])
	if err != nil || !bytes.Equal(got.Bitfield, bf) {
		t.Fatalf("message at MaxMessageLength: err %v", err)
	}
}

func TestParseMessageAllocs(t *testing.T) {
	m := Message{ID: Piece, Index: 1, Begin: 0, Block: make([]byte, BlockSize)}
	body := m.AppendTo(nil)[4:]
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseMessage(body); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ParseMessage allocates %.1f times per piece message, want 0", allocs)
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

func FuzzParseMessage(f *testing.F) {
	for _, m := range allMessages() {
		f.Add(m.AppendTo(nil)[4:])
	}
	f.Add([]byte{byte(Have), 1})
	f.Add([]byte{byte(Extended)})
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseMessage(body)
		if err != nil {
			return
		}
		// A decoded message re-encodes to exactly the bytes it came from.
		enc := m.AppendTo(nil)
		if !bytes.Equal(enc[4:], body) || int(binary.BigEndian.Uint32(enc)) != len(body) {
			t.Fatalf("re-encoding %+v: got %x, want body %x", m, enc, body)
		}
	})
}

func BenchmarkParsePiece(b *testing.B) {
	m := Message{ID: Piece, Index: 1, Block: make([]byte, BlockSize)}
	body := m.AppendTo(nil)[4:]
	b.SetBytes(BlockSize)
	b.ReportAllocs()
	for b.Loop() {
		if m, err := ParseMessage(body); err != nil || len(m.Block) != BlockSize {
			b.Fatal(err)
		}
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
