package utp

import (
	"net"
	"testing"
)

// TestBatchReader: datagrams that queued up are read with one recvmmsg,
// with their senders' addresses (IPv4 and IPv6) and sizes.
func TestBatchReader(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		host := "127.0.0.1"
		if network == "udp6" {
			host = "[::1]"
		}
		rc, err := net.ListenPacket(network, host+":0")
		if err != nil {
			t.Logf("%s: %v", network, err)
			continue
		}
		defer rc.Close()
		s := &Socket{udp: rc.(*net.UDPConn)}
		s.bufs.New = func() any { b := make([]byte, maxDatagram); return &b }
		s.stamps = enableTimestamps(s.udp)
		br := newBatchReader(s)
		if br == nil {
			t.Fatal("no batch reader for a UDP socket")
		}
		defer br.close()
		wc, err := net.ListenPacket(network, host+":0")
		if err != nil {
			t.Fatal(err)
		}
		defer wc.Close()
		const sent = 10
		for i := range sent {
			if _, err := wc.WriteTo(make([]byte, 100+i), rc.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		pkts := make([]packet, batchSize)
		got := 0
		for got < sent {
			n, err := br.read(pkts)
			if err != nil {
				t.Fatal(err)
			}
			if got == 0 && n < 2 {
				t.Errorf("%s: the first read returned %d of %d queued datagrams", network, n, sent)
			}
			for _, p := range pkts[:n] {
				if p.n != 100+got {
					t.Fatalf("%s: datagram %d has %d bytes, want %d", network, got, p.n, 100+got)
				}
				if want := wc.LocalAddr().(*net.UDPAddr).AddrPort(); p.addr != want {
					t.Fatalf("%s: from %v, want %v", network, p.addr, want)
				}
				s.bufs.Put(p.buf)
				got++
			}
		}
	}
}
