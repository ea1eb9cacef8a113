package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// TestServeMetrics runs gobit serve with a token and scrapes /metrics:
// the token is required, the torrents are counted, and
// --metrics-per-torrent=false leaves out the per-torrent series that are
// there by default.
func TestServeMetrics(t *testing.T) {
	for _, perTorrent := range []bool{true, false} {
		t.Run(fmt.Sprintf("per-torrent=%v", perTorrent), func(t *testing.T) {
			clearEnv(t)
			dir := t.TempDir()
			args := []string{"serve", "--addr", "127.0.0.1:0", "--no-lsd", "--no-dht", "--port", "0", "--listen-host", "127.0.0.1",
				"--api-token", "tok", "--data-dir", filepath.Join(dir, "data"), "--download-dir", filepath.Join(dir, "dl")}
			if !perTorrent {
				args = append(args, "--metrics-per-torrent=false")
			}
			ctx, cancel := context.WithCancel(context.Background())
			var out, errOut syncBuffer
			done := make(chan int, 1)
			go func() { done <- run(ctx, args, &out, &errOut) }()
			t.Cleanup(func() {
				cancel()
				select {
				case <-done:
				case <-time.After(20 * time.Second):
					t.Error("serve did not stop")
				}
			})
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

			do := func(method, path, token, body string) (int, string) {
				req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				if body != "" {
					req.Header.Set("Content-Type", "text/plain")
				}
				c := &http.Client{Timeout: 10 * time.Second}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			const hash = "0123456789abcdef0123456789abcdef01234567"
			if code, body := do("POST", "/api/v1/torrents?paused=true", "tok", "magnet:?xt=urn:btih:"+hash+"&dn=metered"); code != http.StatusCreated {
				t.Fatalf("adding a magnet: %d %s", code, body)
			}
			if code, body := do("GET", "/metrics", "", ""); code != http.StatusUnauthorized {
				t.Errorf("/metrics without the token: %d %s", code, body)
			}
			code, body := do("GET", "/metrics", "tok", "")
			if code != http.StatusOK {
				t.Fatalf("/metrics with the token: %d %s", code, body)
			}
			mustContain(t, "/metrics", body, `gobit_torrents{state="paused"} 1`, "gobit_downloaded_bytes_total 0", "go_goroutines", "process_resident_memory_bytes")
			series := `gobit_torrent_peers{info_hash="` + hash + `",name="metered"} 0`
			if got := strings.Contains(body, series); got != perTorrent {
				t.Errorf("series %s in the scrape: %v, want %v", series, got, perTorrent)
			}
			if !perTorrent && strings.Contains(body, "gobit_torrent_") {
				t.Error("per-torrent series with --metrics-per-torrent=false")
			}
		})
	}
}
