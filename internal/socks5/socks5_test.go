package socks5_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/socks5"
	"github.com/gobit/gobit/internal/socks5/socks5test"
)

func startProxy(t *testing.T, s *socks5test.Server) *socks5test.Server {
	t.Helper()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func echoTCP(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func TestParseURL(t *testing.T) {
	p, err := socks5.ParseURL("socks5://alice:s%40cret@127.0.0.1:1080")
	if err != nil || p.Addr != "127.0.0.1:1080" || p.User != "alice" || p.Password != "s@cret" {
		t.Fatalf("%+v %v", p, err)
	}
	if p.String() != "socks5://alice@127.0.0.1:1080" {
		t.Fatalf("String %q leaks or misses", p.String())
	}
	for _, bad := range []string{"http://h:1", "socks5://h", "socks5://h:0", "socks5://h:1/x", "socks5://:pw@h:1"} {
		if _, err := socks5.ParseURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestConnectWithAuth(t *testing.T) {
	srv := startProxy(t, &socks5test.Server{User: "u", Password: "p"})
	echo := echoTCP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := &socks5.Proxy{Addr: srv.Addr(), User: "u", Password: "p"}
	c, err := p.DialContext(ctx, "tcp", echo)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RemoteAddr().String() != echo {
		t.Fatalf("RemoteAddr %s, want the target %s", c.RemoteAddr(), echo)
	}
	c.Write([]byte("hello"))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("echo %q %v", buf, err)
	}
	if srv.Connects.Load() != 1 {
		t.Fatalf("connects %d", srv.Connects.Load())
	}
	// A host name goes to the proxy as a name.
	_, port, _ := net.SplitHostPort(echo)
	c2, err := p.DialContext(ctx, "tcp", net.JoinHostPort("localhost", port))
	if err == nil {
		c2.Close()
	}
	if tg := srv.Targets(); tg[len(tg)-1] != "localhost:"+port {
		t.Fatalf("targets %q", tg)
	}

	// Wrong and missing credentials.
	_, err = (&socks5.Proxy{Addr: srv.Addr(), User: "u", Password: "wrong"}).DialContext(ctx, "tcp", echo)
	if !errors.Is(err, socks5.ErrAuthFailed) || srv.AuthFailures.Load() != 1 {
		t.Fatalf("wrong password: %v", err)
	}
	_, err = (&socks5.Proxy{Addr: srv.Addr()}).DialContext(ctx, "tcp", echo)
	if !errors.Is(err, socks5.ErrAuthRequired) {
		t.Fatalf("no credentials: %v", err)
	}
	// A refused target is the proxy's reply.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	_, err = p.DialContext(ctx, "tcp", dead)
	var re *socks5.ReplyError
	if !errors.As(err, &re) || re.Code != 5 {
		t.Fatalf("refused target: %v", err)
	}
}

func TestSilentProxyTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			time.Sleep(5 * time.Second)
			c.Close()
		}
	}()
	p := &socks5.Proxy{Addr: ln.Addr().String(), HandshakeTimeout: 200 * time.Millisecond}
	start := time.Now()
	if _, err := p.DialContext(context.Background(), "tcp", "127.0.0.1:1"); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestUDPAssociate(t *testing.T) {
	srv := startProxy(t, &socks5test.Server{User: "u", Password: "p"})
	echo, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			echo.WriteToUDPAddrPort(append([]byte("re:"), buf[:n]...), from)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := &socks5.Proxy{Addr: srv.Addr(), User: "u", Password: "p"}
	pc, err := p.ListenPacket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	target := echo.LocalAddr().(*net.UDPAddr).AddrPort()
	buf := make([]byte, 100)
	for i := range 3 {
		msg := "ping" + strconv.Itoa(i)
		if _, err := pc.WriteToUDPAddrPort([]byte(msg), target); err != nil {
			t.Fatal(err)
		}
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, from, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil || string(buf[:n]) != "re:"+msg || from != target {
			t.Fatalf("got %q from %s: %v", buf[:n], from, err)
		}
	}
	if srv.Associates.Load() != 1 || srv.Datagrams.Load() != 3 {
		t.Fatalf("associates %d datagrams %d", srv.Associates.Load(), srv.Datagrams.Load())
	}
	// Closing the proxy ends the association: reads fail.
	srv.Close()
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var ne net.Error
	if _, _, err := pc.ReadFromUDPAddrPort(buf); err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("read after the proxy closed: %v", err)
	}

	noUDP := startProxy(t, &socks5test.Server{NoUDP: true})
	if _, err := (&socks5.Proxy{Addr: noUDP.Addr()}).ListenPacket(ctx); !errors.Is(err, socks5.ErrUDPNotSupported) {
		t.Fatalf("NoUDP: %v", err)
	}
}
