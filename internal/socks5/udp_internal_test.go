package socks5

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestParseUDP checks the relay's datagram header: only whole,
// unfragmented datagrams naming their source by address are taken.
func TestParseUDP(t *testing.T) {
	v4 := []byte{0, 0, 0, atypIPv4, 10, 0, 0, 1, 0x1a, 0xe1}
	v6 := append([]byte{0, 0, 0, atypIPv6}, make([]byte, 16)...)
	v6[len(v6)-1] = 1
	v6 = append(v6, 0, 80)
	good := []struct {
		d    []byte
		src  string
		body string
	}{
		{append(append([]byte{}, v4...), "hi"...), "10.0.0.1:6881", "hi"},
		{append([]byte{}, v4...), "10.0.0.1:6881", ""},
		{append(append([]byte{}, v6...), "x"...), "[::1]:80", "x"},
	}
	for _, g := range good {
		src, body, ok := parseUDP(g.d)
		if !ok || src.String() != g.src || string(body) != g.body {
			t.Errorf("parseUDP(%x) = %v %q %v", g.d, src, body, ok)
		}
	}
	bad := map[string][]byte{
		"empty":     nil,
		"short":     {0, 0, 0},
		"fragment":  {0, 0, 1, atypIPv4, 10, 0, 0, 1, 0, 1, 'x'},
		"rsv":       {0, 1, 0, atypIPv4, 10, 0, 0, 1, 0, 1, 'x'},
		"domain":    {0, 0, 0, atypDomain, 1, 'a', 0, 1, 'x'},
		"atyp":      {0, 0, 0, 9, 10, 0, 0, 1, 0, 1},
		"cut v4":    {0, 0, 0, atypIPv4, 10, 0, 0},
		"cut port":  {0, 0, 0, atypIPv4, 10, 0, 0, 1, 0},
		"cut v6":    {0, 0, 0, atypIPv6, 1, 2, 3},
		"cut name":  {0, 0, 0, atypDomain, 200, 'a'},
		"no length": {0, 0, 0, atypDomain},
	}
	for name, d := range bad {
		if src, body, ok := parseUDP(d); ok {
			t.Errorf("%s: parseUDP(%x) accepted: %v %q", name, d, src, body)
		}
	}
}

// FuzzParseUDP: any input is either refused or split into a source and a
// payload that is the datagram's tail.
func FuzzParseUDP(f *testing.F) {
	f.Add([]byte{0, 0, 0, atypIPv4, 10, 0, 0, 1, 0x1a, 0xe1, 'h', 'i'})
	f.Add([]byte{0, 0, 0, atypDomain, 3, 'a', 'b', 'c', 0, 1})
	f.Add([]byte{0, 0, 2, atypIPv6})
	f.Fuzz(func(t *testing.T, d []byte) {
		src, body, ok := parseUDP(d)
		if !ok {
			return
		}
		if !src.IsValid() || !bytes.HasSuffix(d, body) || len(body) > len(d)-10 {
			t.Fatalf("parseUDP(%x) = %v %x", d, src, body)
		}
	})
}

// TestReadDropsStrangers: datagrams reaching the association's socket
// from anyone but the relay, and bad ones from the relay, are dropped; a
// good one from the relay is read.
func TestReadDropsStrangers(t *testing.T) {
	local, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	relay, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	stranger, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	ctrlA, ctrlB := net.Pipe()
	defer ctrlB.Close()
	pc := &PacketConn{udp: local, ctrl: ctrlA, relay: relay.LocalAddr().(*net.UDPAddr).AddrPort(), done: make(chan struct{})}
	defer pc.Close()
	to := local.LocalAddr().(*net.UDPAddr)
	framed := func(body string) []byte {
		return append([]byte{0, 0, 0, atypIPv4, 192, 0, 2, 7, 0, 99}, body...)
	}
	stranger.WriteToUDP(framed("from a stranger"), to)
	relay.WriteToUDP(append([]byte{0, 0, 1}, framed("fragment")[3:]...), to)
	relay.WriteToUDP([]byte{0, 0, 0, atypDomain, 1, 'x', 0, 1, 'y'}, to)
	relay.WriteToUDP(framed("good"), to)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, src, err := pc.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "good" || src != netip.MustParseAddrPort("192.0.2.7:99") {
		t.Fatalf("read %q from %v: %v", buf[:n], src, err)
	}
}
