package swarmtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/lsd"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// The network of the tests below. The test process runs in a namespace of
// its own (inNetns), "A", where the leecher binds to gbvpn0 — the "VPN" —
// whose other end, gbvpnB, is in namespace B (10.99.0.0/24, a gobit
// seeder and a DHT node). A second link, gblan0, leads to namespace C
// (10.98.0.0/24) and carries A's default route: the "LAN" traffic would
// leak to if the kill switch failed. IPv6 is off in all three, so that the
// kernel sends nothing on its own (router solicitations, MLD) and gblan0's
// packet counter counts only what leaks.
type bindNet struct {
	nsB, nsC string
}

const gobitBinEnv = "GOBIT_TEST_NETNS_GOBIT"

// netnsGobit builds gobit before the test runs again in its namespace (the
// child finds it through the environment). It skips (fails under CI)
// without root, like inNetns.
func netnsGobit(t *testing.T) string {
	if os.Getenv(netnsChildEnv) == "1" {
		return os.Getenv(gobitBinEnv)
	}
	if os.Geteuid() != 0 {
		if testutil.InCI() {
			t.Fatal("needs root for network namespaces")
		}
		t.Skip("needs root: creates network namespaces and veth pairs")
	}
	testutil.NeedProgram(t, "ip", "iproute2")
	bin := testutil.BuildGobit(t, t.TempDir())
	t.Setenv(gobitBinEnv, bin)
	return bin
}

// setupBindNet creates namespaces B and C and the links (see bindNet).
func setupBindNet(t *testing.T) *bindNet {
	id := strconv.Itoa(os.Getpid())
	n := &bindNet{nsB: "gobitB" + id, nsC: "gobitC" + id}
	sh(t, "ip link set lo up; sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
	for _, ns := range []string{n.nsB, n.nsC} {
		sh(t, "ip netns add "+ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		sh(t, "ip netns exec "+ns+" sh -ec 'ip link set lo up; sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1'")
	}
	n.vpnUp(t)
	sh(t, fmt.Sprintf(`ip link add gblan0 type veth peer name gblanC netns %[1]s
ip addr add 10.98.0.1/24 dev gblan0
ip link set gblan0 up
ip route add default dev gblan0
ip netns exec %[1]s sh -ec 'ip addr add 10.98.0.2/24 dev gblanC; ip link set gblanC up; ip route add default dev gblanC'`, n.nsC))
	return n
}

// vpnUp creates gbvpn0 (10.99.0.1) and its other end gbvpnB (10.99.0.2) in
// B, where multicast and everything else go out through it.
func (n *bindNet) vpnUp(t *testing.T) {
	t.Helper()
	sh(t, fmt.Sprintf(`ip link add gbvpn0 type veth peer name gbvpnB netns %[1]s
ip addr add 10.99.0.1/24 dev gbvpn0
ip link set gbvpn0 up
ip netns exec %[1]s sh -ec 'ip addr add 10.99.0.2/24 dev gbvpnB; ip link set gbvpnB up; ip route add default dev gbvpnB'`, n.nsB))
}

// inNS runs f on an OS thread moved into namespace ns: the sockets f opens
// live there, whatever thread uses them later. The thread is never
// unlocked, so it ends with its goroutine rather than serve others.
func inNS(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open namespace %s: %w", ns, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// packets returns the received and sent packet counts of iface in the
// test's namespace (sysfs shows the namespace it was mounted in, procfs
// the reading thread's).
func packets(t *testing.T, iface string) (rx, tx uint64) {
	t.Helper()
	data, err := os.ReadFile("/proc/thread-self/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) != iface {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 10 {
			t.Fatalf("/proc/net/dev: %q", sc.Text())
		}
		rx, _ = strconv.ParseUint(f[1], 10, 64)
		tx, _ = strconv.ParseUint(f[9], 10, 64)
		return rx, tx
	}
	t.Fatalf("no interface %s in /proc/net/dev", iface)
	return 0, 0
}

// seed runs `gobit download --seed` in namespace ns on the torrent file,
// whose data is in dir, until the test ends.
func seedIn(t *testing.T, bin, ns, torrentFile, dir string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	argv := append([]string{"netns", "exec", ns, bin, "download", "--seed", "--output", dir,
		"--data-dir", t.TempDir(), "--port", "6881", "--no-port-mapping", "--log-level", "debug"}, args...)
	argv = append(argv, torrentFile)
	cmd := exec.CommandContext(ctx, "ip", argv...)
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("seeder in %s:\n%s", ns, out.String())
		}
	})
	testutil.WaitFor(t, 60*time.Second, "the seeder listening in "+ns, func() bool {
		select {
		case <-exited:
			t.Fatalf("the seeder exited:\n%s", out.String())
		default:
		}
		return inNS(ns, func() error {
			c, err := net.DialTimeout("tcp4", "127.0.0.1:6881", time.Second)
			if err == nil {
				c.Close()
			}
			return err
		}) == nil
	})
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lsdProbe is an LSD instance in a namespace, confined to one interface,
// that records the announces it hears.
type lsdProbe struct {
	l     *lsd.LSD
	mu    sync.Mutex
	heard map[netip.Addr]map[[20]byte]int // source → hash → count
}

