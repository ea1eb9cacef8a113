package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gobit runs the CLI with args and returns stdout, stderr and the exit code.
func gobit(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut syncBuffer
	code := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// clearEnv unsets every GOBIT_* variable for the test, so that a developer's
// environment cannot change its outcome.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{"ADDR", "API_TOKEN", "API_ALLOWED_HOSTS", "PORT", "DOWNLOAD_DIR", "DATA_DIR", "LOG_FILE", "LOG_LEVEL", "OUTPUT", "LISTEN_HOST", "TIMEOUT", "SEED", "JSON", "DELETE_DATA",
		"MAX_ACTIVE_DOWNLOADS", "MAX_ACTIVE_SEEDS", "MAX_ACTIVE", "WATCH_DIR", "ON_COMPLETE", "ON_COMPLETE_TIMEOUT"} {
		t.Setenv(envPrefix+name, "")
	}
	// Nor a configuration file of the developer's, nor a service manager.
	t.Setenv(envName(configFlag), "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// apiAddrRE matches the API address "gobit serve" logs once it listens.
var apiAddrRE = regexp.MustCompile(`api=(http://\S+)`)

// startServeArgs runs "gobit serve" in-process on a free loopback port
// with extra arguments and returns the API's base URL. The daemon stops at
// test cleanup.
func startServeArgs(t *testing.T, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--no-lsd", "--no-dht", "--port", "0", "--listen-host", "127.0.0.1",
		"--data-dir", filepath.Join(dir, "data"), "--download-dir", filepath.Join(dir, "dl")}, extra...)
	go func() { done <- run(ctx, args, &out, &errOut) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop after its context was cancelled")
		}
	})
	return waitAPIAddr(t, &errOut, done)
}

// waitAPIAddr waits until an in-process "gobit serve" logs its API address
// to errOut and returns it as a base URL. It fails the test if serve exits
// first (done receives its exit code) or has not logged it in 15 s.
func waitAPIAddr(t *testing.T, errOut *syncBuffer, done <-chan int) string {
	t.Helper()
	var base string
	testutil.WaitForErr(t, 15*time.Second, "serve to log its API address", func() (bool, error) {
		if m := apiAddrRE.FindStringSubmatch(errOut.String()); m != nil {
			base = m[1]
			return true, nil
		}
		select {
		case code := <-done:
			return false, fmt.Errorf("serve exited %d early: %s", code, errOut.String())
		default:
		}
		return false, nil
	})
	return base
}
