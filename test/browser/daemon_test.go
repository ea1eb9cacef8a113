package browser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// daemon is a running "gobit serve".
type daemon struct {
	addr   string // 127.0.0.1:port of the API
	base   string
	logf   string
	client *http.Client
}

// startDaemon starts "gobit serve" on a free loopback port with DHT and
// local discovery off, and waits until the API answers. It is killed at
// test cleanup.
func startDaemon(t *testing.T, bin, downloads, data, logf string, extra ...string) *daemon {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := testutil.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		dm, err := tryStartDaemon(t, bin, "127.0.0.1:"+strconv.Itoa(port), downloads, data, logf, extra...)
		if err == nil {
			return dm
		}
		lastErr = err
	}
	t.Fatalf("gobit serve did not start: %v", lastErr)
	return nil
}

func tryStartDaemon(t *testing.T, bin, addr, downloads, data, logf string, extra ...string) (*daemon, error) {
	out, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--port", "0", "--listen-host", "127.0.0.1",
		"--no-lsd", "--no-dht", "--download-dir", downloads, "--data-dir", data, "--log-level", "debug")
	cmd.Args = append(cmd.Args, extra...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOBIT_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gobit serve: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("gobit serve (pid %d) still running 10 s after SIGKILL", cmd.Process.Pid)
		}
	}
	dm := &daemon{addr: addr, base: "http://" + addr, logf: logf, client: &http.Client{Timeout: apiTimeout}}
	var died bool
	up := testutil.Eventually(20*time.Second, func() bool {
		select {
		case <-exited:
			died = true
			return true
		default:
		}
		resp, err := dm.client.Get(dm.base + "/api/v1/torrents")
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// 401: the daemon runs with --api-token; it is up all the same.
		return resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized
	})
	switch {
	case died:
		b, _ := os.ReadFile(logf)
		return nil, fmt.Errorf("exited at startup:\n%s", tail(string(b), 4096))
	case !up:
		stop()
		b, _ := os.ReadFile(logf)
		return nil, fmt.Errorf("API at %s did not answer within 20 s:\n%s", addr, tail(string(b), 4096))
	}
	t.Cleanup(stop)
	return dm, nil
}

// do sends a request without Origin or Sec-Fetch-* headers, as curl would,
// and returns the status and body.
func (dm *daemon) do(t *testing.T, method, path, ctype string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, dm.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := dm.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, string(b)
}

func (dm *daemon) addTorrent(t *testing.T, data []byte) session.Status {
	t.Helper()
	code, body := dm.do(t, "POST", "/api/v1/torrents", "application/x-bittorrent", data)
	if code != http.StatusCreated {
		t.Fatalf("add torrent: %d %s", code, body)
	}
	var st session.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (dm *daemon) getJSON(t *testing.T, path string) string {
	t.Helper()
	code, body := dm.do(t, "GET", path, "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	return body
}

func (dm *daemon) getInto(t *testing.T, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(dm.getJSON(t, path)), v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func (dm *daemon) detail(t *testing.T, hash string) session.Detail {
	t.Helper()
	var d session.Detail
	dm.getInto(t, "/api/v1/torrents/"+hash, &d)
	return d
}

func (dm *daemon) waitState(t *testing.T, hash string, want session.State, timeout time.Duration) {
	t.Helper()
	var d session.Detail
	testutil.WaitFor(t, timeout, "torrent "+hash+" to be "+string(want), func() bool {
		d = dm.detail(t, hash)
		return d.State == want
	})
}

// logSize returns the daemon log's current length.
func (dm *daemon) logSize(t *testing.T) int64 {
	t.Helper()
	fi, err := os.Stat(dm.logf)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// logFrom returns the daemon log from offset on.
func (dm *daemon) logFrom(t *testing.T, offset int64) string {
	t.Helper()
	b, err := os.ReadFile(dm.logf)
	if err != nil {
		t.Fatal(err)
	}
	if offset > int64(len(b)) {
		offset = int64(len(b))
	}
	return string(b[offset:])
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// addMagnet adds magnet with the query (such as "paused=true") and fails
// the test unless the daemon answers 201 Created.
func (dm *daemon) addMagnet(t *testing.T, magnet, query string) {
	t.Helper()
	if code, body := dm.do(t, "POST", "/api/v1/torrents?"+query, "text/plain", []byte(magnet)); code != http.StatusCreated {
		t.Fatalf("add %s: %d %s", magnet, code, body)
	}
}

// seed adds a .torrent whose data is already in the download directory
// and waits until the daemon seeds it.
func (dm *daemon) seed(t *testing.T, torrent []byte) session.Status {
	t.Helper()
	st := dm.addTorrent(t, torrent)
	dm.waitState(t, st.InfoHash, session.StateSeeding, 30*time.Second)
	return st
}
