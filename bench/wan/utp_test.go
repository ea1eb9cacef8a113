package main

import (
	"context"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobit/gobit/bench/wan/netem"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/utp"
)

// counter is an io.Writer that counts.
type counter struct{ n atomic.Int64 }

func (c *counter) Write(b []byte) (int, error) { c.n.Add(int64(len(b))); return len(b), nil }

// rate returns the bytes per second c counts over d.
func rate(c *counter, d time.Duration) float64 {
	start := c.n.Load()
	time.Sleep(d)
	return float64(c.n.Load()-start) / d.Seconds()
}

// TestUTPYieldsToTCP runs a uTP transfer through the link emulator's
// bottleneck (8 Mbit/s, a drop-tail queue of about 260 ms), then a TCP
// transfer (cubic, which fills the queue) beside it on the same link:
// LEDBAT sees the queuing delay pass its target and leaves the link to
// TCP, and takes it back once TCP is gone.
func TestUTPYieldsToTCP(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a 30-second transfer through the emulator")
	}
	if err := netem.Available(); err != nil {
		if testutil.InCI() {
			t.Fatalf("the link emulator cannot run (required when CI=true): %v", err)
		}
		t.Skip("the link emulator cannot run here:", err)
	}
	const bottleneck = 8_000_000 // bits per second
	n, err := netem.New(netem.Config{Prefix: "gobitutpy", Congestion: "cubic", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	snd, err := n.AddNode("snd", netem.Link{Delay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := n.AddNode("rcv", netem.Link{DownRate: bottleneck, Delay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}

	var usrv, ucli *utp.Socket
	var ln net.Listener
	if err := rcv.Run(func() (err error) {
		if usrv, err = utp.Listen("udp4", netip.AddrPortFrom(rcv.Addr, 0).String(), utp.Config{}); err != nil {
			return err
		}
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(rcv.Addr, 0).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer usrv.Close()
	defer ln.Close()
	if err := snd.Run(func() (err error) {
		ucli, err = utp.Listen("udp4", netip.AddrPortFrom(snd.Addr, 0).String(), utp.Config{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ucli.Close()

	var utpIn, tcpIn counter
	go func() {
		if c, err := usrv.Accept(); err == nil {
			io.Copy(&utpIn, c)
		}
	}()
	go func() {
		if c, err := ln.Accept(); err == nil {
			io.Copy(&tcpIn, c)
		}
	}()
	stop := make(chan struct{})
	defer close(stop)
	send := func(c net.Conn) {
		buf := make([]byte, 64<<10)
		for {
			select {
			case <-stop:
				c.Close()
				return
			default:
			}
			c.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := c.Write(buf); err != nil && !isTimeout(err) {
				return
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	uc, err := ucli.Dial(ctx, usrv.Addr().(*net.UDPAddr).AddrPort())
	if err != nil {
		t.Fatal(err)
	}
	go send(uc)
	full := float64(bottleneck) / 8
	time.Sleep(5 * time.Second) // slow start and settling
	alone := rate(&utpIn, 4*time.Second)
	t.Logf("uTP alone: %.0f KB/s (%.0f %% of the link)", alone/1e3, 100*alone/full)
	if alone < 0.5*full {
		t.Errorf("uTP alone used %.0f %% of the link, want at least 50 %%", 100*alone/full)
	}

	var tc net.Conn
	if err := snd.Run(func() (err error) {
		tc, err = net.DialTimeout("tcp4", ln.Addr().String(), 10*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tcpStop := make(chan struct{})
	go func() {
		<-tcpStop
		tc.Close()
	}()
	go send(tc)
	time.Sleep(8 * time.Second) // TCP ramps up, LEDBAT backs off
	uStart, tStart := utpIn.n.Load(), tcpIn.n.Load()
	time.Sleep(6 * time.Second)
	u, tcp := float64(utpIn.n.Load()-uStart)/6, float64(tcpIn.n.Load()-tStart)/6
	t.Logf("with TCP: uTP %.0f KB/s, TCP %.0f KB/s (uTP's share %.0f %%)", u/1e3, tcp/1e3, 100*u/(u+tcp))
	if u > 0.25*(u+tcp) {
		t.Errorf("uTP kept %.0f %% of the link beside TCP, want at most 25 %%", 100*u/(u+tcp))
	}
	close(tcpStop)
	time.Sleep(6 * time.Second)
	back := rate(&utpIn, 4*time.Second)
	t.Logf("after TCP: uTP %.0f KB/s (%.0f %% of the link)", back/1e3, 100*back/full)
	if back < 0.4*full {
		t.Errorf("uTP took back %.0f %% of the link after TCP left, want at least 40 %%", 100*back/full)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
