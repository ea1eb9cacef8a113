package main

import (
	"encoding/hex"
	"fmt"
	"github.com/gobit/gobit/internal/testutil"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startTracker runs opentracker on a free 127.0.0.1 port (HTTP and UDP)
// with hash on its whitelist and returns the process and the HTTP announce
// URL. Debian's opentracker is whitelist-only and IPv4-only; as root it
// switches to "nobody" and chroots to its directory, so the directory and
// files are world-readable. It mirrors internal/testutil.StartOpentracker,
// which needs a testing.TB.
func startTracker(dir, logDir string, hash [20]byte) (*proc, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("opentracker: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("opentracker: %w", err)
	}
	files := map[string]string{
		"whitelist.txt":    hex.EncodeToString(hash[:]) + "\n",
		"opentracker.conf": "access.stats 127.0.0.1\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			return nil, "", fmt.Errorf("opentracker: %w", err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			return nil, "", fmt.Errorf("opentracker: %w", err)
		}
	}
	var lastErr error
	// A freed port can be taken before opentracker binds it: try a few.
	for range 5 {
		port, err := testutil.FreePort()
		if err != nil {
			return nil, "", err
		}
		p := strconv.Itoa(port)
		pr, err := startProc("opentracker", dir, logDir, "opentracker", "-f", filepath.Join(dir, "opentracker.conf"),
			"-i", "127.0.0.1", "-p", p, "-P", p, "-d", dir, "-w", "whitelist.txt")
		if err != nil {
			return nil, "", err
		}
		base := "http://127.0.0.1:" + p
		if lastErr = waitHTTP(pr, base+"/stats", "opentracker", 10*time.Second); lastErr == nil {
			return pr, base + "/announce", nil
		}
		pr.kill()
	}
	return nil, "", fmt.Errorf("opentracker: %w", lastErr)
}

// waitHTTP polls url until its body contains want, the process exits or
// timeout passes.
func waitHTTP(pr *proc, url, want string, timeout time.Duration) error {
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
		if pr.exited() {
			return fmt.Errorf("exited: %s", pr.out.tail(1000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: no answer from %s after %s", ErrTimeout, url, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitListening waits until something accepts TCP connections on
// 127.0.0.1:port, the process exits or timeout passes.
func waitListening(pr *proc, port int, timeout time.Duration) error {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if pr.exited() {
			return fmt.Errorf("%s exited before listening on %s: %s", pr.name, addr, pr.out.tail(1000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w: nothing listening on %s after %s", pr.name, ErrTimeout, addr, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
