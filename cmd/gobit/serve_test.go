package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServeRefusesExposedAddrWithoutToken(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"flag all interfaces", []string{"serve", "--addr", "0.0.0.0:0"}, nil},
		{"flag empty host", []string{"serve", "--addr", ":0"}, nil},
		{"env all interfaces", []string{"serve"}, map[string]string{"GOBIT_ADDR": "[::]:0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			dir := t.TempDir()
			t.Setenv("GOBIT_DATA_DIR", filepath.Join(dir, "data"))
			t.Setenv("GOBIT_DOWNLOAD_DIR", filepath.Join(dir, "dl"))
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, errOut, code := gobit(t, tt.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr %q", code, exitUsage, errOut)
			}
			mustContain(t, "stderr", errOut, "refusing", "--api-token", "GOBIT_API_TOKEN")
			if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
				t.Error("serve created its data directory before refusing")
			}
		})
	}
}

// TestServeLifecycle starts the daemon on loopback, talks to its API, and
// stops it with a cancelled context as a signal would.
func TestServeLifecycle(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "logs", "gobit.log")
	// The environment sets the address; the token comes from a flag.
	t.Setenv("GOBIT_ADDR", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--no-lsd", "--no-dht", "--port", "0", "--listen-host", "127.0.0.1", "--api-token", "tok",
			"--data-dir", filepath.Join(dir, "data"), "--download-dir", filepath.Join(dir, "dl"),
			"--log-file", logFile, "--log-level", "debug"}, &out, &errOut)
	}()

	base := waitAPIAddr(t, &errOut, done)

	get := func(token string) (int, string) {
		req, _ := http.NewRequest("GET", base+"/api/v1/torrents", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	if code, body := get(""); code != 401 {
		t.Errorf("without token: %d %s", code, body)
	}
	if code, body := get("tok"); code != 200 || !strings.HasPrefix(body, "[") {
		t.Errorf("with token: %d %s", code, body)
	}
	for _, d := range []string{"data", "dl"} {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
			t.Errorf("serve did not create %s: %v", d, err)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d after shutdown: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context was cancelled")
	}
	logged, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "log file", string(logged), "gobit daemon listening", "api request", "shutting down", "stopped")
	if strings.Contains(string(logged), "tok\n") || strings.Contains(string(logged), "Bearer") {
		t.Error("log file contains the token")
	}
}

func TestServeBusyAddress(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, errOut, code := gobit(t, "serve", "--no-lsd", "--no-dht", "--addr", l.Addr().String(), "--port", "0", "--listen-host", "127.0.0.1",
		"--data-dir", filepath.Join(dir, "data"), "--download-dir", filepath.Join(dir, "dl"))
	if code != exitFailure {
		t.Fatalf("exit %d, want %d: %s", code, exitFailure, errOut)
	}
	mustContain(t, "stderr", errOut, "API address "+l.Addr().String()+" is already in use", "gobit may already be running", "--addr")
}
