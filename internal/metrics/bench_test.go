package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gobit/gobit/internal/metrics"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
)

// BenchmarkScrape measures one /metrics scrape of a session with 2000
// torrents, with and without the per-torrent series.
func BenchmarkScrape(b *testing.B) {
	sess := swarmtest.NewSessionWith(b, session.Config{DownloadDir: b.TempDir(), Port: -1})
	for i := range 2000 {
		uri := fmt.Sprintf("magnet:?xt=urn:btih:%040x&dn=torrent-%d", i+1, i)
		if _, err := sess.Add(context.Background(), session.AddRequest{URI: uri, Paused: true}); err != nil {
			b.Fatal(err)
		}
	}
	for _, per := range []bool{true, false} {
		b.Run(fmt.Sprintf("per-torrent=%v", per), func(b *testing.B) {
			h := metrics.Handler(sess, metrics.Options{PerTorrent: per, MaxTorrents: 2000})
			var n int64
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
				n, _ = io.Copy(io.Discard, w.Body)
			}
			b.ReportMetric(float64(n), "bytes/scrape")
		})
	}
}
