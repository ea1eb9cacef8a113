package wire

import (
	"net/netip"
	"slices"
	"testing"
)

func TestAllowedFastSetBEP6(t *testing.T) {
	var infoHash [20]byte
	for i := range infoHash {
		infoHash[i] = 0xaa
	}
	ip := netip.MustParseAddr("80.4.4.200")
	tests := []struct {
		k    int
		want []uint32
	}{
		{7, []uint32{1059, 431, 808, 1217, 287, 376, 1188}},
		{9, []uint32{1059, 431, 808, 1217, 287, 376, 1188, 353, 508}},
	}
	for _, tt := range tests {
		if got := AllowedFastSet(ip, infoHash, 1313, tt.k); !slices.Equal(got, tt.want) {
			t.Errorf("k=%d: got %v, want %v", tt.k, got, tt.want)
		}
	}
	// The same /24 and the IPv4-mapped form give the same set.
	want := tests[1].want
	for _, s := range []string{"80.4.4.1", "::ffff:80.4.4.200"} {
		if got := AllowedFastSet(netip.MustParseAddr(s), infoHash, 1313, 9); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", s, got, want)
		}
	}
	if got := AllowedFastSet(netip.MustParseAddr("80.4.5.200"), infoHash, 1313, 9); slices.Equal(got, want) {
		t.Errorf("different /24 gave the same set %v", got)
	}
}

func TestAllowedFastSetEdges(t *testing.T) {
	var ih [20]byte
	v4 := netip.MustParseAddr("10.0.0.1")
	tests := []struct {
		name      string
		ip        netip.Addr
		numPieces int
		k         int
		wantLen   int
	}{
		{"k capped at pieces", v4, 3, 10, 3},
		{"single piece", v4, 1, 10, 1},
		{"zero pieces", v4, 0, 10, 0},
		{"zero k", v4, 100, 0, 0},
		{"negative k", v4, 100, -1, 0},
		{"invalid ip", netip.Addr{}, 100, 10, 0},
		{"ipv6", netip.MustParseAddr("2001:db8::1"), 1000, 10, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AllowedFastSet(tt.ip, ih, tt.numPieces, tt.k)
			if len(got) != tt.wantLen {
				t.Fatalf("got %v, want %d indexes", got, tt.wantLen)
			}
			seen := map[uint32]bool{}
			for _, i := range got {
				if int(i) >= tt.numPieces || seen[i] {
					t.Fatalf("bad or duplicate index %d in %v", i, got)
				}
				seen[i] = true
			}
		})
	}
	a := AllowedFastSet(netip.MustParseAddr("2001:db8::1"), ih, 1000, 10)
	b := AllowedFastSet(netip.MustParseAddr("2001:db8::ffff:2"), ih, 1000, 10)
	if !slices.Equal(a, b) {
		t.Errorf("same /64 gave different sets %v and %v", a, b)
	}
}
