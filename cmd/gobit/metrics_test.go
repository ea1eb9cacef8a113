package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeMetrics runs gobit serve with a token and scrapes /metrics:
// the token is required, the torrents are counted, and
// --metrics-per-torrent=false leaves out the per-torrent series that are
// there by default.
func TestServeMetrics(t *testing.T) {
	for _, perTorrent := range []bool{true, false} {
		t.Run(fmt.Sprintf("per-torrent=%v", perTorrent), func(t *testing.T) {
			clearEnv(t)
			args := []string{"--api-token", "tok"}
			if !perTorrent {
				args = append(args, "--metrics-per-torrent=false")
			}
			base := startServeArgs(t, args...)

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
