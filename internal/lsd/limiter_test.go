package lsd

import (
	"net/netip"
	"testing"
	"time"
)

func TestLimiterPerIP(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := newLimiter(t0)
	a, b := netip.MustParseAddr("192.168.1.2"), netip.MustParseAddr("192.168.1.3")
	for i := range perIPBurst {
		if !l.allow(a, t0) {
			t.Fatalf("packet %d of the burst refused", i)
		}
	}
	if l.allow(a, t0) {
		t.Fatal("packet beyond the burst allowed")
	}
	if !l.allow(b, t0) {
		t.Fatal("another IP is limited by the first one's flood")
	}
	if !l.allow(a, t0.Add(time.Second/perIPRate)) {
		t.Fatal("no token after one refill period")
	}
	if l.allow(a, t0.Add(time.Second/perIPRate)) {
		t.Fatal("two tokens after one refill period")
	}
}

func TestLimiterGlobal(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := newLimiter(t0)
	allowed := 0
	for i := range 2 * globalBurst / perIPBurst {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		for range perIPBurst {
			if l.allow(ip, t0) {
				allowed++
			}
		}
	}
	if allowed != globalBurst {
		t.Fatalf("allowed %d packets at one instant from many IPs, want %d", allowed, globalBurst)
	}
}

func TestLimiterTableBounded(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := newLimiter(t0)
	l.global.tokens = 1e9 // isolate the table limit
	for i := range maxTrackedIPs {
		l.allow(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), t0)
	}
	newIP := netip.MustParseAddr("10.2.0.1")
	if l.allow(newIP, t0) {
		t.Fatal("new IP admitted while the table is full of active entries")
	}
	if len(l.perIP) != maxTrackedIPs {
		t.Fatalf("table has %d entries, want %d", len(l.perIP), maxTrackedIPs)
	}
	later := t0.Add(2 * time.Second) // every entry has refilled: idle
	if !l.allow(newIP, later) {
		t.Fatal("new IP refused after the table went idle")
	}
	if len(l.perIP) != 1 {
		t.Fatalf("table has %d entries after eviction, want 1", len(l.perIP))
	}
}
