package netem

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// needNetem skips the test when the emulator cannot run here, or fails it
// under CI=true.
func needNetem(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if testutil.InCI() {
			t.Fatalf("%v (required when CI=true)", err)
		}
		t.Skipf("bench/wan/netem: %v", err)
	}
}

// newNet makes a started Network with the given nodes, closed when the
// test ends.
func newNet(t testing.TB, cfg Config, links map[string]Link) (*Network, map[string]*Node) {
	t.Helper()
	needNetem(t)
	if cfg.Prefix == "" {
		cfg.Prefix = "gobitwantest"
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	names := make([]string, 0, len(links))
	for name := range links {
		names = append(names, name)
	}
	slices.Sort(names)
	nodes := map[string]*Node{}
	for _, name := range names {
		nd, err := n.AddNode(name, links[name])
		if err != nil {
			t.Fatal(err)
		}
		nodes[name] = nd
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	return n, nodes
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*want {
		t.Errorf("%s = %.4g, want %.4g ± %.0f %%", what, got, want, tol*100)
	} else {
		t.Logf("%s = %.4g (configured %.4g)", what, got, want)
	}
}

// udpEcho starts a UDP echo server on nd and returns its address.
func udpEcho(t *testing.T, nd *Node) netip.AddrPort {
	t.Helper()
	var pc net.PacketConn
	err := nd.Run(func() (err error) {
		pc, err = net.ListenPacket("udp4", netip.AddrPortFrom(nd.Addr, 0).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			k, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:k], from)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// udpRTT returns the median of several UDP round trips from nd to echo.
func udpRTT(t *testing.T, nd *Node, echo netip.AddrPort) time.Duration {
	t.Helper()
	var c net.Conn
	if err := nd.Run(func() (err error) {
		c, err = net.Dial("udp4", echo.String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var rtts []time.Duration
	buf := make([]byte, 64)
	for i := range 7 {
		binary.BigEndian.PutUint32(buf, uint32(i))
		start := time.Now()
		if _, err := c.Write(buf[:8]); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		for {
			k, err := c.Read(buf)
			if err != nil {
				t.Fatalf("ping %d: %v", i, err)
			}
			if k == 8 && binary.BigEndian.Uint32(buf) == uint32(i) {
				break
			}
		}
		rtts = append(rtts, time.Since(start))
	}
	slices.Sort(rtts)
	return rtts[len(rtts)/2]
}

func TestRoundTrip(t *testing.T) {
	n, nd := newNet(t, Config{}, map[string]Link{
		"a": {Delay: 30 * time.Millisecond},
		"b": {Delay: 50 * time.Millisecond},
	})
	a, b := nd["a"], nd["b"]

	var ln net.Listener
	if err := b.Run(func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(b.Addr, 0).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	var connect, echo time.Duration
	if err := a.Run(func() error {
		start := time.Now()
		c, err := net.DialTimeout("tcp4", ln.Addr().String(), 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		connect = time.Since(start)
		start = time.Now()
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
			return err
		}
		echo = time.Since(start)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	within(t, "TCP connect time (s)", connect.Seconds(), 0.160, 0.10)
	within(t, "TCP echo time (s)", echo.Seconds(), 0.160, 0.10)

	ep := udpEcho(t, b)
	within(t, "UDP round trip (s)", udpRTT(t, a, ep).Seconds(), 0.160, 0.10)

	// A link changed at run time takes effect.
	n.SetLink(a, Link{Delay: 10 * time.Millisecond})
	within(t, "UDP round trip after SetLink (s)", udpRTT(t, a, ep).Seconds(), 0.120, 0.10)
}

func TestThroughputTCP(t *testing.T) {
	const rate = 20e6
	const size = 5 << 20
	n, nd := newNet(t, Config{}, map[string]Link{
		"a": {UpRate: rate, DownRate: 100e6, Delay: 5 * time.Millisecond},
		"b": {UpRate: 100e6, DownRate: 100e6, Delay: 5 * time.Millisecond},
	})
	a, b := nd["a"], nd["b"]
	var ln net.Listener
	if err := b.Run(func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(b.Addr, 0).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		n   int64
		dur time.Duration
		err error
	}
	res := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			res <- result{err: err}
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		start := time.Now()
		k, err := io.Copy(io.Discard, c)
		res <- result{k, time.Since(start), err}
	}()
	var c net.Conn
	if err := a.Run(func() (err error) {
		c, err = net.DialTimeout("tcp4", ln.Addr().String(), 5*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c.SetWriteDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	r := <-res
	if r.err != nil || r.n != size {
		t.Fatalf("received %d bytes of %d: %v", r.n, size, r.err)
	}
	goodput := float64(r.n) * 8 / r.dur.Seconds()
	t.Logf("goodput %.2f Mbit/s over %v (%.1f %% of the rate)", goodput/1e6, r.dur, goodput/rate*100)
	// Payload per 1500-byte packet is 1448 bytes (IP, TCP and timestamp
	// headers): 96.5 % at most.
	if goodput < 0.85*rate || goodput > 1.02*rate {
		t.Errorf("goodput %.2f Mbit/s, want 85-102 %% of %.0f", goodput/1e6, rate/1e6)
	}
	st := n.Stats()
	t.Logf("a: %+v", st[0])
	if st[0].Up.Bytes < size {
		t.Errorf("a's uplink carried %d bytes, less than the %d sent", st[0].Up.Bytes, size)
	}
}

// udpSink listens for UDP on nd and records every datagram's first 4 bytes
// (a sequence number) and arrival time until stopped.
type udpSink struct {
	pc    net.PacketConn
	mu    sync.Mutex
	seqs  []uint32
	times []time.Time
	bytes int
}

func newUDPSink(t *testing.T, nd *Node) *udpSink {
	t.Helper()
	s := &udpSink{}
	if err := nd.Run(func() (err error) {
		s.pc, err = net.ListenPacket("udp4", netip.AddrPortFrom(nd.Addr, 0).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.pc.(*net.UDPConn).SetReadBuffer(4 << 20)
	t.Cleanup(func() { s.pc.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			k, _, err := s.pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if k < 4 {
				continue
			}
			s.mu.Lock()
			s.seqs = append(s.seqs, binary.BigEndian.Uint32(buf))
			s.times = append(s.times, time.Now())
			s.bytes += k
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *udpSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seqs)
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// sendUDP sends count datagrams of size bytes with sequence numbers from
// nd to dst, perBurst at a time with pause between bursts.
func sendUDP(t *testing.T, nd *Node, dst net.Addr, count, size, perBurst int, pause time.Duration) {
	t.Helper()
	var c net.Conn
	if err := nd.Run(func() (err error) {
		c, err = net.Dial("udp4", dst.String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, size)
	for i := range count {
		binary.BigEndian.PutUint32(buf, uint32(i))
		if _, err := c.Write(buf); err != nil && !errors.Is(err, syscallENOBUFS) {
			t.Fatal(err)
		}
		if (i+1)%perBurst == 0 {
			time.Sleep(pause)
		}
	}
}

func TestLossUDP(t *testing.T) {
	const p, count = 0.05, 5000
	n, nd := newNet(t, Config{Seed: 7}, map[string]Link{
		"a": {Loss: p, Delay: time.Millisecond},
		"b": {Delay: time.Millisecond},
	})
	sink := newUDPSink(t, nd["b"])
	sendUDP(t, nd["a"], sink.pc.LocalAddr(), count, 200, 20, time.Millisecond)
	lost := func() int { return int(n.Stats()[0].Up.LossDrops) }
	if !waitFor(5*time.Second, func() bool { return sink.count()+lost() >= count }) {
		t.Fatalf("received %d + lost %d of %d datagrams (other losses: %+v)", sink.count(), lost(), count, n.Stats())
	}
	got := sink.count()
	sigma := math.Sqrt(count * p * (1 - p))
	t.Logf("received %d of %d (expected %.0f ± %.1f); stats %+v", got, count, count*(1-p), sigma, n.Stats())
	if math.Abs(float64(got)-count*(1-p)) > 5*sigma {
		t.Errorf("received %d of %d datagrams with loss %.2f: outside 5 sigma (%.1f)", got, count, p, sigma)
	}
	if got+lost() != count {
		t.Errorf("received %d + lost %d != sent %d", got, lost(), count)
	}
	// Only a's link drops: b's downlink passed every datagram a's uplink did.
	if st := n.Stats(); st[1].Down.Packets != int64(got) || st[1].Down.LossDrops != 0 {
		t.Errorf("b's downlink: %+v, want %d packets, no drops", st[1].Down, got)
	}
}

func TestQueueUDP(t *testing.T) {
	const rate = 10e6
	const size = 1000 // payload; 1028 bytes on the wire
	n, nd := newNet(t, Config{}, map[string]Link{
		"a": {UpRate: rate, QueueBytes: 30000, Delay: 10 * time.Millisecond},
		"b": {Delay: 10 * time.Millisecond},
	})
	sink := newUDPSink(t, nd["b"])
	// About 3x the rate for about a second.
	sendUDP(t, nd["a"], sink.pc.LocalAddr(), 3600, size, 4, time.Millisecond)
	sent := func() int64 { return n.Stats()[0].Up.Packets }
	if !waitFor(5*time.Second, func() bool { return int64(sink.count()) >= sent() }) {
		t.Fatalf("received %d of %d datagrams the uplink passed", sink.count(), sent())
	}
	st := n.Stats()[0].Up
	t.Logf("a's uplink: %+v", st)
	if st.QueueDrops == 0 {
		t.Errorf("no queue drops when sending 3x the rate")
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	k := len(sink.seqs)
	if k < 100 {
		t.Fatalf("only %d datagrams received", k)
	}
	span := sink.times[k-1].Sub(sink.times[0]).Seconds()
	within(t, "delivered rate (bit/s)", float64(k-1)*(size+28)*8/span, rate, 0.10)
	for i := 1; i < k; i++ {
		if sink.seqs[i] <= sink.seqs[i-1] {
			t.Fatalf("datagram %d arrived after %d: not FIFO", sink.seqs[i], sink.seqs[i-1])
		}
	}
}

func TestCloseRemovesNamespaces(t *testing.T) {
	needNetem(t)
	n, err := New(Config{Prefix: "gobitwantest"})
	if err != nil {
		t.Fatal(err)
	}
	var nss []string
	for _, name := range []string{"x", "y", "z"} {
		nd, err := n.AddNode(name, Link{})
		if err != nil {
			n.Close()
			t.Fatal(err)
		}
		nss = append(nss, nd.NS)
	}
	if _, err := n.AddNode("x", Link{}); err == nil {
		t.Errorf("a second node named x was accepted")
	}
	if _, err := n.AddNode("bad/name", Link{}); err == nil {
		t.Errorf("a node named bad/name was accepted")
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	// A node added after Start is reachable.
	w, err := n.AddNode("w", Link{Delay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	nss = append(nss, w.NS)
	list := func() string {
		out, err := exec.Command("ip", "netns", "list").CombinedOutput()
		if err != nil {
			t.Fatalf("ip netns list: %v: %s", err, out)
		}
		return string(out)
	}
	before := list()
	for _, ns := range nss {
		if !strings.Contains(before, ns) {
			t.Errorf("namespace %s missing before Close:\n%s", ns, before)
		}
	}
	if rtt := udpRTT(t, w, udpEcho(t, n.Nodes()[0])); rtt < 2*time.Millisecond || rtt > time.Second {
		t.Errorf("round trip from a node added after Start: %v, want about 2 ms", rtt)
	}
	// Command runs in the node's namespace.
	out, err := w.Command(context.Background(), "ip", "-4", "-o", "addr", "show", "dev", "tun0").CombinedOutput()
	if err != nil || !strings.Contains(string(out), w.Addr.String()+"/") {
		t.Errorf("ip addr in %s: %v: %s", w.NS, err, out)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	after := list()
	for _, ns := range nss {
		if strings.Contains(after, ns) {
			t.Errorf("namespace %s left after Close:\n%s", ns, after)
		}
	}
}
