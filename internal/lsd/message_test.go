package lsd

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// hashOf returns an info hash whose bytes are all b.
func hashOf(b byte) [20]byte {
	var h [20]byte
	for i := range h {
		h[i] = b
	}
	return h
}

const (
	hexA = "0101010101010101010101010101010101010101"
	hexB = "abababababababababababababababababababab"
)

func TestEncodeExactBytes(t *testing.T) {
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{
			name: "one hash with cookie",
			m:    Message{Host: DefaultGroup4, Port: 6881, InfoHashes: [][20]byte{hashOf(1)}, Cookie: "c00k1e"},
			want: "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n" +
				"Infohash: " + hexA + "\r\ncookie: c00k1e\r\n\r\n\r\n",
		},
		{
			name: "two hashes, IPv6 group, no cookie",
			m:    Message{Host: DefaultGroup6, Port: 1, InfoHashes: [][20]byte{hashOf(1), hashOf(0xab)}},
			want: "BT-SEARCH * HTTP/1.1\r\nHost: [ff15::efc0:988f]:6771\r\nPort: 1\r\n" +
				"Infohash: " + hexA + "\r\nInfohash: " + hexB + "\r\n\r\n\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.m)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("Encode =\n%q\nwant\n%q", got, tt.want)
			}
			back, err := Parse(got)
			if err != nil {
				t.Fatalf("Parse(Encode): %v", err)
			}
			if !reflect.DeepEqual(back, tt.m) {
				t.Fatalf("round trip = %+v, want %+v", back, tt.m)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	many := make([][20]byte, MaxInfoHashes+1)
	for i := range many {
		many[i] = hashOf(byte(i))
	}
	tests := []struct {
		name string
		m    Message
		want error
	}{
		{"zero port", Message{Host: "h", InfoHashes: [][20]byte{hashOf(1)}}, ErrBadPort},
		{"no hashes", Message{Host: "h", Port: 1}, ErrMissingInfoHash},
		{"too many hashes", Message{Host: "h", Port: 1, InfoHashes: many}, ErrTooManyInfoHashes},
		{"CRLF in cookie", Message{Host: "h", Port: 1, InfoHashes: [][20]byte{hashOf(1)}, Cookie: "a\r\nPort: 2"}, ErrMalformed},
		{"CRLF in host", Message{Host: "h\r\n", Port: 1, InfoHashes: [][20]byte{hashOf(1)}}, ErrMalformed},
		{"oversized", Message{Host: strings.Repeat("h", MaxPacketSize), Port: 1, InfoHashes: [][20]byte{hashOf(1)}}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Encode(tt.m); !errors.Is(err, tt.want) {
				t.Fatalf("Encode err = %v, want %v", err, tt.want)
			}
		})
	}
}

// announce builds a packet from header lines, CRLF-joined, with the
// BEP 14 request line and trailer.
func announce(headers ...string) string {
	return "BT-SEARCH * HTTP/1.1\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n\r\n"
}

