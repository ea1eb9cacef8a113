package peer

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// listen returns a loopback listener closed at cleanup.
func listen(t *testing.T) (net.Listener, netip.AddrPort) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, AddrOf(ln.Addr())
}

func hs(infoHash, peerID byte) wire.Handshake {
	h := wire.Handshake{InfoHash: [20]byte{infoHash}, PeerID: [20]byte{peerID}}
	h.SetExtended()
	h.SetFast()
	return h
}

// serveOnce accepts one connection and runs fn on it in a goroutine.
func serveOnce(t *testing.T, ln net.Listener, fn func(net.Conn)) {
	t.Helper()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		fn(nc)
	}()
}

func TestDialAcceptHandshake(t *testing.T) {
	ln, addr := listen(t)
	server := hs(1, 'S')
	type result struct {
		hs  wire.Handshake
		err error
		nc  net.Conn
	}
	res := make(chan result, 1)
	var lookedUp [20]byte
	serveOnce(t, ln, func(nc net.Conn) {
		h, err := Accept(nc, time.Second, func(ih [20]byte) (wire.Handshake, bool) {
			lookedUp = ih
			return server, ih == server.InfoHash
		})
		res <- result{h, err, nc}
	})
	client := wire.Handshake{InfoHash: server.InfoHash, PeerID: [20]byte{'C'}}
	client.SetDHT()
	nc, got, err := Dial(context.Background(), addr, client, time.Second)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer nc.Close()
	if got != server {
		t.Errorf("Dial returned %+v, want the server's handshake %+v", got, server)
	}
	if !got.SupportsFast() || !got.SupportsExtended() {
		t.Error("reserved bits lost")
	}
	r := <-res
	if r.err != nil {
		t.Fatalf("Accept: %v", r.err)
	}
	defer r.nc.Close()
	if r.hs != client || lookedUp != client.InfoHash {
		t.Errorf("Accept returned %+v (lookup %x), want %+v", r.hs, lookedUp, client)
	}
	// The handshake deadlines are cleared: the connection outlives the
	// handshake timeout.
	time.Sleep(1200 * time.Millisecond)
	go r.nc.Write(frame(wire.Message{ID: wire.Unchoke}))
	m, _, err := wiretest.ReadMessage(nc, nil)
	if err != nil || m.ID != wire.Unchoke {
		t.Fatalf("after the handshake: %v, %v", m.ID, err)
	}
}

func TestDialInfoHashMismatch(t *testing.T) {
	ln, addr := listen(t)
	serveOnce(t, ln, func(nc net.Conn) {
		defer nc.Close()
		wire.ReadHandshake(nc)
		nc.Write(hs(2, 'S').AppendTo(nil))
		io.Copy(io.Discard, nc)
	})
	nc, _, err := Dial(context.Background(), addr, hs(1, 'C'), time.Second)
	if !errors.Is(err, ErrInfoHashMismatch) {
		t.Fatalf("Dial error = %v, want ErrInfoHashMismatch", err)
	}
	if nc != nil {
		t.Error("Dial returned a connection with its error")
	}
}

func TestDialBadHandshake(t *testing.T) {
	ln, addr := listen(t)
	serveOnce(t, ln, func(nc net.Conn) {
		defer nc.Close()
		b := hs(1, 'S').AppendTo(nil)
		copy(b[1:], "BitTorrent protocoX")
		nc.Write(b)
		io.Copy(io.Discard, nc)
	})
	_, _, err := Dial(context.Background(), addr, hs(1, 'C'), time.Second)
	if !errors.Is(err, wire.ErrBadHandshake) {
		t.Fatalf("Dial error = %v, want ErrBadHandshake", err)
	}
}

func TestDialTimeoutOnSilentPeer(t *testing.T) {
	ln, addr := listen(t)
	hold := make(chan struct{})
	defer close(hold)
	serveOnce(t, ln, func(nc net.Conn) {
		<-hold // accept, then say nothing
		nc.Close()
	})
	start := time.Now()
	_, _, err := Dial(context.Background(), addr, hs(1, 'C'), 200*time.Millisecond)
	if err == nil {
		t.Fatal("Dial to a silent peer succeeded")
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("Dial gave up after %v, want about 200ms", el)
	}
}

func TestDialContextCancel(t *testing.T) {
	ln, addr := listen(t)
	hold := make(chan struct{})
	defer close(hold)
	serveOnce(t, ln, func(nc net.Conn) {
		<-hold
		nc.Close()
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := Dial(ctx, addr, hs(1, 'C'), 10*time.Second)
	if err == nil {
		t.Fatal("Dial succeeded")
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Dial ignored the cancelled context for %v", el)
	}
}

func TestAcceptRefusals(t *testing.T) {
	known := hs(1, 'S')
	lookup := func(ih [20]byte) (wire.Handshake, bool) { return known, ih == known.InfoHash }
	tests := []struct {
		name  string
		send  []byte
		want  error // nil: any error
		close bool  // the test closes the remote end after sending
	}{
		{"unknown info hash", hs(9, 'C').AppendTo(nil), nil, false},
		{"bad protocol string", append([]byte{5}, "HELLO world, this is not BitTorrent at all, really, no"...), wire.ErrBadHandshake, false},
		{"short handshake", hs(1, 'C').AppendTo(nil)[:30], io.ErrUnexpectedEOF, true},
		{"no peer id", hs(1, 'C').AppendTo(nil)[:48], nil, true},
		{"silent", nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			errC := make(chan error, 1)
			go func() {
				_, err := Accept(a, 300*time.Millisecond, lookup)
				errC <- err
			}()
			go func() {
				b.Write(tc.send)
				if tc.close {
					b.Close()
				}
			}()
			var err error
			select {
			case err = <-errC:
			case <-time.After(wait):
				t.Fatal("Accept did not return")
			}
			if err == nil {
				t.Fatal("Accept succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Accept error = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestAcceptUnknownInfoHashAnswersNothing checks that a connection for a
// torrent we do not have learns nothing about us: no handshake is sent back
// before the caller closes the connection on Accept's error.
func TestAcceptUnknownInfoHashAnswersNothing(t *testing.T) {
	testAcceptUnknown(t, true)
}

// TestAcceptClosesOnUnknownInfoHash checks Accept's documented promise that
// lookup returning ok=false closes the connection.
func TestAcceptClosesOnUnknownInfoHash(t *testing.T) {
	testAcceptUnknown(t, false)
}

func testAcceptUnknown(t *testing.T, callerCloses bool) {
	ln, addr := listen(t)
	accepted := make(chan error, 1)
	serveOnce(t, ln, func(nc net.Conn) {
		_, err := Accept(nc, time.Second, func([20]byte) (wire.Handshake, bool) { return hs(1, 'S'), false })
		if err != nil && callerCloses {
			nc.Close()
		}
		accepted <- err
	})
	nc, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(hs(9, 'C').AppendTo(nil))
	if err := <-accepted; err == nil {
		t.Fatal("Accept succeeded for an unknown info hash")
	}
	nc.SetReadDeadline(time.Now().Add(wait))
	n, err := io.Copy(io.Discard, nc)
	if n != 0 {
		t.Errorf("the remote received %d bytes for an unknown torrent", n)
	}
	// EOF (err == nil) or a reset (our unread peer ID) both mean closed; a
	// timeout means the connection was left open.
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("connection not closed: %v", err)
	}
}
