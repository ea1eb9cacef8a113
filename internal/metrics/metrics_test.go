package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/metrics"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape is one parsed exposition, by metric family name.
type scrape map[string]*dto.MetricFamily

// get returns the value of the series name whose labels include the given
// label pairs ("k", "v", ...), and whether there is one.
func (s scrape) get(name string, labels ...string) (float64, bool) {
	f := s[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		if hasLabels(m, labels) {
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

// must is get that fails the test when the series is missing.
func (s scrape) must(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, ok := s.get(name, labels...)
	if !ok {
		t.Fatalf("no series %s%v in the scrape", name, labels)
	}
	return v
}

// series counts the series of families whose name starts with prefix.
func (s scrape) series(prefix string) int {
	n := 0
	for name, f := range s {
		if strings.HasPrefix(name, prefix) {
			n += len(f.GetMetric())
		}
	}
	return n
}

func hasLabels(m *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == kv[i] && l.GetValue() == kv[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// get fetches url with the token (if any) and returns the status and body.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrapeURL scrapes url and parses the text exposition.
func scrapeURL(t *testing.T, url, token string) scrape {
	t.Helper()
	code, body := get(t, url, token)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the exposition: %v\n%s", err, body)
	}
	return scrape(fams)
}

// serveAPI serves sess's API with /metrics mounted as gobit serve does,
// behind token.
func serveAPI(t *testing.T, sess *session.Session, token string, opts metrics.Options) string {
	t.Helper()
	o := api.Options{Token: token, Mounts: []api.Mount{{Pattern: "GET /metrics", Handler: metrics.Handler(sess, opts)}}}
	srv := httptest.NewServer(api.Guard(o, api.NewHandler(sess, o)))
	t.Cleanup(srv.Close)
	return srv.URL
}

var states = []string{"metadata", "checking", "downloading", "seeding", "paused", "error", "queued"}

// checkStates fails unless the scrape counts want torrents in state and
// none in the others.
func checkStates(t *testing.T, s scrape, want map[string]float64) {
	t.Helper()
	for _, st := range states {
		if got := s.must(t, "gobit_torrents", "state", st); got != want[st] {
			t.Errorf("gobit_torrents{state=%q} = %v, want %v", st, got, want[st])
		}
	}
}

// TestScrapeFollowsADownload scrapes a leecher and its seeder (real
// sessions on loopback, a tracker, a rate-limited transfer) through the
// API's mount and checks what the metrics say at each step: during the
// download, once complete, paused, and removed.
func TestScrapeFollowsADownload(t *testing.T) {
	if testing.Short() {
		t.Skip("a swarm download of a few seconds")
	}
	const size, pieceLen = 3 << 20, 64 << 10
	const pieces = size / pieceLen
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := swarmtest.Payload(t, filepath.Join(dir, "seed"), "payload.bin", 5, map[string]int{"": size})
	data, mi := swarmtest.MakeTorrent(t, root, pieceLen, tr.HTTPURL())
	hash := mi.InfoHash.String()
	// The seeder sends at 1 MiB/s, so the download lasts about 3 s and
	// can be watched while it runs.
	seed := swarmtest.NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), UploadLimit: 1 << 20})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	swarmtest.WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)
	// The leecher runs a DHT node (with no one to talk to) so the DHT
	// series are there too.
	leech := swarmtest.NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), DHT: true})

	const token = "s3cret"
	base := serveAPI(t, leech, token, metrics.Options{PerTorrent: true})
	seedBase := serveAPI(t, seed, "", metrics.Options{PerTorrent: true})
	offSrv := httptest.NewServer(metrics.Handler(leech, metrics.Options{PerTorrent: false}))
	t.Cleanup(offSrv.Close)

	// The token guards /metrics like the API.
	if code, body := get(t, base+"/metrics", ""); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without the token: %d %s", code, body)
	}
	if code, _ := get(t, base+"/metrics", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("/metrics with a wrong token: %d", code)
	}

	s := scrapeURL(t, base+"/metrics", token)
	if v := s.must(t, "gobit_downloaded_bytes_total"); v != 0 {
		t.Errorf("downloaded before any torrent: %v", v)
	}
	checkStates(t, s, nil)
	if n := s.series("gobit_torrent_"); n != 0 {
		t.Errorf("%d per-torrent series before any torrent", n)
	}
	s.must(t, "gobit_dht_nodes")
	s.must(t, "gobit_dht_queries_sent_total", "kind", "find_node")
	if _, ok := s["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics (go_goroutines)")
	}
	if _, ok := s["process_cpu_seconds_total"]; !ok {
		t.Error("no process metrics (process_cpu_seconds_total)")
	}

	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	// While it downloads: one torrent downloading, a peer from the
	// tracker (an incoming one at the seeder), a rate, partial bytes.
	var mid scrape
	testutil.WaitFor(t, 30*time.Second, "a scrape showing the download under way", func() bool {
		mid = scrapeURL(t, base+"/metrics", token)
		st, _ := mid.get("gobit_torrents", "state", "downloading")
		rate, _ := mid.get("gobit_download_rate_bytes_per_second")
		tr, _ := mid.get("gobit_peers", "source", "tracker")
		got, _ := mid.get("gobit_torrent_downloaded_bytes_total", "info_hash", hash)
		return st == 1 && rate > 0 && tr == 1 && got > 0 && got < size
	})
	if v := mid.must(t, "gobit_torrent_download_rate_bytes_per_second", "info_hash", hash, "name", "payload.bin"); v <= 0 {
		t.Errorf("torrent download rate %v while downloading", v)
	}
	if v := mid.must(t, "gobit_torrent_peers", "info_hash", hash); v != 1 {
		t.Errorf("torrent peers %v, want 1", v)
	}
	if v := mid.must(t, "gobit_torrent_progress_ratio", "info_hash", hash); v <= 0 || v >= 1 {
		t.Errorf("progress %v while downloading", v)
	}
	testutil.WaitFor(t, 10*time.Second, "the seeder's scrape to show its incoming peer", func() bool {
		v, _ := scrapeURL(t, seedBase+"/metrics", "").get("gobit_peers", "source", "incoming")
		return v == 1
	})

	swarmtest.WaitState(t, leech, hash, 60*time.Second, session.StateSeeding)
	s = scrapeURL(t, base+"/metrics", token)
	total := s.must(t, "gobit_downloaded_bytes_total")
	if total < size || total > size*1.05 {
		t.Errorf("gobit_downloaded_bytes_total = %v after a %d-byte download", total, size)
	}
	if v := s.must(t, "gobit_torrent_downloaded_bytes_total", "info_hash", hash); v != total {
		t.Errorf("torrent downloaded %v, session %v: one torrent, they must agree", v, total)
	}
	checkStates(t, s, map[string]float64{"seeding": 1})
	for name, want := range map[string]float64{
		"gobit_torrent_pieces":          pieces,
		"gobit_torrent_pieces_verified": pieces,
		"gobit_torrent_progress_ratio":  1,
		"gobit_torrent_size_bytes":      size,
		"gobit_torrent_completed_bytes": size,
	} {
		if got := s.must(t, name, "info_hash", hash, "name", "payload.bin"); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// Every piece was written once; none failed.
	if v := s.must(t, "gobit_disk_write_duration_seconds"); v != pieces {
		t.Errorf("disk write latency observed %v writes, want %d (one per piece)", v, pieces)
	}
	if sum := s["gobit_disk_write_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleSum(); sum <= 0 {
		t.Errorf("disk write latency sum %v", sum)
	}
	for _, kind := range []string{"disk", "hash", "peer_protocol", "tracker"} {
		if v := s.must(t, "gobit_errors_total", "kind", kind); v != 0 {
			t.Errorf("gobit_errors_total{kind=%q} = %v in a clean download", kind, v)
		}
	}
	if v := s.must(t, "gobit_tracker_announces_total", "tracker", "127.0.0.1"); v < 1 {
		t.Errorf("announces to 127.0.0.1: %v", v)
	}
	if v := s.must(t, "gobit_tracker_announce_errors_total", "tracker", "127.0.0.1"); v != 0 {
		t.Errorf("announce errors: %v", v)
	}
	if v := s.must(t, "gobit_metrics_torrents_omitted"); v != 0 {
		t.Errorf("torrents omitted: %v", v)
	}
	testutil.WaitFor(t, 10*time.Second, "the seeder's uploaded bytes to reach the torrent's size", func() bool {
		v, _ := scrapeURL(t, seedBase+"/metrics", "").get("gobit_uploaded_bytes_total")
		return v >= size
	})

	// The exposition follows Prometheus' conventions.
	lintCollector(t, metrics.NewCollector(leech, metrics.Options{PerTorrent: true}))

	// With per-torrent series off, the session's are all there.
	off := scrapeURL(t, offSrv.URL, "")
	if n := off.series("gobit_torrent_"); n != 0 {
		t.Errorf("%d per-torrent series with PerTorrent off", n)
	}
	if _, ok := off["gobit_metrics_torrents_omitted"]; ok {
		t.Error("gobit_metrics_torrents_omitted with PerTorrent off")
	}
	if v := off.must(t, "gobit_downloaded_bytes_total"); v != total {
		t.Errorf("downloaded %v with PerTorrent off, %v with it on", v, total)
	}
	checkStates(t, off, map[string]float64{"seeding": 1})

	if err := leech.Pause(hash); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the scrape to count the torrent paused", func() bool {
		v, _ := scrapeURL(t, base+"/metrics", token).get("gobit_torrents", "state", "paused")
		return v == 1
	})

	// Removed: its series go, the session's totals stay.
	if err := leech.Remove(hash, false); err != nil {
		t.Fatal(err)
	}
	s = scrapeURL(t, base+"/metrics", token)
	if n := s.series("gobit_torrent_"); n != 0 {
		t.Errorf("%d per-torrent series after the torrent was removed", n)
	}
	checkStates(t, s, nil)
	if v := s.must(t, "gobit_downloaded_bytes_total"); v != total {
		t.Errorf("downloaded total went from %v to %v when the torrent was removed", total, v)
	}
}

