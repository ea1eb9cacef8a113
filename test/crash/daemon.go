// Package crash runs the real gobit daemon as a process, kills it with
// SIGKILL at random points of a download and checks what it left behind:
// the state database never records a piece as verified whose bytes on disk
// are wrong, a restart keeps every good piece already on disk, and the
// download ends byte-identical to the seeders' copy.
//
// The test builds the gobit binary once from the module this package
// belongs to; seeders and the tracker run in the test process on loopback.
// Each daemon process belongs to the test that started it and is killed at
// test cleanup. Set CRASH_KEEP_LOGS to a directory to keep the daemons' logs
// (debug level, one file per start) there after the test.
package crash

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// apiTimeout bounds every HTTP request to a daemon.
const apiTimeout = 5 * time.Second

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// daemonDirs are the directories a daemon keeps across restarts.
type daemonDirs struct {
	bin      string // the gobit binary
	download string // --download-dir
	data     string // --data-dir
	logs     string // one log file per start
}

// daemon is one running `gobit serve` process.
type daemon struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	client *http.Client
	logf   string // its log file

	exited  chan struct{}
	waitErr error
}

// startDaemon starts `gobit serve` on loopback with a fresh API port and
// waits until its API answers. The process is killed at test cleanup if it
// is still running.
func startDaemon(t testing.TB, d daemonDirs, n int) *daemon {
	t.Helper()
	addr := freeAddr(t)
	logf := filepath.Join(d.logs, fmt.Sprintf("gobit-%d.log", n))
	out, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(d.bin, "serve",
		"--addr", addr,
		"--port", "0", "--no-lsd", "--no-dht",
		"--listen-host", "127.0.0.1",
		"--download-dir", d.download,
		"--data-dir", d.data,
		"--flush-interval", "200ms", // saves race with the kills
		"--log-level", "debug",
	)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start gobit serve: %v", err)
	}
	out.Close() // the child has its own descriptor
	dm := &daemon{
		cmd:    cmd,
		base:   "http://" + addr,
		client: &http.Client{Timeout: apiTimeout},
		logf:   logf,
		exited: make(chan struct{}),
	}
	go func() {
		dm.waitErr = cmd.Wait()
		close(dm.exited)
	}()
	t.Cleanup(func() { dm.kill(t) })

	var died bool
	var lastErr error
	if !testutil.Eventually(15*time.Second, func() bool {
		select {
		case <-dm.exited:
			died = true
			return true
		default:
		}
		resp, err := dm.client.Get(dm.base + "/api/v1/torrents")
		if err != nil {
			lastErr = err
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lastErr = fmt.Errorf("HTTP %d", resp.StatusCode)
		return resp.StatusCode == http.StatusOK
	}) {
		t.Fatalf("gobit serve's API at %s did not answer within 15s (last error %v)\n%s", addr, lastErr, dm.logTail())
	}
	if died {
		t.Fatalf("gobit serve exited at startup: %v\n%s", dm.waitErr, dm.logTail())
	}
	return dm
}

// cleanEnv is the test's environment without GOBIT_* variables, which would
// otherwise change the daemon's flags.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOBIT_") {
			env = append(env, kv)
		}
	}
	return env
}

// kill sends SIGKILL and waits for the process to be gone. It is safe to
// call more than once.
func (dm *daemon) kill(t testing.TB) {
	t.Helper()
	select {
	case <-dm.exited:
		return
	default:
	}
	if err := dm.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("kill gobit serve: %v", err)
	}
	select {
	case <-dm.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("gobit serve (pid %d) still running 10s after SIGKILL", dm.cmd.Process.Pid)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (dm *daemon) stop(t testing.TB, timeout time.Duration) {
	t.Helper()
	if err := dm.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("signal gobit serve: %v", err)
	}
	select {
	case <-dm.exited:
		if dm.waitErr != nil {
			t.Errorf("gobit serve exited with %v after SIGINT\n%s", dm.waitErr, dm.logTail())
		}
	case <-time.After(timeout):
		t.Fatalf("gobit serve did not exit within %v of SIGINT\n%s", timeout, dm.logTail())
	}
}

// logTail returns the end of the daemon's log for failure messages.
func (dm *daemon) logTail() string {
	b, err := os.ReadFile(dm.logf)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const max = 4 << 10
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return "--- daemon log tail ---\n" + string(b)
}

// addTorrent posts a .torrent file to the daemon.
func (dm *daemon) addTorrent(t testing.TB, data []byte) session.Status {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, dm.base+"/api/v1/torrents", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-bittorrent")
	var st session.Status
	if code := dm.do(t, req, &st); code != http.StatusCreated {
		t.Fatalf("add torrent: HTTP %d", code)
	}
	return st
}

// detail returns the daemon's view of one torrent and the HTTP status code.
func (dm *daemon) detail(t testing.TB, hash string) (session.Detail, int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, dm.base+"/api/v1/torrents/"+hash, nil)
	if err != nil {
		t.Fatal(err)
	}
	var d session.Detail
	code := dm.do(t, req, &d)
	return d, code
}

// post sends an empty POST to path and fails the test unless it succeeds.
func (dm *daemon) post(t testing.TB, path string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, dm.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code := dm.do(t, req, nil); code/100 != 2 {
		t.Fatalf("POST %s: HTTP %d", path, code)
	}
}

// do runs req, decodes a 2xx JSON answer into out (if not nil) and returns
// the status code.
func (dm *daemon) do(t testing.TB, req *http.Request, out any) int {
	t.Helper()
	resp, err := dm.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", req.Method, req.URL.Path, err, dm.logTail())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", req.Method, req.URL.Path, body, err)
		}
	}
	return resp.StatusCode
}

// waitDetail polls the torrent until cond holds or timeout passes, failing
// the test with what on timeout.
func (dm *daemon) waitDetail(t testing.TB, hash string, timeout time.Duration, what string, cond func(session.Detail) bool) session.Detail {
	t.Helper()
	var d session.Detail
	var code int
	if !testutil.Eventually(timeout, func() bool {
		d, code = dm.detail(t, hash)
		if code == http.StatusOK && cond(d) {
			return true
		}
		if d.State == session.StateError {
			t.Fatalf("torrent in error state: %s\n%s", d.Error, dm.logTail())
		}
		return false
	}) {
		t.Fatalf("timed out after %v waiting for %s (HTTP %d, state %q, progress %.3f)\n%s",
			timeout, what, code, d.State, d.Progress, dm.logTail())
	}
	return d
}

// postAsync sends an empty POST to path in the background, ignoring the
// answer (the daemon may be killed before it gives one); the channel is
// closed when the request is over.
func (dm *daemon) postAsync(path string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := dm.client.Post(dm.base+path, "", nil)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	return done
}

// keepLogs copies the daemons' logs to $CRASH_KEEP_LOGS, if set.
func keepLogs(t testing.TB, logs string) {
	dst := os.Getenv("CRASH_KEEP_LOGS")
	if dst == "" {
		return
	}
	dst = filepath.Join(dst, time.Now().Format("20060102-150405.000"))
	if err := os.CopyFS(dst, os.DirFS(logs)); err != nil {
		t.Logf("keep daemon logs: %v", err)
		return
	}
	t.Logf("daemon logs kept in %s", dst)
}
