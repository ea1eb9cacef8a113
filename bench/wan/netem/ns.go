package netem

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const netnsDir = "/var/run/netns"

// setupNode creates the node's namespace, its TUN device and its
// configuration. On error the caller removes the namespace.
func (n *Network) setupNode(nd *Node) error {
	if out, err := runIP(nil, "netns", "add", nd.NS); err != nil {
		return fmt.Errorf("netem: ip netns add %s: %v: %s", nd.NS, err, out)
	}
	err := inNS(nd.NS, func() error {
		if err := n.sysctls(); err != nil {
			return err
		}
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("netem: open /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq("tun0")
		if err != nil {
			unix.Close(fd)
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("netem: TUNSETIFF: %w", err)
		}
		nd.fd = fd
		return nil
	})
	if err != nil {
		return err
	}
	batch := fmt.Sprintf("link set lo up\n"+
		"link set tun0 mtu %d txqueuelen 10000 up\n"+
		"addr add %v/%d dev tun0\n"+
		"route add default dev tun0\n",
		n.cfg.MTU, nd.Addr, n.cfg.Subnet.Bits())
	if out, err := runIP(strings.NewReader(batch), "-n", nd.NS, "-batch", "-"); err != nil {
		return fmt.Errorf("netem: configuring %s: %v: %s", nd.NS, err, out)
	}
	return nil
}

// sysctls sets the namespace's sysctls; it runs inside the namespace.
func (n *Network) sysctls() error {
	// IPv6 may be compiled out; its absence is fine.
	writeSysctl("net/ipv6/conf/all/disable_ipv6", "1")
	writeSysctl("net/ipv6/conf/default/disable_ipv6", "1")
	if err := writeSysctl("net/ipv4/tcp_congestion_control", n.cfg.Congestion); err != nil {
		return fmt.Errorf("netem: congestion control %q: %w", n.cfg.Congestion, err)
	}
	if err := writeSysctl("net/ipv4/tcp_no_metrics_save", "1"); err != nil {
		return err
	}
	if b := n.cfg.SocketBuffer; b > 0 {
		b = max(b, 1<<17)
		if err := writeSysctl("net/ipv4/tcp_rmem", fmt.Sprintf("4096 131072 %d", b)); err != nil {
			return err
		}
		if err := writeSysctl("net/ipv4/tcp_wmem", fmt.Sprintf("4096 16384 %d", b)); err != nil {
			return err
		}
	}
	return nil
}

// writeSysctl writes a /proc/sys file of the calling thread's namespace.
func writeSysctl(name, value string) error {
	f, err := os.OpenFile("/proc/sys/"+name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", name, value, err)
	}
	return nil
}

// runIP runs the ip program with a timeout and returns its combined
// output.
func runIP(stdin *strings.Reader, args ...string) (string, error) {
	cmd := exec.Command("ip", args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return strings.TrimSpace(out.String()), err
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		return strings.TrimSpace(out.String()), errors.New("timed out")
	}
}

// inNS runs fn on a locked OS thread that has entered namespace ns.
func inNS(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// If the thread cannot go back to its namespace it stays locked,
		// so the runtime ends it when this goroutine returns.
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("netem: own namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open(filepath.Join(netnsDir, ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netem: namespace %s: %w", ns, err)
			return
		}
		err = unix.Setns(target, unix.CLONE_NEWNET)
		unix.Close(target)
		if err != nil {
			errc <- fmt.Errorf("netem: entering namespace %s: %w", ns, err)
			return
		}
		var ferr error
		func() {
			defer func() {
				if r := recover(); r != nil {
					ferr = fmt.Errorf("netem: panic in namespace %s: %v", ns, r)
				}
			}()
			ferr = fn()
		}()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// deleteNS removes a named namespace (what ip netns del does).
func deleteNS(name string) error {
	p := filepath.Join(netnsDir, name)
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("netem: unmounting %s: %w", p, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("netem: %w", err)
	}
	return nil
}

// namespaces lists the named namespaces.
func namespaces() []string {
	ents, err := os.ReadDir(netnsDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// removePrefix removes every named namespace starting with prefix.
func removePrefix(prefix string) error {
	var errs []error
	for _, name := range namespaces() {
		if strings.HasPrefix(name, prefix) {
			errs = append(errs, deleteNS(name))
		}
	}
	return errors.Join(errs...)
}

// removeStale removes namespaces named prefix-p<pid>n<k>-… whose process
// is gone.
func removeStale(prefix string) {
	for _, name := range namespaces() {
		rest, ok := strings.CutPrefix(name, prefix+"-p")
		if !ok {
			continue
		}
		pidStr, _, ok := strings.Cut(rest, "n")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 {
			continue
		}
		if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
			deleteNS(name)
		}
	}
}
