package main

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/bench/wan/netem"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/utp"
)

// lossyRate is the goodput, in bytes per second, of one uTP or TCP (bbr)
// transfer of span from a sender with an up-link of rate bits per second
// and a one-way delay of delay, with loss on that link in each direction
// and the down-rate and queue of a WAN scenario (a) seeder of that rate
// (mkLink), to a receiver 5 ms away.
func lossyRate(t *testing.T, prefix string, useUTP bool, rate int64, delay time.Duration, loss float64, span time.Duration) float64 {
	t.Helper()
	n, err := netem.New(netem.Config{Prefix: prefix, Congestion: "bbr", Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	l := mkLink(rate, min(5*rate, 100*Mbit), 2*delay, loss)
	snd, err := n.AddNode("snd", netem.Link{UpRate: l.Up, DownRate: l.Down, Delay: delay, Loss: loss,
		QueueBytes: l.Queue})
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := n.AddNode("rcv", netem.Link{Delay: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	var in counter
	var sc net.Conn
	if useUTP {
		var srv, cli *utp.Socket
		if err := rcv.Run(func() (err error) {
			srv, err = utp.Listen("udp4", netip.AddrPortFrom(rcv.Addr, 0).String(), utp.Config{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		if err := snd.Run(func() (err error) {
			cli, err = utp.Listen("udp4", netip.AddrPortFrom(snd.Addr, 0).String(), utp.Config{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		go func() {
			if c, err := srv.Accept(); err == nil {
				io.Copy(&in, c)
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if sc, err = cli.Dial(ctx, srv.Addr().(*net.UDPAddr).AddrPort()); err != nil {
			t.Fatal(err)
		}
	} else {
		var ln net.Listener
		if err := rcv.Run(func() (err error) {
			ln, err = net.Listen("tcp4", netip.AddrPortFrom(rcv.Addr, 0).String())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			if c, err := ln.Accept(); err == nil {
				io.Copy(&in, c)
			}
		}()
		if err := snd.Run(func() (err error) {
			sc, err = net.DialTimeout("tcp4", ln.Addr().String(), 10*time.Second)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			select {
			case <-stop:
				sc.Close()
				return
			default:
			}
			sc.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := sc.Write(buf); err != nil && !isTimeout(err) {
				return
			}
		}
	}()
	time.Sleep(span)
	got := in.n.Load()
	close(stop)
	<-done
	return float64(got) / span.Seconds()
}

// TestUTPLossyLinkVsTCP compares gobit's uTP sender with TCP bbr on
// links shaped like WAN scenario (a)'s fast seeders (40 Mbit/s up, 60 and
// 140 ms round trips, 0.2 % random loss each way, a 250 ms drop-tail
// queue): LEDBAT must not take random loss for congestion. It runs with
// GOBIT_WAN_LOSSY=1 only (a minute through the emulator); the figures go
// to docs/performance.md. GOBIT_WAN_LOSSY_LINKS picks other links, as
// comma-separated Mbit/s:RTT-ms pairs ("8:220,40:140"), and
// GOBIT_WAN_LOSSY_SECS the length of each transfer.
func TestUTPLossyLinkVsTCP(t *testing.T) {
	if os.Getenv("GOBIT_WAN_LOSSY") == "" {
		t.Skip("set GOBIT_WAN_LOSSY=1 to run (a minute through the link emulator)")
	}
	if err := netem.Available(); err != nil {
		if testutil.InCI() {
			t.Fatalf("the link emulator cannot run (required when CI=true): %v", err)
		}
		t.Skip("the link emulator cannot run here:", err)
	}
	span := 12 * time.Second
	if v, err := strconv.Atoi(os.Getenv("GOBIT_WAN_LOSSY_SECS")); err == nil && v > 0 {
		span = time.Duration(v) * time.Second
	}
	type link struct {
		rate int64
		rtt  time.Duration
	}
	links := []link{{40 * Mbit, 60 * time.Millisecond}, {40 * Mbit, 140 * time.Millisecond}}
	if v := os.Getenv("GOBIT_WAN_LOSSY_LINKS"); v != "" {
		links = nil
		for _, f := range strings.Split(v, ",") {
			r, ms, _ := strings.Cut(f, ":")
			mb, err1 := strconv.ParseFloat(r, 64)
			d, err2 := strconv.Atoi(ms)
			if err1 != nil || err2 != nil || mb <= 0 || d < 20 {
				t.Fatalf("GOBIT_WAN_LOSSY_LINKS: %q: want Mbit/s:RTT-ms, RTT at least 20", f)
			}
			links = append(links, link{int64(mb * Mbit), time.Duration(d) * time.Millisecond})
		}
	}
	for _, l := range links {
		delay := l.rtt/2 - 5*time.Millisecond // the receiver's link has 5 ms
		u := lossyRate(t, "gobitlu", true, l.rate, delay, 0.002, span)
		c := lossyRate(t, "gobitlt", false, l.rate, delay, 0.002, span)
		t.Logf("%s Mbit/s, RTT %v, 0.2 %% loss, %v from the start: uTP %.2f Mbit/s, TCP bbr %.2f Mbit/s: uTP/TCP %.0f %%",
			mbit(l.rate), l.rtt, span, u*8/1e6, c*8/1e6, 100*u/c)
		if u < 0.5*c {
			t.Errorf("%s Mbit/s, RTT %v: uTP reached %.0f %% of TCP's rate, want at least 50 %%", mbit(l.rate), l.rtt, 100*u/c)
		}
	}
}