func startProbe(t *testing.T, ns, iface string) *lsdProbe {
	t.Helper()
	p := &lsdProbe{heard: make(map[netip.Addr]map[[20]byte]int)}
	err := inNS(ns, func() error {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		p.l, err = lsd.New(lsd.Config{Port: 9, Interface: ifi, OnPeer: func(h [20]byte, a netip.AddrPort) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.heard[a.Addr()] == nil {
				p.heard[a.Addr()] = make(map[[20]byte]int)
			}
			p.heard[a.Addr()][h]++
		}})
		return err
	})
	if err != nil {
		t.Fatalf("LSD probe in %s on %s: %v", ns, iface, err)
	}
	t.Cleanup(func() { p.l.Close() })
	return p
}

// count returns how many announces of h were heard from src (any hash
// when h is zero; any source when src is invalid).
func (p *lsdProbe) count(src netip.Addr, h [20]byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for a, hs := range p.heard {
		if src.IsValid() && a != src {
			continue
		}
		for hh, c := range hs {
			if h == ([20]byte{}) || hh == h {
				n += c
			}
		}
	}
	return n
}

// waitPing waits until ping succeeds, retrying after failures, and fails
// the test with the last error at the deadline.
func waitPing(t *testing.T, timeout time.Duration, what string, ping func() error) {
	t.Helper()
	var last error
	if !testutil.Eventually(timeout, func() bool {
		last = ping()
		return last == nil
	}) {
		t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, last)
	}
}

// logBook is a logger whose text the test can search.
type logBook struct{ buf syncBuf }

