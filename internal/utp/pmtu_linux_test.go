package utp

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gobit/gobit/internal/testutil"
)

// inNetns runs f on a thread in the network namespace name (sockets it
// opens stay in that namespace).
func inNetns(name string, f func() error) error {
	errC := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread ends with the goroutine
		fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errC <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errC <- err
			return
		}
		errC <- f()
	}()
	return <-errC
}

// TestPathMTUNetns: between two network namespaces joined by a router
// namespace whose second link has an MTU of 1400 (so the path takes UDP
// datagrams of up to 1372 bytes over IPv4 and 1352 over IPv6, while the
// sender's own link takes 1472 and 1452), a connection's packets settle
// within mtuStep below that, the probes that were too large having been
// lost at the router, and a transfer completes whole.
func TestPathMTUNetns(t *testing.T) {
	t.Run("IPv4", func(t *testing.T) { pathMTUNetns(t, false) })
	t.Run("IPv6", func(t *testing.T) { pathMTUNetns(t, true) })
}

func pathMTUNetns(t *testing.T, v6 bool) {
	if testing.Short() {
		t.Skip("-short: builds network namespaces")
	}
	if os.Geteuid() != 0 {
		if testutil.InCI() {
			t.Fatal("network namespaces need root (required when CI=true)")
		}
		t.Skip("network namespaces need root")
	}
	ipBin := testutil.NeedProgram(t, "ip", "iproute2")
	pre := fmt.Sprintf("gpm%d%c", os.Getpid(), map[bool]byte{false: '4', true: '6'}[v6])
	a, r, b := pre+"a", pre+"r", pre+"b"
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{a, r, b} {
		run("netns", "add", ns)
		t.Cleanup(func() { exec.Command(ipBin, "netns", "del", ns).Run() })
	}
	// a (10.201.1.1) -- r -- (10.201.2.2) b; the r-b link has MTU 1400.
	run("link", "add", pre+"x0", "netns", a, "type", "veth", "peer", "name", pre+"x1", "netns", r)
	run("link", "add", pre+"y0", "netns", r, "type", "veth", "peer", "name", pre+"y1", "netns", b)
	addrA, viaA, addrR1, addrR2, addrB, viaB := "10.201.1.1/24", "10.201.1.2", "10.201.1.2/24", "10.201.2.1/24", "10.201.2.2/24", "10.201.2.1"
	network, forward, pathMax := "udp4", "/proc/sys/net/ipv4/ip_forward", 1400-20-8
	var nodad []string
	if v6 {
		addrA, viaA, addrR1, addrR2, addrB, viaB = "fd00:201:1::1/64", "fd00:201:1::2", "fd00:201:1::2/64", "fd00:201:2::1/64", "fd00:201:2::2/64", "fd00:201:2::1"
		network, forward, pathMax = "udp6", "/proc/sys/net/ipv6/conf/all/forwarding", 1400-40-8
		nodad = []string{"nodad"}
	}
	cfg := [][]string{
		append([]string{a, "addr", "add", addrA, "dev", pre + "x0"}, nodad...),
		append([]string{r, "addr", "add", addrR1, "dev", pre + "x1"}, nodad...),
		append([]string{r, "addr", "add", addrR2, "dev", pre + "y0"}, nodad...),
		append([]string{b, "addr", "add", addrB, "dev", pre + "y1"}, nodad...),
		{r, "link", "set", pre + "y0", "mtu", "1400"},
		{b, "link", "set", pre + "y1", "mtu", "1400"},
	}
	for _, c := range cfg {
		run(append([]string{"-n", c[0]}, c[1:]...)...)
	}
	for _, l := range [][2]string{{a, "x0"}, {r, "x1"}, {r, "y0"}, {b, "y1"}} {
		run("-n", l[0], "link", "set", pre+l[1], "up")
	}
	run("-n", a, "route", "add", "default", "via", viaA)
	run("-n", b, "route", "add", "default", "via", viaB)
	if err := inNetns(r, func() error { return os.WriteFile(forward, []byte("1"), 0o644) }); err != nil {
		t.Fatal("forwarding:", err)
	}
	host := func(prefix string) string { h, _, _ := strings.Cut(prefix, "/"); return net.JoinHostPort(h, "0") }

	var sa, sb *Socket
	if err := inNetns(b, func() (err error) { sb, err = Listen(network, host(addrB), Config{}); return err }); err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if err := inNetns(a, func() (err error) { sa, err = Listen(network, host(addrA), Config{}); return err }); err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	if sa.df == nil {
		t.Fatal("no control of the don't-fragment bit on a Linux UDP socket")
	}
	data := randBytes(9, 8<<20)
	got := make(chan []byte, 1)
	go func() {
		c, err := sb.Accept()
		if err != nil {
			got <- nil
			return
		}
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		b, _ := io.ReadAll(io.LimitReader(c, int64(len(data))))
		got <- b
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sa.Dial(ctx, sb.Addr().(*net.UDPAddr).AddrPort())
	if err != nil {
		t.Fatal(err)
	}
	c.SetWriteDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.Write(data); err != nil {
		t.Fatal("write:", err)
	}
	select {
	case b := <-got:
		if string(b) != string(data) {
			t.Fatalf("%d bytes arrived of %d, or not the same", len(b), len(data))
		}
	case <-time.After(90 * time.Second):
		t.Fatal("transfer not done in 90 s")
	}
	sa.mu.Lock()
	floor, ceil, mss := c.mtuFloor, c.mtuCeil, c.mss
	sa.mu.Unlock()
	t.Logf("path takes %d-byte datagrams: packets of %d (search ended below %d)", pathMax, floor, ceil)
	if floor > pathMax || floor < pathMax-mtuStep || mss != floor-headerSize {
		t.Fatalf("packets of %d bytes (payload %d), want %d..%d", floor, mss, pathMax-mtuStep, pathMax)
	}
}
