package dht

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeMsg(t *testing.T) {
	id := strings.Repeat("a", 20)
	tests := []struct {
		name    string
		in      string
		want    *Msg
		wantErr bool
	}{
		{
			name: "ping query (BEP 5 example)",
			in:   "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
			want: &Msg{T: "aa", Y: "q", Q: "ping", A: &Args{ID: "abcdefghij0123456789"}},
		},
		{
			name: "ping response",
			in:   "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
			want: &Msg{T: "aa", Y: "r", R: &Return{ID: "mnopqrstuvwxyz123456"}},
		},
		{
			name: "error (BEP 5 example)",
			in:   "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
			want: &Msg{T: "aa", Y: "e", E: &Error{Code: 201, Msg: "A Generic Error Ocurred"}},
		},
		{
			name: "error without message",
			in:   "d1:eli204ee1:t2:aa1:y1:ee",
			want: &Msg{T: "aa", Y: "e", E: &Error{Code: 204}},
		},
		{
			name: "announce_peer with implied port and version",
			in:   "d1:ad2:id20:" + id + "12:implied_porti1e9:info_hash20:" + id + "4:porti6881e5:token8:abcdefghe1:q13:announce_peer1:t2:aa1:v4:LT\x01\x021:y1:qe",
			want: &Msg{T: "aa", Y: "q", Q: "announce_peer", V: "LT\x01\x02", A: &Args{ID: id, ImpliedPort: 1, InfoHash: id, Port: 6881, Token: "abcdefgh"}},
		},
		{
			name: "get_peers response with values and unknown keys",
			in:   "d2:ip6:\x7f\x00\x00\x01\x1a\xe11:rd2:id20:" + id + "5:token2:tk6:valuesl6:\x7f\x00\x00\x01\x1a\xe1e1:xi5ee1:t2:aa1:y1:re",
			want: &Msg{T: "aa", Y: "r", IP: "\x7f\x00\x00\x01\x1a\xe1", R: &Return{ID: id, Token: "tk", Values: []string{"\x7f\x00\x00\x01\x1a\xe1"}}},
		},
		{name: "not bencode", in: "hello", wantErr: true},
		{name: "not a dict", in: "li1ee", wantErr: true},
		{name: "missing t", in: "d1:ad2:id20:" + id + "e1:q4:ping1:y1:qe", wantErr: true},
		{name: "unknown y", in: "d1:t2:aa1:y1:ze", wantErr: true},
		{name: "query without q", in: "d1:ad2:id20:" + id + "e1:t2:aa1:y1:qe", wantErr: true},
		{name: "query without a", in: "d1:q4:ping1:t2:aa1:y1:qe", wantErr: true},
		{name: "short id", in: "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe", wantErr: true},
		{name: "a is a list", in: "d1:ali1ee1:q4:ping1:t2:aa1:y1:qe", wantErr: true},
		{name: "port is a string", in: "d1:ad2:id20:" + id + "4:port2:xxe1:q4:ping1:t2:aa1:y1:qe", wantErr: true},
		{name: "response without r", in: "d1:t2:aa1:y1:re", wantErr: true},
		{name: "error without e", in: "d1:t2:aa1:y1:ee", wantErr: true},
		{name: "error code not integer", in: "d1:el3:abce1:t2:aa1:y1:ee", wantErr: true},
		{name: "empty error list", in: "d1:ele1:t2:aa1:y1:ee", wantErr: true},
		{name: "trailing data", in: "d1:rd2:id20:" + id + "e1:t2:aa1:y1:reX", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeMsg([]byte(tc.in))
			if tc.wantErr {
				if err == nil || !errors.Is(err, ErrMalformed) {
					t.Fatalf("DecodeMsg = %+v, %v; want ErrMalformed", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("DecodeMsg = %+v\nwant %+v", got, tc.want)
			}
			// Round trip: encoding and decoding again gives the same message.
			b, err := EncodeMsg(got)
			if err != nil {
				t.Fatal(err)
			}
			again, err := DecodeMsg(b)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip: %+v, %v", again, err)
			}
		})
	}
}

