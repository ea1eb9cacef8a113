package metrics

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/session"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultMaxTorrents is how many torrents get per-torrent series when
// Options.MaxTorrents is zero. Each torrent has eleven series, so the
// default keeps a scrape near eleven thousand series at most; a seedbox
// with more torrents gets series for the first DefaultMaxTorrents in the
// order they were added (and gobit_metrics_torrents_omitted says how many
// were left out), or turns them off.
const DefaultMaxTorrents = 1000

// maxLabelLen caps a label value taken from a torrent (its name); longer
// names are cut, so one torrent cannot make every scrape huge.
const maxLabelLen = 200

// Options configure a Collector.
type Options struct {
	// PerTorrent turns on the per-torrent series (gobit_torrent_*).
	PerTorrent bool
	// MaxTorrents caps the torrents that get per-torrent series
	// (DefaultMaxTorrents when zero or negative).
	MaxTorrents int
}

// Source is what a Collector reads; *session.Session is one.
type Source interface {
	Metrics() session.MetricsSnapshot
}

// Collector is a prometheus.Collector reading a Source at each scrape.
type Collector struct {
	src  Source
	opts Options

	downloaded, uploaded, downRate, upRate   *prometheus.Desc
	torrents, peers, errors                  *prometheus.Desc
	blocked                                  *prometheus.Desc
	diskRunning, diskQueued, diskWrite       *prometheus.Desc
	announces, announceErrors                *prometheus.Desc
	dhtNodes, dhtGood, dhtHashes, dhtPeers   *prometheus.Desc
	dhtRecv, dhtSent, dhtResp, dhtTimeouts   *prometheus.Desc
	dhtDropped                               *prometheus.Desc
	tDown, tUp, tDownRate, tUpRate, tPeers   *prometheus.Desc
	tSeeds, tPieces, tHave, tProgress, tSize *prometheus.Desc
	tCompleted, omitted                      *prometheus.Desc
}

// NewCollector returns a Collector of src.
func NewCollector(src Source, opts Options) *Collector {
	if opts.MaxTorrents <= 0 {
		opts.MaxTorrents = DefaultMaxTorrents
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("gobit_"+name, help, labels, nil)
	}
	t := func(name, help string) *prometheus.Desc {
		return d("torrent_"+name, help, "info_hash", "name")
	}
	return &Collector{
		src:  src,
		opts: opts,

		downloaded: d("downloaded_bytes_total", "Payload bytes received by all torrents since the daemon started."),
		uploaded:   d("uploaded_bytes_total", "Payload bytes sent by all torrents since the daemon started."),
		downRate:   d("download_rate_bytes_per_second", "Current payload download rate of all torrents."),
		upRate:     d("upload_rate_bytes_per_second", "Current payload upload rate of all torrents."),
		torrents:   d("torrents", "Torrents by state.", "state"),
		peers:      d("peers", "Connected peers of all torrents, by where their address came from.", "source"),
		blocked:    d("blocked_connections_total", "Incoming connections and peer addresses refused because they are on the IP blocklist."),
		errors:     d("errors_total", "Errors by kind: disk (failed disk operations), hash (pieces that failed verification), peer_protocol (peers closed for breaking the protocol), tracker (failed announces).", "kind"),

		diskRunning: d("disk_jobs_running", "Disk jobs (hashing, writes, reads, checks) running in the disk pool."),
		diskQueued:  d("disk_queue_depth", "Disk jobs waiting for a worker of the disk pool."),
		diskWrite:   d("disk_write_duration_seconds", "Time taken to write each verified piece to disk."),

		announces:      d("tracker_announces_total", "Announces sent, by tracker host.", "tracker"),
		announceErrors: d("tracker_announce_errors_total", "Announces that failed, by tracker host.", "tracker"),

		dhtNodes:    d("dht_nodes", "Nodes in the DHT routing table."),
		dhtGood:     d("dht_good_nodes", "Nodes in the DHT routing table that answered recently."),
		dhtHashes:   d("dht_info_hashes", "Info hashes in the DHT node's peer store."),
		dhtPeers:    d("dht_peers_stored", "Peers in the DHT node's peer store."),
		dhtRecv:     d("dht_queries_received_total", "DHT queries received (past the rate limit), by method.", "kind"),
		dhtSent:     d("dht_queries_sent_total", "DHT queries sent, by method.", "kind"),
		dhtResp:     d("dht_responses_received_total", "Answers received to the DHT node's queries."),
		dhtTimeouts: d("dht_query_timeouts_total", "DHT queries that got no answer in time."),
		dhtDropped:  d("dht_packets_dropped_total", "DHT packets dropped, by reason: rate_limit, malformed.", "reason"),

		tDown:      t("downloaded_bytes_total", "Payload bytes the torrent received over its life."),
		tUp:        t("uploaded_bytes_total", "Payload bytes the torrent sent over its life."),
		tDownRate:  t("download_rate_bytes_per_second", "The torrent's current payload download rate."),
		tUpRate:    t("upload_rate_bytes_per_second", "The torrent's current payload upload rate."),
		tPeers:     t("peers", "The torrent's connected peers."),
		tSeeds:     t("seeds", "The torrent's connected peers that have every piece."),
		tPieces:    t("pieces", "The torrent's number of pieces (0 before a magnet's metadata)."),
		tHave:      t("pieces_verified", "The torrent's pieces verified on disk."),
		tProgress:  t("progress_ratio", "Fraction (0 to 1) of the torrent's wanted bytes verified."),
		tSize:      t("size_bytes", "The torrent's total size (0 before a magnet's metadata)."),
		tCompleted: t("completed_bytes", "Bytes of the torrent's verified pieces."),
		omitted:    d("metrics_torrents_omitted", "Torrents left out of the per-torrent series by the cap on their number."),
	}
}

