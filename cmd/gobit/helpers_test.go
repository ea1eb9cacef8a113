package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
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
