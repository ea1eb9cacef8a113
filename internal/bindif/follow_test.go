package bindif

import (
	"errors"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// openLoopbackUDP returns an open function for PacketConn that binds
// 127.0.0.1 and the same port each time, and counts its calls.
func openLoopbackUDP(calls *int) func() (net.PacketConn, error) {
	port := 0
	return func() (net.PacketConn, error) {
		*calls++
		pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err == nil {
			port = pc.LocalAddr().(*net.UDPAddr).Port
		}
		return pc, err
	}
}

// TestPacketConnDownUp: while down, writes fail with ErrGone and a read
// waits (ending at its deadline); after Up the socket is on the same port
// again and a waiting read gets the next datagram; Close ends it.
func TestPacketConnDownUp(t *testing.T) {
	calls := 0
	p, err := NewPacketConn(openLoopbackUDP(&calls))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	addr := p.LocalAddr().(*net.UDPAddr)
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	roundTrip := func(msg string) {
		t.Helper()
		if _, err := peer.WriteTo([]byte(msg), addr); err != nil {
			t.Fatal(err)
		}
		p.SetReadDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, 64)
		n, from, err := p.ReadFrom(b)
		if err != nil || string(b[:n]) != msg {
			t.Fatalf("read %q, %v", b[:n], err)
		}
		if _, err := p.WriteTo([]byte("re:"+msg), from); err != nil {
			t.Fatal(err)
		}
		peer.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err = peer.ReadFrom(b)
		if err != nil || string(b[:n]) != "re:"+msg {
			t.Fatalf("reply %q, %v", b[:n], err)
		}
	}
	roundTrip("one")

	p.Down()
	if _, err := p.WriteTo([]byte("x"), peer.LocalAddr()); !errors.Is(err, ErrGone) {
		t.Fatalf("write while down: %v, want ErrGone", err)
	}
	p.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, _, err := p.ReadFrom(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read while down: %v, want a timeout", err)
	}
	// The port is free while down: nothing listens on it.
	if c, err := net.ListenUDP("udp4", addr); err != nil {
		t.Fatalf("the port is still held while down: %v", err)
	} else {
		c.Close()
	}

	// A read waiting across Up gets the datagram sent after it.
	p.SetReadDeadline(time.Time{})
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 64)
		n, _, err := p.ReadFrom(b)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(b[:n])
	}()
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	if calls != 2 || p.LocalAddr().String() != addr.String() {
		t.Fatalf("after Up: %d opens, address %v, want 2 and %v", calls, p.LocalAddr(), addr)
	}
	if _, err := peer.WriteTo([]byte("two"), addr); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "two" {
			t.Fatalf("read across Up: %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a read waiting across Up got nothing")
	}
	roundTrip("three")

	// Close ends a waiting read, even while down.
	p.Down()
	done := make(chan error, 1)
	go func() { _, _, err := p.ReadFrom(make([]byte, 8)); done <- err }()
	p.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a waiting read")
	}
	if err := p.Up(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Up after Close: %v", err)
	}
}

// TestListenerDownUp: while down the port refuses connections and Accept
// waits; after Up the next connection is accepted on the same port;
// Close ends Accept.
func TestListenerDownUp(t *testing.T) {
	port := 0
	l, err := NewListener(func() (net.Listener, error) {
		ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			port = ln.Addr().(*net.TCPAddr).Port
		}
		return ln, err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()
	accepted := make(chan error, 4)
	go func() {
		for {
			c, err := l.Accept()
			accepted <- err
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	dial := func() error {
		c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(); err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	l.Down()
	if err := dial(); err == nil {
		t.Fatal("a connection was accepted while down")
	}
	if err := l.Up(); err != nil {
		t.Fatal(err)
	}
	if l.Addr().String() != addr {
		t.Fatalf("address after Up %v, want %v", l.Addr(), addr)
	}
	if err := dial(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-accepted:
		if err != nil {
			t.Fatalf("accept after Up: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing accepted after Up")
	}
	l.Close()
	select {
	case err := <-accepted:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("accept after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end Accept")
	}
}

// TestConnsCloseAll: CloseAll closes the connections still open, and a
// connection closed by its user is forgotten.
func TestConnsCloseAll(t *testing.T) {
	var cs Conns
	a1, b1 := net.Pipe()
	a2, b2 := net.Pipe()
	defer b1.Close()
	defer b2.Close()
	c1, c2 := cs.Track(a1), cs.Track(a2)
	if cs.Len() != 2 {
		t.Fatalf("tracked %d, want 2", cs.Len())
	}
	c1.Close()
	if cs.Len() != 1 {
		t.Fatalf("tracked %d after a Close, want 1", cs.Len())
	}
	if n := cs.CloseAll(); n != 1 {
		t.Fatalf("CloseAll closed %d, want 1", n)
	}
	if _, err := c2.Write([]byte("x")); err == nil {
		t.Fatal("a connection is still open after CloseAll")
	}
	if cs.Len() != 0 {
		t.Fatalf("tracked %d after CloseAll", cs.Len())
	}
}