// Describe sends every metric description of the Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.downloaded, c.uploaded, c.downRate, c.upRate, c.torrents, c.peers, c.errors, c.blocked,
		c.diskRunning, c.diskQueued, c.diskWrite, c.announces, c.announceErrors,
		c.dhtNodes, c.dhtGood, c.dhtHashes, c.dhtPeers, c.dhtRecv, c.dhtSent, c.dhtResp,
		c.dhtTimeouts, c.dhtDropped,
		c.tDown, c.tUp, c.tDownRate, c.tUpRate, c.tPeers, c.tSeeds, c.tPieces, c.tHave,
		c.tProgress, c.tSize, c.tCompleted, c.omitted,
	} {
		ch <- d
	}
}

// sourceNames are the peer sources, in the order of sourceValues.
var sourceNames = []string{"tracker", "dht", "pex", "lsd", "incoming", "user"}

// Collect reads one snapshot and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	m := c.src.Metrics()
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(d, prometheus.CounterValue, v, labels)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(d, prometheus.GaugeValue, v, labels)
	}

	counter(c.downloaded, float64(m.DownloadedBytes))
	counter(c.uploaded, float64(m.UploadedBytes))
	var downRate, upRate int64
	byState := make(map[session.State]int, len(session.States))
	var peers [6]int
	var trackerErrors int64
	for _, t := range m.Torrents {
		downRate += t.DownloadRate
		upRate += t.UploadRate
		byState[t.State]++
		for i, n := range sourceValues(t) {
			peers[i] += n
		}
	}
	gauge(c.downRate, float64(downRate))
	gauge(c.upRate, float64(upRate))
	for _, s := range session.States {
		gauge(c.torrents, float64(byState[s]), string(s))
	}
	for i, name := range sourceNames {
		gauge(c.peers, float64(peers[i]), name)
	}

	gauge(c.diskRunning, float64(m.DiskRunning))
	gauge(c.diskQueued, float64(m.DiskQueued))
	buckets := make(map[float64]uint64, len(m.PieceWrites.Bounds))
	for i, b := range m.PieceWrites.Bounds {
		buckets[b] = m.PieceWrites.Counts[i]
	}
	h, err := prometheus.NewConstHistogram(c.diskWrite, m.PieceWrites.Count, m.PieceWrites.Sum, buckets)
	if err != nil {
		h = prometheus.NewInvalidMetric(c.diskWrite, err)
	}
	ch <- h

	for _, h := range m.Trackers {
		host := labelValue(h.Host)
		counter(c.announces, float64(h.Announces), host)
		counter(c.announceErrors, float64(h.Errors), host)
		trackerErrors += h.Errors
	}
	counter(c.errors, float64(m.DiskErrors), "disk")
	counter(c.errors, float64(m.HashFailures), "hash")
	counter(c.errors, float64(m.ProtocolErrors), "peer_protocol")
	counter(c.errors, float64(trackerErrors), "tracker")
	counter(c.blocked, float64(m.BlockedConnections))

	if d := m.DHT; d != nil {
		gauge(c.dhtNodes, float64(d.Stats.Nodes))
		gauge(c.dhtGood, float64(d.Stats.GoodNodes))
		gauge(c.dhtHashes, float64(d.Stats.InfoHashes))
		gauge(c.dhtPeers, float64(d.Stats.PeersStored))
		for i, kind := range dht.QueryKinds {
			counter(c.dhtRecv, float64(d.Queries.Received[i]), kind)
			counter(c.dhtSent, float64(d.Queries.Sent[i]), kind)
		}
		counter(c.dhtResp, float64(d.Stats.ResponsesIn))
		counter(c.dhtTimeouts, float64(d.Stats.Timeouts))
		counter(c.dhtDropped, float64(d.Stats.DroppedRate), "rate_limit")
		counter(c.dhtDropped, float64(d.Stats.DroppedBad), "malformed")
	}

	if !c.opts.PerTorrent {
		return
	}
	ts := m.Torrents
	gauge(c.omitted, float64(max(0, len(ts)-c.opts.MaxTorrents)))
	if len(ts) > c.opts.MaxTorrents {
		ts = ts[:c.opts.MaxTorrents]
	}
	for _, t := range ts {
		l := []string{t.InfoHash, labelValue(t.Name)}
		counter(c.tDown, float64(t.Downloaded), l...)
		counter(c.tUp, float64(t.Uploaded), l...)
		gauge(c.tDownRate, float64(t.DownloadRate), l...)
		gauge(c.tUpRate, float64(t.UploadRate), l...)
		gauge(c.tPeers, float64(t.Peers), l...)
		gauge(c.tSeeds, float64(t.Seeds), l...)
		gauge(c.tPieces, float64(t.PiecesTotal), l...)
		gauge(c.tHave, float64(t.PiecesHave), l...)
		gauge(c.tProgress, t.Progress, l...)
		gauge(c.tSize, float64(t.TotalSize), l...)
		gauge(c.tCompleted, float64(t.CompletedBytes), l...)
	}
}

