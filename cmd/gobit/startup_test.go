package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// loopbackLSD keeps local service discovery on (as by default) but on
// loopback for the test: announces go to a unicast discard address, never
// to the LAN's multicast group.
func loopbackLSD(t *testing.T) {
	t.Helper()
	adjustSessionConfig = func(c *session.Config) {
		if c.LSD {
			c.LSDGroup, c.LSDListen = "127.0.0.1:9", "127.0.0.1:0"
		}
	}
	t.Cleanup(func() { adjustSessionConfig = nil })
}

// startServe runs `gobit serve` with args in the background until the test
// ends, and waits for it to listen.
func startServe(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), &syncBuffer{}, &errOut) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("the first serve did not stop")
		}
	})
	testutil.WaitForErr(t, 15*time.Second, "serve to log that it listens", func() (bool, error) {
		select {
		case code := <-done:
			return false, fmt.Errorf("serve exited %d early: %s", code, errOut.String())
		default:
		}
		return strings.Contains(errOut.String(), "gobit daemon listening"), nil
	})
}

// runWithin runs gobit with args and fails the test if it takes longer
// than limit.
func runWithin(t *testing.T, limit time.Duration, args ...string) (string, int) {
	t.Helper()
	type result struct {
		errOut string
		code   int
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		_, errOut, code := gobit(t, args...)
		done <- result{errOut, code}
	}()
	select {
	case r := <-done:
		if took := time.Since(start); took > limit {
			t.Errorf("%s took %v, want under %v", args[0], took, limit)
		}
		return r.errOut, r.code
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit within 30 s", args[0])
		return "", 0
	}
}

// TestSecondDaemonOnDataDirInUse: a second serve, or a download, on a
// data directory a running daemon holds exits at once saying so, with
// local service discovery on (its loop used to keep a failed start-up
// waiting forever, deaf to signals).
func TestSecondDaemonOnDataDirInUse(t *testing.T) {
	clearEnv(t)
	loopbackLSD(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	common := []string{"--no-dht", "--port", "0", "--listen-host", "127.0.0.1", "--data-dir", data}
	startServe(t, append([]string{"--addr", "127.0.0.1:0", "--download-dir", filepath.Join(dir, "dl")}, common...)...)

	errOut, code := runWithin(t, 5*time.Second, append([]string{"serve", "--addr", "127.0.0.1:0", "--download-dir", filepath.Join(dir, "dl2")}, common...)...)
	if code != exitFailure {
		t.Errorf("second serve: exit %d, want %d: %s", code, exitFailure, errOut)
	}
	mustContain(t, "second serve's stderr", errOut, "database locked: is another gobit running?", data, "--data-dir")

	errOut, code = runWithin(t, 5*time.Second, append([]string{"download", "-o", filepath.Join(dir, "out"), strings.Repeat("ab", 20)}, common...)...)
	if code != exitFailure {
		t.Errorf("download: exit %d, want %d: %s", code, exitFailure, errOut)
	}
	mustContain(t, "download's stderr", errOut, "database locked: is another gobit running?")
}

// TestServeBusyPeerPort: serve on a peer port in use names the flag.
func TestServeBusyPeerPort(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	errOut, code := runWithin(t, 5*time.Second, "serve", "--no-lsd", "--no-dht", "--addr", "127.0.0.1:0", "--port", port, "--listen-host", "127.0.0.1",
		"--data-dir", filepath.Join(dir, "data"), "--download-dir", filepath.Join(dir, "dl"))
	if code != exitFailure {
		t.Fatalf("exit %d, want %d: %s", code, exitFailure, errOut)
	}
	mustContain(t, "stderr", errOut, "peer port "+port+" is already in use", "may already be running", "--port")
}

// TestServeChecksDownloadDir: serve refuses to start with a download
// directory it cannot create, naming it and the flag.
func TestServeChecksDownloadDir(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(file, "dl")
	errOut, code := runWithin(t, 5*time.Second, "serve", "--no-lsd", "--no-dht", "--addr", "127.0.0.1:0", "--port", "0", "--listen-host", "127.0.0.1",
		"--data-dir", filepath.Join(dir, "data"), "--download-dir", bad)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d: %s", code, exitFailure, errOut)
	}
	mustContain(t, "stderr", errOut, "download directory "+bad, "--download-dir")
}
