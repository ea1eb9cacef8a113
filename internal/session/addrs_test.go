package session

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/portmap"
	"github.com/gobit/gobit/internal/portmap/portmaptest"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// TestPortMappingAtStartAndExit: a session listening on all interfaces
// maps its port on the (fake, loopback) router at start, reports it in
// Network, and deletes the mappings when it closes.
func TestPortMappingAtStartAndExit(t *testing.T) {
	igd := portmaptest.NewIGD(t)
	s, err := New(Config{DownloadDir: t.TempDir(),
		PortMap: &portmap.Config{SSDPAddr: igd.SSDPAddr, NATPMPGateway: "off", Lease: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testutil.WaitFor(t, 20*time.Second, "the port mapped", func() bool {
		pm := s.Network().PortMapping
		return pm != nil && pm.State == portmap.StateMapped
	})
	pm := s.Network().PortMapping
	if pm.Method != portmap.MethodUPnP || pm.ExternalIP != portmaptest.ExternalIP || len(pm.Mappings) != 2 {
		t.Fatalf("port mapping %+v", pm)
	}
	for _, m := range igd.Mappings() {
		if m.InternalPort != s.Port() || m.ExternalPort != s.Port() {
			t.Errorf("router maps %+v, want port %d", m, s.Port())
		}
	}
	testutil.WaitFor(t, 20*time.Second, "a renewal", func() bool { return igd.Adds() >= 4 })
	s.Close()
	if m := igd.Mappings(); len(m) != 0 {
		t.Fatalf("after Close the router still maps %+v", m)
	}
}

// TestPortMappingOff: no mapping without Config.PortMap (--no-port-mapping)
// nor with a loopback listener, nor behind a proxy (a mapped port would
// reveal the address the proxy hides), and no search reaches the router.
func TestPortMappingOff(t *testing.T) {
	igd := portmaptest.NewIGD(t)
	for _, cfg := range []Config{
		{DownloadDir: t.TempDir()},
		{DownloadDir: t.TempDir(), ListenAddr: "127.0.0.1",
			PortMap: &portmap.Config{SSDPAddr: igd.SSDPAddr, NATPMPGateway: "off"}},
		{DownloadDir: t.TempDir(), ListenAddr: "::1", IPVersion: IPVersion6,
			PortMap: &portmap.Config{SSDPAddr: igd.SSDPAddr, NATPMPGateway: "off"}},
		{DownloadDir: t.TempDir(), Proxy: "socks5://127.0.0.1:9",
			PortMap: &portmap.Config{SSDPAddr: igd.SSDPAddr, NATPMPGateway: "off"}},
	} {
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if pm := s.Network().PortMapping; pm != nil {
			t.Errorf("config %+v: port mapping %+v, want off", cfg, pm)
		}
		s.Close()
	}
	if n := igd.Searches(); n != 0 {
		t.Fatalf("%d SSDP searches with port mapping off", n)
	}
}

// TestPortMappingFailureReported: a router that refuses shows as failed,
// with its error, in Network.
func TestPortMappingFailureReported(t *testing.T) {
	srv := portmaptest.NewNATPMP(t)
	srv.SetRefuse(2)
	s, err := New(Config{DownloadDir: t.TempDir(), PortMap: &portmap.Config{SSDPAddr: "off", NATPMPGateway: srv.Gateway}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testutil.WaitFor(t, 20*time.Second, "the failure reported", func() bool {
		pm := s.Network().PortMapping
		return pm != nil && pm.State == portmap.StateFailed && pm.Error != ""
	})
}

func TestAddrVotes(t *testing.T) {
	var v addrVotes
	ours := netip.MustParseAddr("203.0.113.7")
	for i := range 3 {
		v.add(netip.MustParseAddrPort(fmt.Sprintf("198.51.100.%d:6881", i+1)), ours)
	}
	v.add(netip.MustParseAddrPort("198.51.100.1:7000"), ours) // the same peer IP again
	v.add(netip.MustParseAddrPort("198.51.100.9:6881"), netip.MustParseAddr("::ffff:192.0.2.1"))
	v.add(netip.MustParseAddrPort("198.51.100.9:6881"), netip.IPv4Unspecified())
	got := v.list()
	if len(got) != 2 || got[0] != (ExternalAddr{Addr: "203.0.113.7", Votes: 3}) || got[1] != (ExternalAddr{Addr: "192.0.2.1", Votes: 1}) {
		t.Fatalf("votes %+v", got)
	}
	// Bounded: many addresses keep at most maxVotedAddrs, the best kept.
	for i := range 100 {
		v.add(netip.MustParseAddrPort("198.51.100.50:1"), netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
	}
	got = v.list()
	if len(got) != maxVotedAddrs || got[0].Addr != "203.0.113.7" {
		t.Fatalf("after 100 addresses: %d kept, first %+v", len(got), got[0])
	}
}

func TestIPVersionHelpers(t *testing.T) {
	if PeerIPVersion("1.2.3.4:5") != 4 || PeerIPVersion("[2001:db8::1]:5") != 6 || PeerIPVersion("[::ffff:1.2.3.4]:5") != 4 || PeerIPVersion("x") != 0 {
		t.Error("PeerIPVersion")
	}
	v4, v6 := allowAddr(IPVersion4), allowAddr(IPVersion6)
	a4, a6, mapped := netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:1.2.3.4")
	if !v4(a4) || v4(a6) || !v4(mapped) || v6(a4) || !v6(a6) || v6(mapped) || allowAddr(IPVersionBoth) != nil {
		t.Error("allowAddr")
	}
	if ipNetwork("4", "tcp") != "tcp4" || ipNetwork("6", "udp") != "udp6" || ipNetwork("both", "tcp") != "tcp" {
		t.Error("ipNetwork")
	}
	if _, err := New(Config{DownloadDir: t.TempDir(), Port: -1, IPVersion: "5"}); err == nil {
		t.Error("IP version 5 accepted")
	}
	if !isGlobal6(netip.MustParseAddr("2001:db8::1")) || isGlobal6(netip.MustParseAddr("fd00::1")) || isGlobal6(netip.MustParseAddr("fe80::1")) || isGlobal6(netip.MustParseAddr("::1")) {
		t.Error("isGlobal6")
	}
}

// TestExtensionHandshakeAddresses: our extension handshake carries the
// peer's address as "yourip" and our global IPv6 address as "ipv6" (BEP
// 10); the "yourip" a peer sends us is counted as an external address.
func TestExtensionHandshakeAddresses(t *testing.T) {
	s, err := New(Config{DownloadDir: t.TempDir(), ListenAddr: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	own := netip.MustParseAddr("2001:db8::7")
	s.ipv6.mu.Lock()
	s.ipv6.lookup, s.ipv6.checked = func() netip.Addr { return own }, time.Time{}
	s.ipv6.mu.Unlock()
	ih := metainfo.Hash{7, 7, 7}
	if _, err := s.Add(context.Background(), AddRequest{URI: metainfo.Magnet{InfoHash: ih}.String()}); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(s.Port())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	hs := wire.Handshake{InfoHash: ih, PeerID: [20]byte([]byte("-XX0001-yourip-test0"))}
	hs.SetExtended()
	if _, err := c.Write(hs.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	ours := wire.ExtendedHandshake{M: map[string]int{}, YourIP: netip.MustParseAddr("198.51.100.4").AsSlice()}
	payload, _ := ours.Marshal()
	ext := wire.Message{ID: wire.Extended, ExtendedID: wire.ExtendedHandshakeID, Payload: payload}
	c.Write(ext.AppendTo(nil))
	if _, err := wire.ReadHandshake(c); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for {
		m, nb, err := wiretest.ReadMessage(c, buf)
		if err != nil {
			t.Fatalf("no extension handshake: %v", err)
		}
		buf = nb
		if m.KeepAlive || m.ID != wire.Extended || m.ExtendedID != wire.ExtendedHandshakeID {
			continue
		}
		h, err := wire.ParseExtendedHandshake(m.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if ip, ok := h.YourIPAddr(); !ok || ip != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("yourip %v, want 127.0.0.1", h.YourIP)
		}
		if ip, ok := netip.AddrFromSlice(h.IPv6); !ok || ip != own {
			t.Errorf("ipv6 %v, want %s", h.IPv6, own)
		}
		break
	}
	testutil.WaitFor(t, 10*time.Second, "the peer's yourip counted", func() bool {
		a := s.Network().ExternalAddrs
		return len(a) == 1 && a[0] == ExternalAddr{Addr: "198.51.100.4", Votes: 1}
	})
	if n := s.Network(); n.IPv6 != own.String() {
		t.Errorf("network ipv6 %q, want %s", n.IPv6, own)
	}
}
