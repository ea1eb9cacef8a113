package wire

import (
	"errors"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func addrs(ss ...string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range ss {
		out = append(out, netip.MustParseAddrPort(s))
	}
	return out
}

func TestPexRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		m    PexMessage
	}{
		{"empty", PexMessage{}},
		{"ipv4", PexMessage{
			Added:      addrs("1.2.3.4:6881", "10.0.0.2:51413"),
			AddedFlags: []byte{PexSeed | PexUTP, PexOutgoing},
			Dropped:    addrs("5.6.7.8:1"),
		}},
		{"mixed", PexMessage{
			Added:      addrs("1.2.3.4:6881", "[2001:db8::1]:6882", "9.9.9.9:9"),
			AddedFlags: []byte{1, 2, 3},
			Dropped:    addrs("[2001:db8::2]:80", "5.6.7.8:443"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParsePex(b)
			if err != nil {
				t.Fatalf("parse %q: %v", b, err)
			}
			// IPv4 entries come first on parsing.
			want := tt.m
			if tt.name == "mixed" {
				want.Added = addrs("1.2.3.4:6881", "9.9.9.9:9", "[2001:db8::1]:6882")
				want.AddedFlags = []byte{1, 3, 2}
				want.Dropped = addrs("5.6.7.8:443", "[2001:db8::2]:80")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestPexWireFormat(t *testing.T) {
	m := PexMessage{
		Added:   addrs("1.2.3.4:258", "[::ffff:5.6.7.8]:3"),
		Dropped: addrs("[2001:db8::1]:4"),
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "d5:added12:\x01\x02\x03\x04\x01\x02\x05\x06\x07\x08\x00\x03" + "7:added.f2:\x00\x00" + "7:dropped0:" +
		"8:dropped618:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x04e"
	if string(b) != want {
		t.Errorf("got  %q\nwant %q", b, want)
	}
	if _, err := (PexMessage{Added: addrs("1.2.3.4:1"), AddedFlags: []byte{1, 2}}).Marshal(); err == nil {
		t.Error("flag count mismatch accepted")
	}
	if _, err := (PexMessage{Dropped: []netip.AddrPort{{}}}).Marshal(); err == nil {
		t.Error("invalid address accepted")
	}
}

func TestParsePexLenient(t *testing.T) {
	// Missing added.f, a port-0 entry and an unspecified address are
	// skipped or defaulted without failing the message.
	in := "d5:added18:\x01\x02\x03\x04\x00\x50\x05\x06\x07\x08\x00\x00\x00\x00\x00\x00\x00\x01e"
	m, err := ParsePex([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := PexMessage{Added: addrs("1.2.3.4:80"), AddedFlags: []byte{0}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v, want %+v", m, want)
	}
	// More than MaxPexPeers entries are cut.
	entry := "\x01\x02\x03\x04\x00\x50"
	many := strings.Repeat(entry, MaxPexPeers+10)
	m, err = ParsePex([]byte("d5:added" + strconv.Itoa(len(many)) + ":" + many + "e"))
	if err != nil || len(m.Added) != MaxPexPeers || len(m.AddedFlags) != MaxPexPeers {
		t.Errorf("got %d added, %d flags, %v", len(m.Added), len(m.AddedFlags), err)
	}
}

func TestParsePexBad(t *testing.T) {
	tests := []struct {
		name, input string
	}{
		{"not bencode", "x"},
		{"list", "le"},
		{"added wrong length", "d5:added5:abcdee"},
		{"added6 wrong length", "d6:added66:abcdefe"},
		{"dropped wrong length", "d7:dropped7:abcdefge"},
		{"added an integer", "d5:addedi1ee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := ParsePex([]byte(tt.input)); !errors.Is(err, ErrBadMessage) {
				t.Errorf("got %+v, %v; want ErrBadMessage", m, err)
			}
		})
	}
}

func FuzzPex(f *testing.F) {
	seed, _ := PexMessage{
		Added:      addrs("1.2.3.4:6881", "[2001:db8::1]:6882"),
		AddedFlags: []byte{1, 2},
		Dropped:    addrs("5.6.7.8:1", "[2001:db8::2]:2"),
	}.Marshal()
	f.Add(seed)
	f.Add([]byte("d5:added6:\x01\x02\x03\x04\x00\x507:added.f1:\x02e"))
	f.Add([]byte("de"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParsePex(data)
		if err != nil {
			return
		}
		if len(m.Added) > MaxPexPeers || len(m.Dropped) > MaxPexPeers || len(m.AddedFlags) != len(m.Added) {
			t.Fatalf("bounds violated: %d added, %d flags, %d dropped", len(m.Added), len(m.AddedFlags), len(m.Dropped))
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatalf("marshal %+v: %v", m, err)
		}
		m2, err := ParsePex(b)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-parse: %v\n%+v\n%+v", err, m, m2)
		}
	})
}
