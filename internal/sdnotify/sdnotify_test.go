package sdnotify

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
)

// listen opens a unixgram socket at addr like the service manager's.
func listen(t *testing.T, addr string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// recv reads one datagram and returns its assignments.
func recv(t *testing.T, c *net.UnixConn) map[string]string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	msg := string(buf[:n])
	if !strings.HasSuffix(msg, "\n") {
		t.Errorf("datagram %q does not end in a newline", msg)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(msg, "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("line %q of %q is no assignment", line, msg)
		}
		m[k] = v
	}
	return m
}

func TestNotifyPathSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	l := listen(t, path)
	t.Setenv(EnvSocket, path)
	t.Setenv(EnvWatchdogUsec, "")
	n, err := FromEnv(true)
	if err != nil || n == nil {
		t.Fatalf("FromEnv = %v, %v", n, err)
	}
	if v, ok := os.LookupEnv(EnvSocket); ok {
		t.Errorf("%s still set (%q) after FromEnv(true)", EnvSocket, v)
	}

	if err := n.Ready("serving on 127.0.0.1:8080"); err != nil {
		t.Fatal(err)
	}
	m := recv(t, l)
	if m["READY"] != "1" || m["STATUS"] != "serving on 127.0.0.1:8080" {
		t.Errorf("ready: got %v", m)
	}

	before, _ := monotonicUsec()
	if err := n.Reloading("reloading\nthe config"); err != nil {
		t.Fatal(err)
	}
	m = recv(t, l)
	if m["RELOADING"] != "1" || m["STATUS"] != "reloading the config" {
		t.Errorf("reloading: got %v", m)
	}
	us, err := strconv.ParseUint(m["MONOTONIC_USEC"], 10, 64)
	after, _ := monotonicUsec()
	if err != nil || us < before || us > after {
		t.Errorf("MONOTONIC_USEC = %q, want a CLOCK_MONOTONIC time between %d and %d", m["MONOTONIC_USEC"], before, after)
	}

	if err := n.Stopping("bye"); err != nil {
		t.Fatal(err)
	}
	if m = recv(t, l); m["STOPPING"] != "1" {
		t.Errorf("stopping: got %v", m)
	}
}

func TestNotifyAbstractSocket(t *testing.T) {
	name := fmt.Sprintf("@gobit-sdnotify-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	l := listen(t, name)
	t.Setenv(EnvSocket, name)
	n, err := FromEnv(false)
	if err != nil || n == nil {
		t.Fatalf("FromEnv = %v, %v", n, err)
	}
	if os.Getenv(EnvSocket) != name {
		t.Errorf("FromEnv(false) changed %s", EnvSocket)
	}
	if err := n.Status("3 torrents"); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, l); m["STATUS"] != "3 torrents" {
		t.Errorf("got %v", m)
	}
}

func TestWatchdog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	l := listen(t, path)
	t.Setenv(EnvSocket, path)
	t.Setenv(EnvWatchdogUsec, "200000")
	t.Setenv(EnvWatchdogPID, strconv.Itoa(os.Getpid()))
	n, err := FromEnv(true)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.WatchdogInterval(); got != 200*time.Millisecond {
		t.Fatalf("WatchdogInterval = %v, want 200ms", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Watchdog(ctx); close(done) }()
	for range 3 {
		if m := recv(t, l); m["WATCHDOG"] != "1" {
			t.Fatalf("got %v, want WATCHDOG=1", m)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Watchdog did not return after cancel")
	}
}

func TestWatchdogInterval(t *testing.T) {
	const self = 4242
	tests := []struct {
		usec, pid string
		want      time.Duration
	}{
		{"", "", 0},
		{"30000000", "", 30 * time.Second},
		{"30000000", "4242", 30 * time.Second},
		{"30000000", "1", 0}, // another process's watchdog
		{"30000000", "x", 0},
		{"0", "", 0},
		{"-5", "", 0},
		{"lots", "", 0},
		{"99999999999999999999", "", 0},
	}
	for _, tt := range tests {
		if got := watchdogInterval(tt.usec, tt.pid, self); got != tt.want {
			t.Errorf("watchdogInterval(%q, %q) = %v, want %v", tt.usec, tt.pid, got, tt.want)
		}
	}
}

func TestNilAndBadAddresses(t *testing.T) {
	t.Setenv(EnvSocket, "")
	n, err := FromEnv(true)
	if n != nil || err != nil {
		t.Fatalf("FromEnv without %s = %v, %v; want nil, nil", EnvSocket, n, err)
	}
	// A nil Notifier does nothing.
	if err := n.Ready("x"); err != nil {
		t.Error(err)
	}
	if n.WatchdogInterval() != 0 {
		t.Error("nil Notifier has a watchdog")
	}
	n.Watchdog(context.Background()) // returns at once
	for _, bad := range []string{"relative/sock", "vsock:2:1234", "@", strings.Repeat("/x", 60)} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	// Nobody listening: an error, not a hang or a panic.
	n, err = New(filepath.Join(t.TempDir(), "absent"))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Ready("x"); err == nil {
		t.Error("Ready to a socket nobody listens on succeeded")
	}
	if err := n.Send("NOEQUALS"); err == nil {
		t.Error("Send accepted an assignment without '='")
	}
	if got := statusLine(strings.Repeat("é", maxStatus)); len(got) > len("STATUS=")+maxStatus || !strings.HasPrefix(got, "STATUS=é") {
		t.Errorf("statusLine of a long text = %d bytes", len(got))
	}
}
