package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func testHandshake() Handshake {
	var h Handshake
	for i := range h.InfoHash {
		h.InfoHash[i] = byte(i + 1)
		h.PeerID[i] = byte(0x80 + i)
	}
	return h
}

func TestHandshakeBits(t *testing.T) {
	tests := []struct {
		name           string
		set            func(*Handshake)
		wantReserved   [8]byte
		ext, fast, dht bool
	}{
		{"none", func(*Handshake) {}, [8]byte{}, false, false, false},
		{"extended", (*Handshake).SetExtended, [8]byte{5: 0x10}, true, false, false},
		{"fast", (*Handshake).SetFast, [8]byte{7: 0x04}, false, true, false},
		{"dht", (*Handshake).SetDHT, [8]byte{7: 0x01}, false, false, true},
		{"all", func(h *Handshake) { h.SetExtended(); h.SetFast(); h.SetDHT() }, [8]byte{5: 0x10, 7: 0x05}, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Handshake
			tt.set(&h)
			if h.Reserved != tt.wantReserved {
				t.Errorf("Reserved = %x, want %x", h.Reserved, tt.wantReserved)
			}
			if h.SupportsExtended() != tt.ext || h.SupportsFast() != tt.fast || h.SupportsDHT() != tt.dht {
				t.Errorf("Supports ext/fast/dht = %v/%v/%v, want %v/%v/%v",
					h.SupportsExtended(), h.SupportsFast(), h.SupportsDHT(), tt.ext, tt.fast, tt.dht)
			}
		})
	}
	// Bits other peers set (e.g. libtorrent's 0x18 in byte 5) must not
	// confuse the helpers.
	h := Handshake{Reserved: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0xff, 0xfa}}
	if h.SupportsExtended() || h.SupportsFast() || h.SupportsDHT() {
		t.Errorf("helpers report bits that are clear: %x", h.Reserved)
	}
}

func TestHandshakeRoundTrip(t *testing.T) {
	h := testHandshake()
	h.SetExtended()
	h.SetFast()
	b := h.AppendTo(nil)
	if len(b) != HandshakeLength || HandshakeLength != 68 {
		t.Fatalf("handshake length %d, want 68", len(b))
	}
	if b[0] != 19 || string(b[1:20]) != Protocol {
		t.Fatalf("bad prefix %q", b[:20])
	}
	got, err := ReadHandshake(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got != h {
		t.Errorf("round trip: got %+v, want %+v", got, h)
	}
}

func TestHandshakeInTwoSteps(t *testing.T) {
	h := testHandshake()
	h.SetDHT()
	r := bytes.NewReader(h.AppendTo(nil))
	reserved, infoHash, err := ReadHandshakeInfoHash(r)
	if err != nil {
		t.Fatal(err)
	}
	if reserved != h.Reserved || infoHash != h.InfoHash {
		t.Errorf("got reserved %x info hash %x", reserved, infoHash)
	}
	if r.Len() != 20 {
		t.Fatalf("ReadHandshakeInfoHash left %d bytes, want 20", r.Len())
	}
	id, err := ReadPeerID(r)
	if err != nil || id != h.PeerID {
		t.Errorf("ReadPeerID = %x, %v", id, err)
	}
}

func TestReadHandshakeErrors(t *testing.T) {
	good := testHandshake().AppendTo(nil)
	badLen := bytes.Clone(good)
	badLen[0] = 18
	badStr := bytes.Clone(good)
	badStr[5] = 'X'
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"empty", nil, io.EOF},
		{"truncated prefix", good[:30], io.ErrUnexpectedEOF},
		{"truncated peer id", good[:60], io.ErrUnexpectedEOF},
		{"wrong pstrlen", badLen, ErrBadHandshake},
		{"wrong pstr", badStr, ErrBadHandshake},
		{"http", []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n0123456789012345678901234567890"), ErrBadHandshake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadHandshake(bytes.NewReader(tt.input))
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
