package tracker

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/tracker/trackertest"
)

func need6(t *testing.T) {
	t.Helper()
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	c.Close()
}

// TestUDPTrackerOverIPv6 announces to a tracker on ::1: it answers in BEP
// 15's IPv6 form (18-byte peers), which the client reads.
func TestUDPTrackerOverIPv6(t *testing.T) {
	need6(t)
	tr := trackertest.NewOn(t, "::1")
	c := NewClient(ClientConfig{UDPTimeout: time.Second, UDPMaxRetries: 1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ih := [20]byte{1, 2, 3}
	other := AnnounceRequest{InfoHash: ih, PeerID: [20]byte{9}, Port: 7000, Left: 0, NumWant: -1}
	if _, err := c.Announce(ctx, tr.UDPURL(), other); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Announce(ctx, tr.UDPURL(), AnnounceRequest{InfoHash: ih, PeerID: [20]byte{8}, Port: 7001, Left: 5, NumWant: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tr.UDPURL(), "udp://[::1]:") {
		t.Fatalf("tracker URL %s", tr.UDPURL())
	}
	if want := []netip.AddrPort{netip.MustParseAddrPort("[::1]:7000")}; !slices.Equal(resp.Peers, want) || resp.Seeders != 1 {
		t.Fatalf("peers %v seeders %d, want %v and 1", resp.Peers, resp.Seeders, want)
	}
}

// TestIPVersionLimitsTrackers: under IPVersion "6" an IPv4 tracker is not
// contacted and IPv4 peers are dropped; under "4" the reverse.
func TestIPVersionLimitsTrackers(t *testing.T) {
	need6(t)
	tr4 := trackertest.New(t)
	tr6 := trackertest.NewOn(t, "::1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c6 := NewClient(ClientConfig{UDPTimeout: time.Second, UDPMaxRetries: 1, IPVersion: "6"})
	defer c6.Close()
	req := AnnounceRequest{InfoHash: [20]byte{4}, PeerID: [20]byte{1}, Port: 7000, NumWant: -1}
	for _, u := range []string{tr4.UDPURL(), tr4.HTTPURL()} {
		if _, err := c6.Announce(ctx, u, req); err == nil {
			t.Errorf("IPv6-only client announced to the IPv4 tracker %s", u)
		}
	}
	if tr4.Announces() != 0 {
		t.Fatalf("the IPv4 tracker got %d announces", tr4.Announces())
	}
	if _, err := c6.Announce(ctx, tr6.UDPURL(), req); err != nil {
		t.Fatalf("IPv6-only client to the IPv6 tracker: %v", err)
	}

	c4 := NewClient(ClientConfig{UDPTimeout: time.Second, UDPMaxRetries: 1, IPVersion: "4"})
	defer c4.Close()
	if _, err := c4.Announce(ctx, tr6.HTTPURL(), req); err == nil {
		t.Error("IPv4-only client announced to the IPv6 tracker")
	}
}

// TestHTTPAnnounceSendsIPv6 sends our global IPv6 address as "ipv6="
// (BEP 7), and not under IPVersion "4".
func TestHTTPAnnounceSendsIPv6(t *testing.T) {
	tr := trackertest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	own := netip.MustParseAddr("2001:db8::7")
	req := AnnounceRequest{InfoHash: [20]byte{6}, PeerID: [20]byte{1}, Port: 7000, NumWant: -1}
	for _, tt := range []struct {
		version, want string
	}{{"", "2001:db8::7"}, {"4", ""}} {
		c := NewClient(ClientConfig{IPVersion: tt.version})
		c.SetIPv6Source(func() netip.Addr { return own })
		if _, err := c.Announce(ctx, tr.HTTPURL(), req); err != nil {
			t.Fatal(err)
		}
		c.Close()
		ev := tr.Events()
		if got := ev[len(ev)-1].IPv6; got != tt.want {
			t.Errorf("IP version %q: ipv6=%q, want %q", tt.version, got, tt.want)
		}
	}
	// Without a source, nothing is sent.
	c := NewClient(ClientConfig{})
	defer c.Close()
	if _, err := c.Announce(ctx, tr.HTTPURL(), req); err != nil {
		t.Fatal(err)
	}
	if ev := tr.Events(); ev[len(ev)-1].IPv6 != "" {
		t.Errorf("ipv6=%q sent without an address", ev[len(ev)-1].IPv6)
	}
}
