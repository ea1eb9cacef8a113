package wire

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// libtorrentHandshake is an extension handshake as libtorrent 2.0 sends it,
// with keys it adds that gobit ignores (complete_ago, share_mode, ...).
const libtorrentHandshake = "d12:complete_agoi-1e" +
	"1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee" +
	"13:metadata_sizei5212e1:pi6881e4:reqqi500e11:upload_onlyi0e" +
	"1:v19:libtorrent/2.0.11.06:yourip4:\x7f\x00\x00\x01e"

func TestParseExtendedHandshakeLibtorrent(t *testing.T) {
	h, err := ParseExtendedHandshake([]byte(libtorrentHandshake))
	if err != nil {
		t.Fatal(err)
	}
	want := &ExtendedHandshake{
		M: map[string]int{"lt_donthave": 7, "share_mode": 8, "upload_only": 3, "ut_holepunch": 4,
			"ut_metadata": 2, "ut_pex": 1},
		V:            "libtorrent/2.0.11.0",
		Port:         6881,
		Reqq:         500,
		MetadataSize: 5212,
		YourIP:       []byte{127, 0, 0, 1},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("got %+v\nwant %+v", h, want)
	}
	if id, ok := h.ExtensionID(ExtMetadata); !ok || id != 2 {
		t.Errorf("ExtensionID(ut_metadata) = %d, %v", id, ok)
	}
	if _, ok := h.ExtensionID("lt_tex"); ok {
		t.Error("ExtensionID reports an absent extension")
	}
	if ip, ok := h.YourIPAddr(); !ok || ip != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("YourIPAddr = %v, %v", ip, ok)
	}
}

func TestExtendedHandshakeRoundTrip(t *testing.T) {
	tests := []*ExtendedHandshake{
		{M: map[string]int{ExtMetadata: 1, ExtPex: 2}, V: "gobit 0.1", Port: 51413, Reqq: 250,
			MetadataSize: 31337, YourIP: netip.MustParseAddr("2001:db8::1").AsSlice(),
			IPv4: []byte{10, 0, 0, 1}, IPv6: netip.MustParseAddr("2001:db8::2").AsSlice(), UploadOnly: 1},
		{M: map[string]int{ExtMetadata: 0}},
		{M: map[string]int{}},
	}
	for i, h := range tests {
		b, err := h.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseExtendedHandshake(b)
		if err != nil {
			t.Fatalf("%d: parse %q: %v", i, b, err)
		}
		if !reflect.DeepEqual(got, h) {
			t.Errorf("%d: got %+v\nwant %+v", i, got, h)
		}
	}
	// A nil M is still written, as BEP 10 requires.
	b, err := (&ExtendedHandshake{V: "x"}).Marshal()
	if err != nil || string(b) != "d1:mde1:v1:xe" {
		t.Errorf("nil M: %q, %v", b, err)
	}
	if disabled, _ := ParseExtendedHandshake([]byte("d1:md11:ut_metadatai0eee")); disabled != nil {
		if _, ok := disabled.ExtensionID(ExtMetadata); ok {
			t.Error("id 0 must mean disabled")
		}
	}
}

func TestParseExtendedHandshakeBad(t *testing.T) {
	many := "d1:md"
	for i := range MaxExtensions + 1 {
		many += "3:x" + string(rune('A'+i/26)) + string(rune('a'+i%26)) + "i1e"
	}
	many += "ee"
	tests := []struct {
		name, input string
	}{
		{"not bencode", "hello"},
		{"list", "li1ee"},
		{"truncated", "d1:md11:ut_metadatai1e"},
		{"trailing data", "d1:mdee" + "x"},
		{"m is a string", "d1:m3:abce"},
		{"id too large", "d1:md6:ut_pexi256eee"},
		{"negative id", "d1:md6:ut_pexi-1eee"},
		{"too many extensions", many},
		{"metadata_size zero", "d1:mde13:metadata_sizei0ee"},
		{"metadata_size negative", "d1:mde13:metadata_sizei-5ee"},
		{"metadata_size huge", "d1:mde13:metadata_sizei16777217ee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseExtendedHandshake([]byte(tt.input))
			if !errors.Is(err, ErrBadMessage) || h != nil {
				t.Errorf("got %+v, %v; want ErrBadMessage", h, err)
			}
		})
	}
}

func TestParseExtendedHandshakeLenient(t *testing.T) {
	// Informational fields of the wrong type or size are dropped, not
	// fatal; a non-integer m entry is ignored.
	in := "d1:md6:ut_pex3:abc11:ut_metadatai3ee1:p5:hello4:reqqi-4e1:vi5e6:yourip3:abc4:ipv416:0123456789abcdef" +
		"13:metadata_sizei16777216ee"
	h, err := ParseExtendedHandshake([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &ExtendedHandshake{M: map[string]int{ExtMetadata: 3}, MetadataSize: MaxMetadataSize}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("got %+v\nwant %+v", h, want)
	}
	long := "d1:v300:" + strings.Repeat("v", 300) + "e"
	h, err = ParseExtendedHandshake([]byte(long))
	if err != nil || len(h.V) != MaxClientNameLength || h.M == nil {
		t.Errorf("long v: %v, len %d", err, len(h.V))
	}
	h, err = ParseExtendedHandshake([]byte("d1:pi70000ee"))
	if err != nil || h.Port != 0 {
		t.Errorf("port out of range: %+v, %v", h, err)
	}
}

func FuzzExtendedHandshake(f *testing.F) {
	f.Add([]byte(libtorrentHandshake))
	f.Add([]byte("d1:md11:ut_metadatai1e6:ut_pexi2ee13:metadata_sizei100ee"))
	f.Add([]byte("d1:md6:ut_pexi256eee"))
	f.Add([]byte("d1:m3:abce"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseExtendedHandshake(data)
		if err != nil {
			return
		}
		if len(h.M) > MaxExtensions || h.MetadataSize < 0 || h.MetadataSize > MaxMetadataSize {
			t.Fatalf("bounds violated: %+v", h)
		}
		for name, id := range h.M {
			if id < 0 || id > 255 {
				t.Fatalf("extension %q id %d", name, id)
			}
		}
		// What we accept we can write, and reading it back is stable.
		b, err := h.Marshal()
		if err != nil {
			t.Fatalf("marshal %+v: %v", h, err)
		}
		h2, err := ParseExtendedHandshake(b)
		if err != nil || !reflect.DeepEqual(h, h2) {
			t.Fatalf("re-parse: %v\n%+v\n%+v", err, h, h2)
		}
	})
}

func TestYourIPAddr(t *testing.T) {
	tests := []struct {
		yourIP []byte
		want   netip.Addr
		ok     bool
	}{
		{nil, netip.Addr{}, false},
		{[]byte{1, 2, 3}, netip.Addr{}, false},
		{[]byte{192, 0, 2, 1}, netip.MustParseAddr("192.0.2.1"), true},
		{netip.MustParseAddr("::ffff:192.0.2.1").AsSlice(), netip.MustParseAddr("192.0.2.1"), true},
		{netip.MustParseAddr("2001:db8::1").AsSlice(), netip.MustParseAddr("2001:db8::1"), true},
	}
	for _, tt := range tests {
		h := ExtendedHandshake{YourIP: tt.yourIP}
		if got, ok := h.YourIPAddr(); got != tt.want || ok != tt.ok {
			t.Errorf("YourIP %v: got %v, %v; want %v, %v", tt.yourIP, got, ok, tt.want, tt.ok)
		}
	}
}