func (b *logBook) logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(&b.buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func (b *logBook) has(s string) bool { return strings.Contains(b.buf.String(), s) }

// writeTorrent makes a payload and its torrent file in dir.
func writeTorrent(t *testing.T, dir, name string, seed uint64, size int) (root, file string, mi *metainfo.MetaInfo) {
	t.Helper()
	root = Payload(t, filepath.Join(dir, "seed"), name, seed, map[string]int{"": size})
	data, mi := MakeTorrent(t, root, 64<<10)
	file = filepath.Join(dir, name+".torrent")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return root, file, mi
}

// TestBindInterfaceLSD: a leecher bound to gbvpn0 finds a gobit seeder in
// namespace B by local service discovery alone (no tracker, DHT or peer
// in the magnet) and downloads from it; its announces reach a listener in
// B, and none reaches a listener behind gblan0 (namespace C), the way of
// A's default route, nor does any packet leave by gblan0.
func TestBindInterfaceLSD(t *testing.T) {
	bin := netnsGobit(t)
	if !inNetns(t) {
		return
	}
	n := setupBindNet(t)
	dir := t.TempDir()
	root, tf, mi := writeTorrent(t, dir, "lsd.bin", 41, 1<<20)
	seedIn(t, bin, n.nsB, tf, filepath.Join(dir, "seed"), "--no-dht")
	probeB := startProbe(t, n.nsB, "gbvpnB")
	probeC := startProbe(t, n.nsC, "gblanC")
	_, tx0 := packets(t, "gblan0")

	var log logBook
	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), ListenAddr: "",
		BindInterface: "gbvpn0", LSD: true, UTP: true, Logger: log.logger(t)})
	if leech.LSDAddr().Port() != 6771 {
		t.Fatalf("the bound leecher's LSD is not listening on the group's port: %v", leech.LSDAddr())
	}
	hash := mi.InfoHash.String()
	if _, err := leech.Add(context.Background(), session.AddRequest{URI: "magnet:?xt=urn:btih:" + hash}); err != nil {
		t.Fatal(err)
	}
	noLeak := func() {
		t.Helper()
		if c := probeC.count(netip.Addr{}, [20]byte{}); c > 0 {
			t.Fatalf("%d LSD announces heard behind gblan0: %+v", c, probeC.heard)
		}
		if _, tx := packets(t, "gblan0"); tx != tx0 {
			t.Fatalf("%d packets left by gblan0", tx-tx0)
		}
	}
	testutil.WaitFor(t, 90*time.Second, "the download found by LSD", func() bool {
		noLeak()
		st := Status(t, leech, hash)
		if st.State == session.StateError {
			t.Fatalf("leecher: %s", st.Error)
		}
		return st.State == session.StateSeeding
	})
	SameTree(t, root, filepath.Join(dir, "leech", "lsd.bin"))
	testutil.WaitFor(t, 30*time.Second, "the leecher's announce heard in B", func() bool {
		return probeB.count(netip.MustParseAddr("10.99.0.1"), mi.InfoHash) > 0
	})
	noLeak()
	if !log.has("local service discovery on the bound interface only") {
		t.Fatalf("log:\n%s", log.buf.String())
	}

	// The probe in C and the counter do see what goes that way: an
	// announce sent unbound, by the default route.
	other := [20]byte{1, 2, 3}
	msg, err := lsd.Encode(lsd.Message{Host: lsd.DefaultGroup4, Port: 7000, InfoHashes: [][20]byte{other}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp4", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	testutil.WaitFor(t, 10*time.Second, "an unbound announce heard behind gblan0", func() bool {
		c.WriteToUDPAddrPort(msg, netip.MustParseAddrPort(lsd.DefaultGroup4))
		return probeC.count(netip.MustParseAddr("10.98.0.1"), other) > 0
	})
	if _, tx := packets(t, "gblan0"); tx == tx0 {
		t.Fatal("gblan0's counter did not count the unbound announce")
	}
}

