package benchkit

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// WriteTrackerFiles prepares dir for opentracker: a whitelist with hash
// and a configuration that serves /stats to statsFrom (an IPv4 address).
// Debian's opentracker is whitelist-only and IPv4-only; as root it
// switches to "nobody" and chroots to its directory, so the directory and
// files are made world-readable.
func WriteTrackerFiles(dir string, hash [20]byte, statsFrom string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("opentracker: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("opentracker: %w", err)
	}
	files := map[string]string{
		"whitelist.txt":    hex.EncodeToString(hash[:]) + "\n",
		"opentracker.conf": "access.stats " + statsFrom + "\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			return fmt.Errorf("opentracker: %w", err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			return fmt.Errorf("opentracker: %w", err)
		}
	}
	return nil
}

// TrackerArgv returns the command line of opentracker serving HTTP and UDP
// on host:port from dir (prepared by WriteTrackerFiles).
func TrackerArgv(dir, host string, port int) []string {
	p := strconv.Itoa(port)
	return []string{"opentracker", "-f", filepath.Join(dir, "opentracker.conf"),
		"-i", host, "-p", p, "-P", p, "-d", dir, "-w", "whitelist.txt"}
}

// WaitHTTP polls url until its body contains want, the process exits or
// timeout passes.
func WaitHTTP(pr *Proc, url, want string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if strings.Contains(string(body), want) {
				return nil
			}
		}
		if pr.Exited() {
			return fmt.Errorf("exited: %s", pr.Out.Tail(1000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: no answer from %s after %s", ErrTimeout, url, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DialFunc dials a TCP address with a timeout; net.DialTimeout is one.
type DialFunc func(network, addr string, timeout time.Duration) (net.Conn, error)

// WaitListening waits until something accepts TCP connections on addr
// (dialled with dial, net.DialTimeout if nil), the process exits or
// timeout passes.
func WaitListening(pr *Proc, addr string, dial DialFunc, timeout time.Duration) error {
	if dial == nil {
		dial = net.DialTimeout
	}
	deadline := time.Now().Add(timeout)
	for {
		c, err := dial("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if pr.Exited() {
			return fmt.Errorf("%s exited before listening on %s: %s", pr.Name, addr, pr.Out.Tail(1000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w: nothing listening on %s after %s", pr.Name, ErrTimeout, addr, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