func TestParse(t *testing.T) {
	h1, hAB := hashOf(1), hashOf(0xab)
	sixteen := make([]string, 0, MaxInfoHashes+3)
	var sixteenHashes [][20]byte
	for i := range MaxInfoHashes {
		h := hashOf(byte(0x10 + i))
		sixteenHashes = append(sixteenHashes, h)
		sixteen = append(sixteen, "Infohash: "+strings.Repeat(fmt.Sprintf("%02x", 0x10+i), 20))
	}
	tests := []struct {
		name    string
		in      string
		want    Message
		wantErr error
	}{
		{
			name: "valid",
			in:   announce("Host: 239.192.152.143:6771", "Port: 6881", "Infohash: "+hexA, "cookie: xyz"),
			want: Message{Host: DefaultGroup4, Port: 6881, InfoHashes: [][20]byte{h1}, Cookie: "xyz"},
		},
		{
			name: "libtorrent style, no cookie, Transmission trailer",
			in:   "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 51413\r\nInfohash: " + hexA + "\r\n\r\n\r\n",
			want: Message{Host: DefaultGroup4, Port: 51413, InfoHashes: [][20]byte{h1}},
		},
		{
			name: "headers case-insensitive, uppercase hex, extra spaces, unknown header",
			in:   announce("HOST:x", "pOrT:   65535  ", "X-Whatever: 1", "INFOHASH:\t"+strings.ToUpper(hexB), "Cookie: Q"),
			want: Message{Host: "x", Port: 65535, InfoHashes: [][20]byte{hAB}, Cookie: "Q"},
		},
		{
			name: "multiple infohashes, duplicate dropped",
			in:   announce("Host: h", "Port: 1", "Infohash: "+hexA, "Infohash: "+hexB, "Infohash: "+hexA),
			want: Message{Host: "h", Port: 1, InfoHashes: [][20]byte{h1, hAB}},
		},
		{
			name: "exactly MaxInfoHashes",
			in:   announce(append([]string{"Port: 7"}, sixteen...)...),
			want: Message{Port: 7, InfoHashes: sixteenHashes},
		},
		{
			name:    "too many infohashes",
			in:      announce(append([]string{"Port: 7", "Infohash: " + hexA}, sixteen...)...),
			wantErr: ErrTooManyInfoHashes,
		},
		{name: "missing port", in: announce("Host: h", "Infohash: "+hexA), wantErr: ErrMissingPort},
		{name: "port zero", in: announce("Port: 0", "Infohash: "+hexA), wantErr: ErrBadPort},
		{name: "port too big", in: announce("Port: 65536", "Infohash: "+hexA), wantErr: ErrBadPort},
		{name: "port negative", in: announce("Port: -1", "Infohash: "+hexA), wantErr: ErrBadPort},
		{name: "port plus sign", in: announce("Port: +80", "Infohash: "+hexA), wantErr: ErrBadPort},
		{name: "port not a number", in: announce("Port: http", "Infohash: "+hexA), wantErr: ErrBadPort},
		{name: "port empty", in: announce("Port:", "Infohash: "+hexA), wantErr: ErrBadPort},
		{name: "port huge", in: announce("Port: 99999999999999999999", "Infohash: "+hexA), wantErr: ErrBadPort},
		{name: "port repeated", in: announce("Port: 1", "Port: 2", "Infohash: "+hexA), wantErr: ErrBadPort},
		{name: "missing infohash", in: announce("Port: 1"), wantErr: ErrMissingInfoHash},
		{name: "hash too short", in: announce("Port: 1", "Infohash: "+hexA[:39]), wantErr: ErrBadInfoHash},
		{name: "hash too long", in: announce("Port: 1", "Infohash: "+hexA+"0"), wantErr: ErrBadInfoHash},
		{name: "hash not hex", in: announce("Port: 1", "Infohash: "+hexA[:39]+"g"), wantErr: ErrBadInfoHash},
		{name: "wrong method", in: "M-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + hexA + "\r\n\r\n\r\n", wantErr: ErrRequestLine},
		{name: "wrong version", in: "BT-SEARCH * HTTP/1.0\r\nPort: 1\r\nInfohash: " + hexA + "\r\n\r\n\r\n", wantErr: ErrRequestLine},
		{name: "lowercase method", in: "bt-search * HTTP/1.1\r\nPort: 1\r\nInfohash: " + hexA + "\r\n\r\n\r\n", wantErr: ErrRequestLine},
		{name: "bare LF", in: "BT-SEARCH * HTTP/1.1\nPort: 1\nInfohash: " + hexA + "\n\n\n", wantErr: ErrRequestLine},
		{name: "empty", in: "", wantErr: ErrRequestLine},
		{name: "unterminated headers", in: "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + hexA + "\r\n", wantErr: ErrMalformed},
		{name: "header without colon", in: announce("Port 1", "Infohash: "+hexA), wantErr: ErrMalformed},
		{name: "header with space in name", in: announce("Port : 1", "Infohash: "+hexA), wantErr: ErrMalformed},
		{name: "cookie too long", in: announce("Port: 1", "Infohash: "+hexA, "cookie: "+strings.Repeat("c", 65)), wantErr: ErrMalformed},
		{name: "too many headers", in: announce(append([]string{"Port: 1", "Infohash: " + hexA}, slices.Repeat([]string{"X: y"}, 40)...)...), wantErr: ErrMalformed},
		{name: "oversized", in: announce("Port: 1", "Infohash: "+hexA, "X-Pad: "+strings.Repeat("p", MaxPacketSize)), wantErr: ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse err = %v, want %v", err, tt.wantErr)
				}
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Parse err %v does not wrap ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(announce("Host: 239.192.152.143:6771", "Port: 6881", "Infohash: "+hexA, "cookie: xyz")))
	f.Add([]byte(announce("Port: 1", "Infohash: "+hexA, "Infohash: "+hexB)))
	f.Add([]byte(announce("Port: 65536", "Infohash: "+hexA)))
	f.Add([]byte("BT-SEARCH * HTTP/1.1\r\n\r\n"))
	f.Add([]byte("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + hexA + "\r\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := Parse(p)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(p) > MaxPacketSize || m.Port == 0 || len(m.InfoHashes) == 0 || len(m.InfoHashes) > MaxInfoHashes {
			t.Fatalf("Parse accepted out-of-range message %+v from %d bytes", m, len(p))
		}
		// Whatever was accepted must survive re-encoding.
		if len(m.Host) > 100 {
			m.Host = ""
		}
		b, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode(%+v): %v", m, err)
		}
		back, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Encode(%+v)): %v", m, err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip = %+v, want %+v", back, m)
		}
	})
}
