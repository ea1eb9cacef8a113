package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestMetadataMessageRoundTrip(t *testing.T) {
	full := bytes.Repeat([]byte{'x'}, MetadataPieceSize)
	tests := []struct {
		m    MetadataMessage
		wire string
	}{
		{MetadataMessage{Type: MetadataRequest, Piece: 0}, "d8:msg_typei0e5:piecei0ee"},
		{MetadataMessage{Type: MetadataReject, Piece: 3}, "d8:msg_typei2e5:piecei3ee"},
		{MetadataMessage{Type: MetadataData, Piece: 1, TotalSize: MetadataPieceSize + 5, Data: []byte("abcde")},
			"d8:msg_typei1e5:piecei1e10:total_sizei16389eeabcde"},
		{MetadataMessage{Type: MetadataData, Piece: 0, TotalSize: 3 * MetadataPieceSize, Data: full}, ""},
	}
	for _, tt := range tests {
		b := tt.m.Marshal()
		if tt.wire != "" && string(b) != tt.wire {
			t.Errorf("Marshal(%+v) = %q, want %q", tt.m, b, tt.wire)
		}
		got, err := ParseMetadataMessage(b)
		if err != nil {
			t.Fatalf("parse %q: %v", b, err)
		}
		if !reflect.DeepEqual(got, tt.m) {
			t.Errorf("got %+v, want %+v", got, tt.m)
		}
	}
}

func TestParseMetadataMessageTrailingData(t *testing.T) {
	// The data of a data message follows the dictionary; it may itself look
	// like bencode and must be returned verbatim.
	piece := []byte("d4:name3:fooei42e")
	p := append([]byte("d8:msg_typei1e5:piecei0e10:total_sizei17ee"), piece...)
	m, err := ParseMetadataMessage(p)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != MetadataData || m.Piece != 0 || m.TotalSize != 17 || !bytes.Equal(m.Data, piece) {
		t.Errorf("got %+v", m)
	}
	// Keys in another order and unknown keys are tolerated.
	m, err = ParseMetadataMessage([]byte("d5:piecei2e3:fooi1e8:msg_typei0ee"))
	if err != nil || m.Type != MetadataRequest || m.Piece != 2 {
		t.Errorf("unsorted keys: %+v, %v", m, err)
	}
}

func TestParseMetadataMessageBad(t *testing.T) {
	tests := []struct {
		name, input string
	}{
		{"empty", ""},
		{"not a dict", "i1e"},
		{"truncated dict", "d8:msg_typei0e5:piecei0e"},
		{"no msg_type", "d5:piecei0ee"},
		{"unknown msg_type", "d8:msg_typei3e5:piecei0ee"},
		{"no piece", "d8:msg_typei0ee"},
		{"negative piece", "d8:msg_typei0e5:piecei-1ee"},
		{"piece too large", "d8:msg_typei0e5:piecei1024ee"},
		{"string piece", "d8:msg_typei0e5:piece1:0e"},
		{"request with data", "d8:msg_typei0e5:piecei0eexyz"},
		{"data without total_size", "d8:msg_typei1e5:piecei0eeabc"},
		{"data total_size zero", "d8:msg_typei1e5:piecei0e10:total_sizei0eeabc"},
		{"data total_size huge", "d8:msg_typei1e5:piecei0e10:total_sizei16777217eeabc"},
		{"data piece beyond total", "d8:msg_typei1e5:piecei1e10:total_sizei3eeabc"},
		{"data short", "d8:msg_typei1e5:piecei0e10:total_sizei4eeabc"},
		{"data long", "d8:msg_typei1e5:piecei0e10:total_sizei2eeabc"},
		{"data empty", "d8:msg_typei1e5:piecei0e10:total_sizei2ee"},
		{"data over a piece", "d8:msg_typei1e5:piecei0e10:total_sizei99999ee" + string(make([]byte, MetadataPieceSize+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMetadataMessage([]byte(tt.input))
			if !errors.Is(err, ErrBadMessage) {
				t.Errorf("got %+v, %v; want ErrBadMessage", m, err)
			}
		})
	}
}

func FuzzMetadataMessage(f *testing.F) {
	f.Add([]byte("d8:msg_typei0e5:piecei0ee"))
	f.Add([]byte("d8:msg_typei1e5:piecei0e10:total_sizei3eeabc"))
	f.Add([]byte("d8:msg_typei2e5:piecei7ee"))
	f.Add([]byte("d8:msg_typei1e5:piecei1e10:total_sizei16389eeabcde"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetadataMessage(data)
		if err != nil {
			return
		}
		if m.Piece < 0 || len(m.Data) > MetadataPieceSize || m.TotalSize < 0 || m.TotalSize > MaxMetadataSize {
			t.Fatalf("bounds violated: %+v", m)
		}
		m2, err := ParseMetadataMessage(m.Marshal())
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-parse: %v\n%+v\n%+v", err, m, m2)
		}
	})
}

func TestMetadataMsgTypeString(t *testing.T) {
	for typ, want := range map[MetadataMsgType]string{
		MetadataRequest: "request", MetadataData: "data", MetadataReject: "reject", 7: "unknown(7)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("%d: got %q, want %q", int(typ), got, want)
		}
	}
}
