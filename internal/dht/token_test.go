package dht

import (
	"net/netip"
	"testing"
	"time"
)

func TestTokensAcrossRotation(t *testing.T) {
	start := time.Now()
	tk := newTokens(start, TokenRotation)
	ip := netip.MustParseAddr("10.1.2.3")
	other := netip.MustParseAddr("10.1.2.4")
	tok := tk.make(ip)
	if len(tok) != tokenLen {
		t.Fatalf("token length %d", len(tok))
	}
	steps := []struct {
		name  string
		after time.Duration
		valid bool
	}{
		{"fresh", 0, true},
		{"before first rotation", 4 * time.Minute, true},
		{"after one rotation", 5 * time.Minute, true},
		{"one rotation, 9 min", 9 * time.Minute, true},
		{"after two rotations", 10 * time.Minute, false},
	}
	for _, st := range steps {
		tk.maybeRotate(start.Add(st.after))
		if got := tk.valid(ip, tok); got != st.valid {
			t.Errorf("%s: valid = %v, want %v", st.name, got, st.valid)
		}
	}
	fresh := tk.make(ip)
	tests := []struct {
		name string
		ip   netip.Addr
		tok  string
		want bool
	}{
		{"current", ip, fresh, true},
		{"IPv4-mapped form of the same IP", netip.MustParseAddr("::ffff:10.1.2.3"), fresh, true},
		{"other IP", other, fresh, false},
		{"empty", ip, "", false},
		{"truncated", ip, fresh[:4], false},
		{"altered", ip, fresh[:7] + string(fresh[7]^1), false},
	}
	for _, tc := range tests {
		if got := tk.valid(tc.ip, tc.tok); got != tc.want {
			t.Errorf("%s: valid = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPeerStore(t *testing.T) {
	now := time.Now()
	ps := newPeerStore(3)
	ih := [20]byte{1}
	for i := range 5 {
		ps.add(ih, testAddr(i), now.Add(time.Duration(i)*time.Second))
	}
	got := ps.get(ih, 10, now.Add(5*time.Second))
	if len(got) != 3 {
		t.Fatalf("stored %d peers, cap 3", len(got))
	}
	for _, p := range got {
		if p == testAddr(0) || p == testAddr(1) {
			t.Fatalf("oldest peers kept over newer: %v", got)
		}
	}
	if h, n := ps.counts(); h != 1 || n != 3 {
		t.Fatalf("counts = %d, %d", h, n)
	}
	if got := ps.get(ih, 2, now); len(got) != 2 {
		t.Fatalf("get max 2 = %d", len(got))
	}
	if got := ps.get(ih, 10, now.Add(PeerTTL+time.Minute)); len(got) != 0 {
		t.Fatalf("expired peers returned: %v", got)
	}
	ps.expire(now.Add(PeerTTL + time.Minute))
	if h, n := ps.counts(); h != 0 || n != 0 {
		t.Fatalf("after expiry counts = %d, %d", h, n)
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Now()
	rl := newRateLimiter(5) // burst 10
	a := netip.MustParseAddrPort("10.0.0.1:1000")
	samIP := netip.MustParseAddrPort("10.0.0.1:2000")
	ok := 0
	for range 20 {
		if rl.allow(a, now) {
			ok++
		}
	}
	if ok != 10 {
		t.Fatalf("allowed %d of 20 in a burst, want 10", ok)
	}
	if rl.allow(samIP, now) {
		t.Fatal("another port of the same (non-loopback) IP was not limited")
	}
	if !rl.allow(a, now.Add(time.Second)) {
		t.Fatal("no token after one second")
	}
	// Loopback sources are limited per port.
	l1, l2 := netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2")
	for range 10 {
		rl.allow(l1, now)
	}
	if rl.allow(l1, now) || !rl.allow(l2, now) {
		t.Fatal("loopback sources not limited per port")
	}
	if !newRateLimiter(-1).allow(a, now) {
		t.Fatal("negative rate must be unlimited")
	}
}