// constMetric returns a constant metric, or an invalid one that fails
// the scrape's series (and only those) with err: Collect runs on a
// goroutine of the registry, where a panic would end the daemon.
func constMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels []string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// sourceValues returns t's peers in the order of sourceNames.
func sourceValues(t session.TorrentMetrics) [6]int {
	s := t.PeerSources
	return [6]int{s.Tracker, s.DHT, s.PEX, s.LSD, s.Incoming, s.User}
}

// labelValue makes s a valid, bounded label value: valid UTF-8, at most
// maxLabelLen bytes.
func labelValue(s string) string {
	if len(s) > maxLabelLen {
		s = s[:maxLabelLen]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// scrapeTimeout bounds one scrape; maxScrapes the scrapes served at once.
const (
	scrapeTimeout = 30 * time.Second
	maxScrapes    = 4
)

// Handler returns the /metrics handler: the Collector of src with Go's
// runtime (go_*) and process (process_*) collectors, in the Prometheus
// text format (or OpenMetrics, when the scraper asks for it).
func Handler(src Source, opts Options) http.Handler {
	reg := prometheus.NewRegistry()
	for _, col := range []prometheus.Collector{
		NewCollector(src, opts),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(col); err != nil {
			// Only two collectors describing one metric could cause this,
			// which the tests rule out; say so rather than panic.
			err = fmt.Errorf("metrics: %w", err)
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			})
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: maxScrapes,
		Timeout:             scrapeTimeout,
		EnableOpenMetrics:   true,
	})
}