// lintCollector fails the test on every problem promlint finds.
func lintCollector(t *testing.T, c *metrics.Collector) {
	t.Helper()
	problems, err := promtest.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestPerTorrentCap checks that at most MaxTorrents torrents get series,
// the first ones added, and that the others are counted as omitted.
func TestPerTorrentCap(t *testing.T) {
	sess := swarmtest.NewSessionWith(t, session.Config{DownloadDir: t.TempDir(), Port: -1})
	var hashes []string
	for i := range 3 {
		h := fmt.Sprintf("%040x", i+1)
		if _, err := sess.Add(context.Background(), session.AddRequest{URI: "magnet:?xt=urn:btih:" + h, Paused: true}); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	srv := httptest.NewServer(metrics.Handler(sess, metrics.Options{PerTorrent: true, MaxTorrents: 2}))
	t.Cleanup(srv.Close)
	s := scrapeURL(t, srv.URL, "")
	if v := s.must(t, "gobit_metrics_torrents_omitted"); v != 1 {
		t.Errorf("omitted %v, want 1", v)
	}
	for i, h := range hashes {
		_, ok := s.get("gobit_torrent_peers", "info_hash", h)
		if ok != (i < 2) {
			t.Errorf("torrent %d (%s): has series %v, want %v", i, h, ok, i < 2)
		}
	}
	if n := len(s["gobit_torrent_peers"].GetMetric()); n != 2 {
		t.Errorf("%d torrents with series, want 2", n)
	}
	checkStates(t, s, map[string]float64{"paused": 3})
	lintCollector(t, metrics.NewCollector(sess, metrics.Options{PerTorrent: true, MaxTorrents: 2}))
}
