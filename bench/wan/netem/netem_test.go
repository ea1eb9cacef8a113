package netem

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
	"golang.org/x/sys/unix"
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

// udpRTT returns the shortest of several UDP round trips from nd to echo:
// a loaded machine can only make a measurement longer.
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
	return slices.Min(rtts)
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
	// The shortest of a few: a loaded machine can only make them longer.
	connect, echo := time.Hour, time.Hour
	for range 3 {
		if err := a.Run(func() error {
			start := time.Now()
			c, err := net.DialTimeout("tcp4", ln.Addr().String(), 5*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			connect = min(connect, time.Since(start))
			for range 3 {
				start = time.Now()
				if _, err := c.Write([]byte("ping")); err != nil {
					return err
				}
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
					return err
				}
				echo = min(echo, time.Since(start))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
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
	retry(t, 3, func() error {
		before := n.Stats()[0].Up.Bytes
		tr, err := tcpTransfer(nd["a"], nd["b"], size)
		if err != nil {
			return err
		}
		if carried := n.Stats()[0].Up.Bytes - before; carried < size {
			return fmt.Errorf("a's uplink carried %d bytes, less than the %d sent", carried, size)
		}
		// Payload per 1500-byte packet is 1448 bytes (IP, TCP and
		// timestamp headers): 96.5 % at most.
		goodput := size * 8 / tr.total.Seconds()
		t.Logf("goodput %.2f Mbit/s over %v (%.1f %% of the rate)", goodput/1e6, tr.total, goodput/rate*100)
		if goodput < 0.85*rate || goodput > 1.02*rate {
			return fmt.Errorf("goodput %.2f Mbit/s, want 85-102 %% of %.0f", goodput/1e6, rate/1e6)
		}
		return nil
	})
}

// retry runs measure up to tries times until it succeeds, and fails the
// test with the last error when it never does. A loaded machine can starve
// a test's own sender or receiver and spoil one timing measurement.
func retry(t *testing.T, tries int, measure func() error) {
	t.Helper()
	for i := 1; ; i++ {
		err := measure()
		if err == nil {
			return
		}
		if i == tries {
			t.Error(err)
			return
		}
		t.Logf("attempt %d: %v; measuring again", i, err)
	}
}

// udpSink listens for UDP on nd and records every datagram's first 4 bytes
// (a sequence number) and the kernel's receive time until closed.
type udpSink struct {
	pc    *net.UDPConn
	mu    sync.Mutex
	seqs  []uint32
	times []time.Time
}

func newUDPSink(t *testing.T, nd *Node) *udpSink {
	t.Helper()
	s := &udpSink{}
	if err := nd.Run(func() error {
		pc, err := net.ListenPacket("udp4", netip.AddrPortFrom(nd.Addr, 0).String())
		if err == nil {
			s.pc = pc.(*net.UDPConn)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.pc.SetReadBuffer(4 << 20)
	rc, err := s.pc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	t.Cleanup(func() { s.pc.Close() })
	go func() {
		buf := make([]byte, 65536)
		oob := make([]byte, 256)
		for {
			k, oobn, _, _, err := s.pc.ReadMsgUDP(buf, oob)
			if err != nil {
				return
			}
			if k < 4 {
				continue
			}
			at := time.Now()
			if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
				for _, m := range msgs {
					if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
						sec := int64(binary.NativeEndian.Uint64(m.Data))
						nsec := int64(binary.NativeEndian.Uint64(m.Data[8:]))
						at = time.Unix(sec, nsec)
					}
				}
			}
			s.mu.Lock()
			s.seqs = append(s.seqs, binary.BigEndian.Uint32(buf))
			s.times = append(s.times, at)
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

// reset forgets what was received.
func (s *udpSink) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seqs, s.times = nil, nil
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
		if _, err := c.Write(buf); err != nil && !errors.Is(err, unix.ENOBUFS) {
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
	retry(t, 3, func() error {
		sink.reset()
		before := n.Stats()[0].Up
		// About 3x the rate for about a second.
		sendUDP(t, nd["a"], sink.pc.LocalAddr(), 3600, size, 4, time.Millisecond)
		passed := func() int64 { return n.Stats()[0].Up.Packets - before.Packets }
		if !waitFor(5*time.Second, func() bool { return int64(sink.count()) >= passed() }) {
			return fmt.Errorf("received %d of %d datagrams the uplink passed", sink.count(), passed())
		}
		st := n.Stats()[0].Up
		t.Logf("a's uplink: %+v", st)
		if st.QueueDrops == before.QueueDrops {
			return fmt.Errorf("no queue drops when sending 3x the rate")
		}
		sink.mu.Lock()
		defer sink.mu.Unlock()
		k := len(sink.seqs)
		if k < 100 {
			return fmt.Errorf("only %d datagrams received", k)
		}
		for i := 1; i < k; i++ {
			if sink.seqs[i] <= sink.seqs[i-1] {
				t.Fatalf("datagram %d arrived after %d: not FIFO", sink.seqs[i], sink.seqs[i-1])
			}
		}
		// The rate while the link was busy: gaps over 5 ms (the sender
		// starved on a loaded machine and the queue ran empty) are left out.
		var busy time.Duration
		bits := 0.0
		for i := 1; i < k; i++ {
			if gap := sink.times[i].Sub(sink.times[i-1]); gap <= 5*time.Millisecond {
				busy += gap
				bits += (size + 28) * 8
			}
		}
		got := bits / busy.Seconds()
		t.Logf("delivered rate %.4g bit/s over %v busy (configured %.4g)", got, busy, rate)
		if busy < 500*time.Millisecond || math.Abs(got-rate) > 0.1*rate {
			return fmt.Errorf("delivered rate %.4g bit/s over %v busy, want %.4g ± 10 %%", got, busy, rate)
		}
		return nil
	})
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

// transfer is the outcome of tcpTransfer.
type transfer struct {
	total time.Duration // from connect to the receiver's EOF
	// second is the goodput in bit/s over the second half of the bytes,
	// past TCP's startup.
	second float64
}

// tcpTransfer sends size bytes over TCP from a to b.
func tcpTransfer(a, b *Node, size int64) (transfer, error) {
	var ln net.Listener
	if err := b.Run(func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(b.Addr, 0).String())
		return err
	}); err != nil {
		return transfer{}, err
	}
	defer ln.Close()
	type result struct {
		n    int64
		half time.Time
		err  error
	}
	res := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			res <- result{err: err}
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(120 * time.Second))
		var r result
		buf := make([]byte, 64<<10)
		for {
			k, err := c.Read(buf)
			r.n += int64(k)
			if r.half.IsZero() && r.n >= size/2 {
				r.half = time.Now()
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				r.err = err
				break
			}
		}
		res <- r
	}()
	start := time.Now()
	var c net.Conn
	if err := a.Run(func() (err error) {
		c, err = net.DialTimeout("tcp4", ln.Addr().String(), 5*time.Second)
		return err
	}); err != nil {
		return transfer{}, err
	}
	c.SetWriteDeadline(time.Now().Add(120 * time.Second))
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		k := min(left, int64(len(buf)))
		if _, err := c.Write(buf[:k]); err != nil {
			c.Close()
			return transfer{}, err
		}
		left -= k
	}
	c.Close()
	r := <-res
	if r.err != nil || r.n != size {
		return transfer{}, fmt.Errorf("received %d bytes of %d: %v", r.n, size, r.err)
	}
	end := time.Now()
	return transfer{total: end.Sub(start), second: float64(size-size/2) * 8 / end.Sub(r.half).Seconds()}, nil
}

// BenchmarkCarry200Mbit measures the emulator's CPU per GB of TCP payload
// carried over a 200 Mbit/s link (run with -bench Carry -benchtime 4x).
func BenchmarkCarry200Mbit(b *testing.B) {
	for _, mtu := range []int{1500, 9000} {
		b.Run(fmtInt("mtu", mtu), func(b *testing.B) {
			const rate = 200e6
			const size = 64 << 20
			n, nd := newNet(b, Config{MTU: mtu}, map[string]Link{
				"a": {UpRate: rate, Delay: 10 * time.Millisecond},
				"b": {DownRate: rate, Delay: 10 * time.Millisecond},
			})
			cpu0 := n.CPU()
			var total time.Duration
			for range b.N {
				tr, err := tcpTransfer(nd["a"], nd["b"], size)
				if err != nil {
					b.Fatal(err)
				}
				total += tr.total
			}
			gb := float64(b.N) * size / 1e9
			b.ReportMetric((n.CPU()-cpu0).Seconds()/gb, "cpu-s/GB")
			b.ReportMetric(gb*8e3/total.Seconds(), "Mbit/s")
			st := n.Stats()
			b.ReportMetric(float64(st[0].Up.Packets+st[1].Up.Packets)/gb/1e6, "Mpkt/GB")
		})
	}
}

func fmtInt(name string, v int) string { return name + "=" + strconv.Itoa(v) }

// TestSharedDownlink sends TCP from two nodes to a third whose downlink is
// the bottleneck: together they get its rate.
func TestSharedDownlink(t *testing.T) {
	const rate = 20e6
	const size = 3 << 20
	n, nd := newNet(t, Config{}, map[string]Link{
		"a": {UpRate: 100e6, Delay: 5 * time.Millisecond},
		"c": {UpRate: 100e6, Delay: 5 * time.Millisecond},
		"b": {DownRate: rate, Delay: 5 * time.Millisecond},
	})
	retry(t, 3, func() error {
		before := n.Stats()
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, from := range []string{"a", "c"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = tcpTransfer(nd[from], nd["b"], size)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		goodput := 2 * size * 8 / time.Since(start).Seconds()
		t.Logf("goodput %.2f Mbit/s (%.1f %% of the rate)", goodput/1e6, goodput/rate*100)
		st := n.Stats()
		if st[1].Down.Bytes-before[1].Down.Bytes < 2*size || st[0].Up.Bytes-before[0].Up.Bytes < size || st[2].Up.Bytes-before[2].Up.Bytes < size {
			return fmt.Errorf("stats do not account for the transfers: %+v", st)
		}
		if cpu := n.CPU(); cpu <= 0 || cpu > 2*time.Since(n.start) {
			return fmt.Errorf("emulator CPU %v over %v: not plausible", cpu, time.Since(n.start))
		}
		if goodput < 0.85*rate || goodput > 1.02*rate {
			return fmt.Errorf("goodput %.2f Mbit/s, want 85-102 %% of %.0f", goodput/1e6, rate/1e6)
		}
		return nil
	})
}

// TestNamespaceSettings checks the sysctls each namespace gets.
func TestNamespaceSettings(t *testing.T) {
	read := func(nd *Node, name string) string {
		var v string
		if err := nd.Run(func() error {
			b, err := os.ReadFile("/proc/sys/" + name)
			v = strings.Join(strings.Fields(string(b)), " ")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		cfg      Config
		cc, rmem string
	}{
		{Config{}, "bbr", "4096 131072 16777216"},
		{Config{Congestion: "cubic", SocketBuffer: 8 << 20, MTU: 9000}, "cubic", "4096 131072 8388608"},
	} {
		_, nd := newNet(t, tc.cfg, map[string]Link{"a": {}})
		a := nd["a"]
		if got := read(a, "net/ipv4/tcp_congestion_control"); got != tc.cc {
			t.Errorf("%+v: tcp_congestion_control %q, want %q", tc.cfg, got, tc.cc)
		}
		if got := read(a, "net/ipv4/tcp_rmem"); got != tc.rmem {
			t.Errorf("%+v: tcp_rmem %q, want %q", tc.cfg, got, tc.rmem)
		}
		if got := read(a, "net/ipv6/conf/all/disable_ipv6"); got != "1" {
			t.Errorf("%+v: disable_ipv6 %q", tc.cfg, got)
		}
		mtu := max(tc.cfg.MTU, 1500)
		if got := read(a, "net/ipv4/tcp_no_metrics_save"); got != "1" {
			t.Errorf("%+v: tcp_no_metrics_save %q", tc.cfg, got)
		}
		out, err := a.Command(context.Background(), "ip", "-o", "link", "show", "dev", "tun0").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "mtu "+strconv.Itoa(mtu)+" ") {
			t.Errorf("%+v: tun0 %v: %s", tc.cfg, err, out)
		}
	}
}

// TestManySenders has seeders of mixed rates and distances send to one
// leecher at once: each gets its own uplink's rate, so the leecher
// receives their sum.
func TestManySenders(t *testing.T) {
	rates := []int64{2e6, 4e6, 8e6, 16e6, 30e6}
	links := map[string]Link{"l": {DownRate: 200e6, UpRate: 20e6, Delay: 10 * time.Millisecond}}
	for i, r := range rates {
		links["s"+strconv.Itoa(i)] = Link{UpRate: r, DownRate: 100e6, Delay: time.Duration(5+10*i) * time.Millisecond}
	}
	start := time.Now()
	_, nd := newNet(t, Config{}, links)
	t.Logf("%d nodes set up in %v", len(links), time.Since(start))
	// Long enough that TCP's startup (a few round trips of up to 110 ms)
	// costs little: each flow's goodput over its whole transfer, which a
	// loaded machine can only lower, must be near its uplink's rate.
	const secs = 4
	retry(t, 3, func() error {
		var wg sync.WaitGroup
		got := make([]float64, len(rates))
		errs := make([]error, len(rates))
		for i, r := range rates {
			wg.Add(1)
			go func() {
				defer wg.Done()
				size := int64(float64(r) * secs / 8)
				tr, err := tcpTransfer(nd["s"+strconv.Itoa(i)], nd["l"], size)
				if err != nil {
					errs[i] = fmt.Errorf("s%d: %w", i, err)
					return
				}
				got[i] = float64(size) * 8 / tr.total.Seconds()
				t.Logf("s%d: %.2f Mbit/s over its second half", i, tr.second/1e6)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		for i, r := range rates {
			t.Logf("s%d: %.2f Mbit/s of %.0f (%.1f %%)", i, got[i]/1e6, float64(r)/1e6, got[i]/float64(r)*100)
			if got[i] < 0.75*float64(r) || got[i] > 1.0*float64(r) {
				return fmt.Errorf("s%d: goodput %.2f Mbit/s, want 75-100 %% of %.0f", i, got[i]/1e6, float64(r)/1e6)
			}
		}
		return nil
	})
}
