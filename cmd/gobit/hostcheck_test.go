package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeHostCheck checks that the daemon wires --addr and
// --api-allowed-hosts (flag and environment) into the Host check, guards
// the --pprof profiles with it, and refuses cross-site state changes.
func TestServeHostCheck(t *testing.T) {
	clearEnv(t)
	t.Setenv("GOBIT_API_ALLOWED_HOSTS", "env.example")
	base := startServeArgs(t, "--pprof", "--api-allowed-hosts", "gobit.example,*.proxy.example")
	c := &http.Client{Timeout: 10 * time.Second}
	do := func(method, path, host string, hdr map[string]string, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, string(b)
	}
	for _, host := range []string{"", "localhost", "gobit.example:8080", "ui.proxy.example"} {
		if code, body := do("GET", "/api/v1/torrents", host, nil, ""); code != 200 {
			t.Errorf("Host %q: %d %s", host, code, body)
		}
	}
	for _, host := range []string{"rebind.example", "env.example", "proxy.example"} {
		for _, path := range []string{"/api/v1/torrents", "/debug/pprof/cmdline", "/nowhere"} {
			code, body := do("GET", path, host, nil, "")
			if code != 403 || !strings.Contains(body, "--api-allowed-hosts") {
				t.Errorf("GET %s with Host %q: %d %s, want 403 naming --api-allowed-hosts", path, host, code, body)
			}
		}
	}
	if code, body := do("GET", "/debug/pprof/cmdline", "", nil, ""); code != 200 {
		t.Errorf("pprof from loopback: %d %s", code, body)
	}
	magnet := "magnet:?xt=urn:btih:" + strings.Repeat("ab", 20)
	code, body := do("POST", "/add/magnet", "", map[string]string{"Origin": "http://evil.example", "Content-Type": "text/plain"}, magnet)
	if code != 403 || !strings.Contains(body, "cross-origin") {
		t.Errorf("cross-origin add: %d %s", code, body)
	}
	code, body = do("POST", "/api/v1/torrents?download_dir=rel", "", map[string]string{"Content-Type": "text/plain"}, magnet)
	if code != 400 || !strings.Contains(body, "download_dir") {
		t.Errorf("relative download_dir: %d %s", code, body)
	}
	if code, body := do("POST", "/add/magnet", "", map[string]string{"Content-Type": "text/plain"}, magnet); code != 200 {
		t.Errorf("curl-like add: %d %s", code, body)
	}
}

// TestServeAllowedHostsFromEnv checks the flag's environment twin.
func TestServeAllowedHostsFromEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("GOBIT_API_ALLOWED_HOSTS", "env.example,other.example")
	base := startServeArgs(t)
	req, _ := http.NewRequest("GET", base+"/api/v1/torrents", nil)
	req.Host = "other.example"
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("Host from GOBIT_API_ALLOWED_HOSTS: %d", resp.StatusCode)
	}
}

func TestServeBadAllowedHosts(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	_, errOut, code := gobit(t, "serve", "--api-allowed-hosts", "ok.example,http://bad.example:80",
		"--data-dir", filepath.Join(dir, "data"), "--download-dir", filepath.Join(dir, "dl"))
	if code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", code, exitUsage, errOut)
	}
	mustContain(t, "stderr", errOut, "--api-allowed-hosts", "bad.example")
}