func TestEncodeMsg(t *testing.T) {
	tests := []struct {
		name string
		m    *Msg
		want string
	}{
		{"ping query", &Msg{T: "aa", Y: "q", Q: "ping", A: &Args{ID: "abcdefghij0123456789"}},
			"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"},
		{"generic error", errorMsg("aa", ErrCodeGeneric, "A Generic Error Ocurred"),
			"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"},
		{"protocol error", errorMsg("xy", ErrCodeProtocol, "bad token"), "d1:eli203e9:bad tokene1:t2:xy1:y1:ee"},
		{"method unknown", errorMsg("xy", ErrCodeMethod, "method unknown"), "d1:eli204e14:method unknowne1:t2:xy1:y1:ee"},
		{"server error", errorMsg("xy", ErrCodeServer, "oops"), "d1:eli202e4:oopse1:t2:xy1:y1:ee"},
		{"find_node response", &Msg{T: "t1", Y: "r", R: &Return{ID: "0123456789abcdefghij", Nodes: "N"}},
			"d1:rd2:id20:0123456789abcdefghij5:nodes1:Ne1:t2:t11:y1:re"},
	}
	for _, tc := range tests {
		b, err := EncodeMsg(tc.m)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(b) != tc.want {
			t.Errorf("%s: EncodeMsg = %q, want %q", tc.name, b, tc.want)
		}
	}
}

func TestRemoteErrorString(t *testing.T) {
	e := &Error{Code: 203, Msg: "bad token"}
	if got := e.Error(); got != "dht: remote error 203: bad token" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestCompactNodes(t *testing.T) {
	n4 := NodeInfo{ID: [20]byte{1}, Addr: netip.MustParseAddrPort("1.2.3.4:6881")}
	n4b := NodeInfo{ID: [20]byte{2}, Addr: netip.MustParseAddrPort("[::ffff:5.6.7.8]:80")}
	n6 := NodeInfo{ID: [20]byte{3}, Addr: netip.MustParseAddrPort("[2001:db8::1]:6881")}
	nodes := []NodeInfo{n4, n6, n4b}

	s4 := encodeNodes(nodes, false)
	if len(s4) != 2*compactNode4Len {
		t.Fatalf("nodes len = %d", len(s4))
	}
	got4 := decodeNodes(s4, compactNode4Len)
	n4b.Addr = netip.MustParseAddrPort("5.6.7.8:80")
	if !reflect.DeepEqual(got4, []NodeInfo{n4, n4b}) {
		t.Fatalf("decode nodes = %v", got4)
	}
	s6 := encodeNodes(nodes, true)
	if got6 := decodeNodes(s6, compactNode6Len); !reflect.DeepEqual(got6, []NodeInfo{n6}) {
		t.Fatalf("decode nodes6 = %v", got6)
	}
	// Trailing garbage and port-0 entries are skipped.
	bad := s4 + string(make([]byte, 20)) + "\x01\x02\x03\x04\x00\x00" + "\x00\x00\x00"
	if got := decodeNodes(bad, compactNode4Len); len(got) != 2 {
		t.Fatalf("decode with junk = %v", got)
	}
}

func TestCompactPeers(t *testing.T) {
	peers := []netip.AddrPort{
		netip.MustParseAddrPort("1.2.3.4:6881"),
		netip.MustParseAddrPort("[2001:db8::1]:51413"),
	}
	vals := encodePeers(peers)
	if len(vals[0]) != 6 || len(vals[1]) != 18 {
		t.Fatalf("value lengths %d, %d", len(vals[0]), len(vals[1]))
	}
	vals = append(vals, "short", "\x01\x02\x03\x04\x00\x00", "")
	if got := decodePeers(vals); !reflect.DeepEqual(got, peers) {
		t.Fatalf("decodePeers = %v", got)
	}
}
