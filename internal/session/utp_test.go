package session

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/utp"
)

// TestDialPeerTransports: dialPeer reaches a uTP peer over uTP at once,
// and a TCP-only peer over TCP after utpHeadStart.
func TestDialPeerTransports(t *testing.T) {
	s, err := New(Config{DownloadDir: t.TempDir(), ListenAddr: "127.0.0.1", UTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.utp == nil {
		t.Fatal("uTP is off")
	}

	peer, err := utp.Listen("udp", "127.0.0.1:0", utp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	nc, err := s.dialPeer(ctx, "tcp", peer.Addr().(*net.UDPAddr).AddrPort().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("uTP peer: connected over %T in %v", nc, time.Since(start))
	if _, ok := nc.(*utp.Conn); !ok {
		t.Fatalf("a uTP peer reached over %T", nc)
	}
	nc.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start = time.Now()
	nc, err = s.dialPeer(ctx, "tcp", ln.Addr().(*net.TCPAddr).AddrPort().String())
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("TCP-only peer: connected over %T in %v", nc, took)
	if _, ok := nc.(*net.TCPConn); !ok {
		t.Fatalf("a TCP-only peer reached over %T", nc)
	}
	nc.Close()
	if took < utpHeadStart {
		t.Fatalf("TCP tried after %v, before uTP's head start of %v", took, utpHeadStart)
	}

	// Nobody at all: TCP is refused, and uTP is given up after
	// utpRefusedGrace rather than after all its SYN retries (15 s).
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	start = time.Now()
	if _, err := s.dialPeer(ctx2, "tcp", "127.0.0.1:1"); err == nil {
		t.Fatal("dialled a closed port")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("a dial to a closed port (TCP refused) took %v, want about %v", took, utpRefusedGrace)
	}
}
