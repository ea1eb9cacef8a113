package socks5_test

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/socks5"
	"github.com/gobit/gobit/internal/socks5/socks5test"
	"github.com/gobit/gobit/internal/testutil"
)

// udpEcho answers every datagram with "re:" and the datagram, and
// records the sources it saw.
type udpEcho struct {
	c       *net.UDPConn
	mu      sync.Mutex
	sources []netip.AddrPort
}

func startUDPEcho(t *testing.T) *udpEcho {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	e := &udpEcho{c: c}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			e.mu.Lock()
			e.sources = append(e.sources, from)
			e.mu.Unlock()
			c.WriteToUDPAddrPort(append([]byte("re:"), buf[:n]...), from)
		}
	}()
	return e
}

func (e *udpEcho) addr() netip.AddrPort { return e.c.LocalAddr().(*net.UDPAddr).AddrPort() }

func (e *udpEcho) seen() []netip.AddrPort {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]netip.AddrPort(nil), e.sources...)
}

// roundTrip sends msg through a and waits for the echo.
func roundTrip(a *socks5.Association, target netip.AddrPort, msg string) error {
	if _, err := a.WriteToUDPAddrPort([]byte(msg), target); err != nil {
		return err
	}
	buf := make([]byte, 256)
	a.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		n, from, err := a.ReadFromUDPAddrPort(buf)
		if err != nil {
			return err
		}
		if from == target && string(buf[:n]) == "re:"+msg {
			return nil
		}
	}
}

// TestAssociationRetries: an Association associates, survives the proxy
// dropping the association (failed, then associated again after the
// backoff), reports a refusal of UDP ASSOCIATE as failed with the
// proxy's reason, and never sends a datagram except through the relay.
func TestAssociationRetries(t *testing.T) {
	srv := startProxy(t, &socks5test.Server{User: "u", Password: "p"})
	echo := startUDPEcho(t)
	var mu sync.Mutex
	var changes []socks5.AssocState
	p := &socks5.Proxy{Addr: srv.Addr(), User: "u", Password: "p"}
	a := p.Associate(socks5.AssocConfig{MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		OnChange: func(st socks5.AssocStatus) {
			mu.Lock()
			changes = append(changes, st.State)
			mu.Unlock()
		}})
	defer a.Close()
	testutil.WaitFor(t, 10*time.Second, "associated", func() bool { return a.Status().State == socks5.AssocAssociated })
	if err := roundTrip(a, echo.addr(), "one"); err != nil {
		t.Fatal(err)
	}

	// The proxy refuses from now on, and drops the association.
	srv.RefuseUDP(true)
	if n := srv.DropAssociations(); n != 1 {
		t.Fatalf("dropped %d associations", n)
	}
	testutil.WaitFor(t, 10*time.Second, "a refusal", func() bool {
		st := a.Status()
		return st.State == socks5.AssocFailed && errors.Is(st.Err, socks5.ErrUDPNotSupported) && st.Failures >= 2
	})
	st := a.Status()
	if !st.Retry.After(st.Since) || st.Relay.IsValid() {
		t.Fatalf("failed status %+v", st)
	}
	if _, err := a.WriteToUDPAddrPort([]byte("leak?"), echo.addr()); !errors.Is(err, socks5.ErrNotAssociated) {
		t.Fatalf("write while failed: %v", err)
	}
	a.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var ne net.Error
	if _, _, err := a.ReadFromUDPAddrPort(make([]byte, 10)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read while failed: %v", err)
	}

	// Accepted again: a new association, and datagrams flow again.
	srv.RefuseUDP(false)
	testutil.WaitFor(t, 10*time.Second, "associated again", func() bool { return a.Status().State == socks5.AssocAssociated })
	if err := roundTrip(a, echo.addr(), "two"); err != nil {
		t.Fatal(err)
	}
	if st := a.Status(); st.Associations != 2 || srv.Associates.Load() != 2 {
		t.Fatalf("associations %d (proxy %d)", st.Associations, srv.Associates.Load())
	}
	// Every datagram the target saw came from the proxy's relay sockets
	// (socks5test relays from 127.0.0.1), two of them, never one of a.
	if n := len(echo.seen()); n != 2 {
		t.Fatalf("the target saw %d datagrams, want 2", n)
	}
	a.Close()
	if st := a.Status(); st.State != socks5.AssocClosed {
		t.Fatalf("after Close: %s", st.State)
	}
	if _, _, err := a.ReadFromUDPAddrPort(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changes) < 4 || changes[0] != socks5.AssocAssociated || changes[len(changes)-1] != socks5.AssocAssociated {
		t.Fatalf("changes %v", changes)
	}
}

// TestAssociationUnreachableProxy: nothing listens at the proxy's address:
// the Association fails, with the dial's error, and keeps retrying.
func TestAssociationUnreachableProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	a := (&socks5.Proxy{Addr: addr}).Associate(socks5.AssocConfig{MinBackoff: 20 * time.Millisecond, MaxBackoff: 40 * time.Millisecond})
	defer a.Close()
	testutil.WaitFor(t, 10*time.Second, "several failures", func() bool {
		st := a.Status()
		return st.State == socks5.AssocFailed && st.Failures >= 3 && st.Err != nil
	})
	if _, err := a.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}); !errors.Is(err, socks5.ErrNotAssociated) {
		t.Fatalf("write: %v", err)
	}
}
