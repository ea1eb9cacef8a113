package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// recordingUpdater records the settings updates a reload makes.
type recordingUpdater struct{ updates []session.SettingsUpdate }

func (r *recordingUpdater) UpdateSettings(u session.SettingsUpdate) (session.Settings, error) {
	r.updates = append(r.updates, u)
	return session.Settings{}, nil
}

func TestReloadAppliesChangedLiveSettings(t *testing.T) {
	clearEnv(t)
	path := writeFile(t, filepath.Join(t.TempDir(), "c.toml"), `
upload-limit = "1MiB"
max-active = 2
port = 7000
`)
	fs, err := resolvedServe(t, "--config", path, "--ratio-limit", "2")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	up := &recordingUpdater{}
	r := newReloader(fs, up, slog.New(slog.NewTextHandler(&logs, nil)))

	writeFile(t, path, `
upload-limit = "2MiB"
download-limit = "512KiB"
max-active = 2
ratio-limit = 5
seed-time-limit = "1h"
port = 7001
log-level = "debug"
`)
	summary, err := r.reload()
	if err != nil {
		t.Fatal(err)
	}
	if len(up.updates) != 1 {
		t.Fatalf("%d updates, want 1", len(up.updates))
	}
	u := up.updates[0]
	if u.UploadLimit == nil || *u.UploadLimit != 2<<20 || u.DownloadLimit == nil || *u.DownloadLimit != 512<<10 ||
		u.SeedTimeLimit == nil || *u.SeedTimeLimit != 3600 {
		t.Errorf("update %+v: want upload 2MiB, download 512KiB, seed time 3600 s", u)
	}
	if u.MaxActive != nil {
		t.Error("max-active did not change but was updated")
	}
	if u.RatioLimit != nil {
		t.Error("ratio-limit is set by a flag, which wins over the file, but the file's value was applied")
	}
	mustContain(t, "reload log", logs.String(), "needs a restart", `settings="log-level, port"`)
	mustContain(t, "summary", summary, "3 settings applied", "2 need a restart")

	// Nothing new: nothing applied; the restart is still needed.
	if _, err := r.reload(); err != nil {
		t.Fatal(err)
	}
	if len(up.updates) != 1 {
		t.Errorf("a reload with no change updated the session: %+v", up.updates[1:])
	}

	// A broken file changes nothing.
	writeFile(t, path, "upload-limit = \"9MiB\"\nportt = 1\n")
	if _, err := r.reload(); err == nil || !strings.Contains(err.Error(), "portt") {
		t.Errorf("broken file: err = %v", err)
	}
	writeFile(t, path, "upload-limit = \"lots\"\n")
	if _, err := r.reload(); err == nil {
		t.Error("bad rate accepted")
	}
	if len(up.updates) != 1 {
		t.Errorf("a failed reload updated the session: %+v", up.updates[1:])
	}
}

// notifyListener is a unixgram socket standing in for systemd's.
type notifyListener struct {
	t *testing.T
	c *net.UnixConn
}

func newNotifyListener(t *testing.T) (*notifyListener, string) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &notifyListener{t, c}, path
}

// next returns the assignments of the next notification.
func (l *notifyListener) next(within time.Duration) map[string]string {
	l.t.Helper()
	_ = l.c.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 4096)
	n, err := l.c.Read(buf)
	if err != nil {
		l.t.Fatalf("no notification from gobit: %v", err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
		k, v, _ := strings.Cut(line, "=")
		m[k] = v
	}
	return m
}

var statusURLRE = regexp.MustCompile(`(http://127\.0\.0\.1:\d+)`)

// TestServeReloadAndNotifyBinary runs the built gobit as systemd would
// with Type=notify: READY=1 once the API answers; after the file is edited
// and SIGHUP sent, RELOADING=1 (with MONOTONIC_USEC), READY=1 and the new
// limits in GET /api/v1/session; STOPPING=1 on SIGTERM.
func TestServeReloadAndNotifyBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gobit")
	}
	clearEnv(t)
	dir := t.TempDir()
	bin := testutil.BuildGobit(t, dir)
	notify, sock := newNotifyListener(t)
	cfg := filepath.Join(dir, "config.toml")
	base := fmt.Sprintf(`addr = "127.0.0.1:0"
port = 0
listen-host = "127.0.0.1"
no-dht = true
no-lsd = true
data-dir = %q
download-dir = %q
`, filepath.Join(dir, "data"), filepath.Join(dir, "dl"))
	writeFile(t, cfg, base+"upload-limit = \"1MiB\"\nmax-active = 2\n")

	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("gobit's log:\n%s", stderr.String())
		}
	})

	ready := notify.next(60 * time.Second)
	if ready["READY"] != "1" {
		t.Fatalf("first notification %v, want READY=1", ready)
	}
	m := statusURLRE.FindStringSubmatch(ready["STATUS"])
	if m == nil {
		t.Fatalf("STATUS=%q names no API address", ready["STATUS"])
	}
	api := m[1]
	get := func() session.Settings {
		t.Helper()
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(api + "/api/v1/session")
		if err != nil {
			t.Fatalf("the API does not answer after READY=1: %v", err)
		}
		defer resp.Body.Close()
		var st session.Settings
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := get(); st.UploadLimit != 1<<20 || st.MaxActive != 2 {
		t.Fatalf("settings from the file not applied at start: %+v", st)
	}

	writeFile(t, cfg, base+"upload-limit = \"3MiB\"\nmax-active = 5\nratio-limit = 1.5\nflush-interval = \"45s\"\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	rl := notify.next(30 * time.Second)
	if rl["RELOADING"] != "1" {
		t.Fatalf("after SIGHUP: %v, want RELOADING=1", rl)
	}
	if us, err := strconv.ParseUint(rl["MONOTONIC_USEC"], 10, 64); err != nil || us == 0 {
		t.Errorf("RELOADING=1 without a MONOTONIC_USEC: %v", rl)
	}
	again := notify.next(30 * time.Second)
	if again["READY"] != "1" || !strings.Contains(again["STATUS"], "reloaded") {
		t.Fatalf("after the reload: %v, want READY=1 and a status saying so", again)
	}
	if st := get(); st.UploadLimit != 3<<20 || st.MaxActive != 5 || st.RatioLimit != 1.5 {
		t.Errorf("after SIGHUP the session has %+v; want upload 3MiB, max_active 5, ratio 1.5", st)
	}
	mustContain(t, "gobit's log", stderr.String(), "needs a restart", "flush-interval")

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st := notify.next(30 * time.Second); st["STOPPING"] != "1" {
		t.Errorf("at SIGTERM: %v, want STOPPING=1", st)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("gobit exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("gobit did not exit after SIGTERM")
	}
}