// TestBindInterfaceReturns: the interface a leecher is bound to is deleted
// while it downloads: the status and log say so, no packet leaves by
// another interface (though A's default route leads there), and a DHT
// node in B gets no answer; the interface is created again (the same name
// and address, a new device, as a VPN reconnecting): the listener, the
// UDP socket of uTP and the DHT, and LSD open again on it, the DHT node's
// pings are answered again and the download completes.
func TestBindInterfaceReturns(t *testing.T) {
	bin := netnsGobit(t)
	if !inNetns(t) {
		return
	}
	n := setupBindNet(t)
	dir := t.TempDir()
	root, tf, mi := writeTorrent(t, dir, "vpn.bin", 42, 6<<20)
	seedIn(t, bin, n.nsB, tf, filepath.Join(dir, "seed"), "--no-dht")

	// A DHT node in B, on every address there (it outlives gbvpnB).
	var node *dht.Server
	if err := inNS(n.nsB, func() error {
		pc, err := net.ListenPacket("udp4", "0.0.0.0:7000")
		if err != nil {
			return err
		}
		t.Cleanup(func() { pc.Close() })
		node, err = dht.New(dht.Config{Conn: pc, Network: "udp4", QueryTimeout: time.Second})
		if err != nil {
			return err
		}
		node.Start()
		t.Cleanup(func() { node.Close() })
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	var log logBook
	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), ListenAddr: "",
		BindInterface: "gbvpn0", UTP: true, LSD: true, DHT: true, DHTBootstrap: []string{"10.99.0.2:7000"},
		DownloadLimit: 512 << 10, Logger: log.logger(t)})
	leechDHT := netip.AddrPortFrom(netip.MustParseAddr("10.99.0.1"), uint16(leech.Port()))
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := node.Ping(ctx, leechDHT)
		return err
	}
	waitPing(t, 20*time.Second, "the leecher's DHT answers a ping from B", ping)

	hash := mi.InfoHash.String()
	magnet := fmt.Sprintf("magnet:?xt=urn:btih:%s&x.pe=10.99.0.2:6881", hash)
	if _, err := leech.Add(context.Background(), session.AddRequest{URI: magnet}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 60*time.Second, "the download under way", func() bool {
		c := Status(t, leech, hash).Completed
		return c >= 1<<20 && c < 4<<20
	})

	// The VPN goes away.
	_, tx0 := packets(t, "gblan0")
	sh(t, "ip link del gbvpn0")
	testutil.WaitFor(t, 10*time.Second, "network_state gone, and logged", func() bool {
		st := leech.Settings().NetPathStatus
		return st.NetworkState == "gone" && strings.Contains(st.NetworkError, "gone") && st.NetworkChanged != "" &&
			log.has("network traffic stopped (kill switch): bound interface gone")
	})
	t.Logf("status while gone: %+v", leech.Settings().NetPathStatus)
	// Meanwhile the leecher keeps trying (dials, DHT, LSD): for a few
	// seconds nothing leaves by gblan0, nothing is downloaded, and B's
	// DHT node gets no answer.
	held := Status(t, leech, hash).Completed
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		if _, tx := packets(t, "gblan0"); tx != tx0 {
			t.Fatalf("%d packets left by gblan0 with the bound interface gone", tx-tx0)
		}
		if ping() == nil {
			t.Fatal("the leecher's DHT answered with its interface gone")
		}
	}
	if c := Status(t, leech, hash).Completed; c > held+(256<<10) {
		t.Fatalf("downloaded %d bytes with the interface gone", c-held)
	}

	// It is back: a new device with the same name and address.
	n.vpnUp(t)
	backAt := time.Now()
	testutil.WaitFor(t, 20*time.Second, "network_state up again, and logged", func() bool {
		st := leech.Settings().NetPathStatus
		return st.NetworkState == "up" && st.NetworkError == "" && st.NetworkReopens >= 1 &&
			log.has("bound interface back: traffic resumes")
	})
	t.Logf("status when back: %+v", leech.Settings().NetPathStatus)
	waitPing(t, 30*time.Second, "the leecher's DHT answers B's pings again", ping)
	t.Logf("DHT answers %v after the interface came back", time.Since(backAt).Round(time.Millisecond))
	st := WaitState(t, leech, hash, 120*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("after the interface came back: %s %s", st.State, st.Error)
	}
	SameTree(t, root, filepath.Join(dir, "leech", "vpn.bin"))
	t.Logf("complete %v after the interface came back (%d of %d bytes were left)", time.Since(backAt).Round(time.Millisecond), int64(6<<20)-held, 6<<20)
	if _, tx := packets(t, "gblan0"); tx != tx0 {
		t.Fatalf("%d packets left by gblan0", tx-tx0)
	}

	// A reconnect quicker than the session's check: the device is new
	// (a new index), so the sockets open again all the same.
	sh(t, "ip link del gbvpn0")
	n.vpnUp(t)
	testutil.WaitFor(t, 20*time.Second, "the sockets re-opened on the new device", func() bool {
		st := leech.Settings().NetPathStatus
		return st.NetworkState == "up" && st.NetworkReopens >= 2
	})
	waitPing(t, 30*time.Second, "the leecher's DHT answers after a quick reconnect", ping)
	if _, tx := packets(t, "gblan0"); tx != tx0 {
		t.Fatalf("%d packets left by gblan0", tx-tx0)
	}

	// The counter does count what takes the default route.
	c, err := net.ListenUDP("udp4", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	testutil.WaitFor(t, 10*time.Second, "an unbound datagram counted on gblan0", func() bool {
		c.WriteToUDPAddrPort([]byte("x"), netip.MustParseAddrPort("10.98.0.2:9"))
		_, tx := packets(t, "gblan0")
		return tx > tx0
	})
}
