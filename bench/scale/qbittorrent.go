package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
)

// qbittorrentDaemon drives qbittorrent-nox through its Web API v2, with
// authentication off for loopback clients.
type qbittorrentDaemon struct {
	dir, logDir string
	api         string
	proc        *benchkit.Proc
	client      *http.Client
	runs        int
	peer        int // the peer port of the current run
}

func newQbittorrent(dir, logDir string) *qbittorrentDaemon {
	return &qbittorrentDaemon{dir: dir, logDir: logDir,
		client: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32}}}
}

func (q *qbittorrentDaemon) name() string        { return "qbittorrent" }
func (q *qbittorrentDaemon) pid() int            { return q.proc.Cmd.Process.Pid }
func (q *qbittorrentDaemon) downloadDir() string { return filepath.Join(q.dir, "downloads") }
func (q *qbittorrentDaemon) goroutines() int     { return -1 }
func (q *qbittorrentDaemon) logPath() string {
	return filepath.Join(q.dir, "profile", "qBittorrent", "data", "logs", "qbittorrent.log")
}

func (q *qbittorrentDaemon) version() string {
	out, err := benchkit.RunTimeout(exec.Command("qbittorrent-nox", "--version"), time.Minute)
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	return firstLine(out)
}

func (q *qbittorrentDaemon) settings() string {
	return "DHT, LSD, PeX, UPnP off; queueing off (every torrent active); MaxConnections 2000; " +
		"MaxActiveCheckingTorrents 32 (default 1); bound to lo; Web UI auth off for localhost, CSRF, " +
		"clickjacking and Host checks off (the benchmark's client has no browser headers); file log on; " +
		"the rest qBittorrent's defaults (legacy fastresume files, libtorrent's default file pool and disk cache)"
}

func (q *qbittorrentDaemon) start() error {
	cfgDir := filepath.Join(q.dir, "profile", "qBittorrent", "config")
	for _, d := range []string{cfgDir, q.downloadDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	webPort, peerPort, err := twoPorts()
	if err != nil {
		return err
	}
	q.peer = peerPort
	conf := fmt.Sprintf(`[LegalNotice]
Accepted=true

[BitTorrent]
Session\DHTEnabled=false
Session\LSDEnabled=false
Session\PeXEnabled=false
Session\QueueingSystemEnabled=false
Session\DefaultSavePath=%[1]s
Session\Port=%[2]d
Session\Interface=lo
Session\InterfaceName=lo
Session\MaxConnections=2000
Session\MaxActiveCheckingTorrents=32
Session\uTPRateLimited=false

[Preferences]
Connection\UPnP=false
General\Locale=en
WebUI\Address=127.0.0.1
WebUI\Port=%[3]d
WebUI\LocalHostAuth=false
WebUI\HostHeaderValidation=false
WebUI\CSRFProtection=false
WebUI\ClickjackingProtection=false
Downloads\SavePath=%[1]s

[Application]
FileLogger\Enabled=true
FileLogger\Path=%[4]s
`, q.downloadDir(), peerPort, webPort, filepath.Dir(q.logPath()))
	if err := os.WriteFile(filepath.Join(cfgDir, "qBittorrent.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	q.runs++
	q.api = fmt.Sprintf("http://127.0.0.1:%d", webPort)
	q.proc, err = benchkit.StartProc(fmt.Sprintf("qbittorrent-%d", q.runs), q.dir, q.logDir,
		"qbittorrent-nox", "--profile="+filepath.Join(q.dir, "profile"), fmt.Sprintf("--webui-port=%d", webPort))
	if err != nil {
		return err
	}
	return benchkit.WaitHTTP(q.proc, q.api+"/api/v2/app/webapiVersion", ".", time.Minute)
}

func (q *qbittorrentDaemon) add(it item) error { return q.addBatch([]item{it}) }

// qbBatch is how many .torrent files go in one torrents/add request in
// the batched half of the adds, as a client adding a folder of torrents
// sends them (qBittorrent's web UI and qbittorrent-api post every file
// chosen in one multipart request).
const qbBatch = 50

func (q *qbittorrentDaemon) batchSize() int { return qbBatch }

// addBatch adds items in one multipart torrents/add request.
func (q *qbittorrentDaemon) addBatch(items []item) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, it := range items {
		fw, _ := mw.CreateFormFile("torrents", it.Name+".torrent")
		_, _ = fw.Write(it.Torrent)
	}
	_ = mw.WriteField("savepath", q.downloadDir())
	_ = mw.Close()
	resp, err := q.client.Post(q.api+"/api/v2/torrents/add", mw.FormDataContentType(), &body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "Ok") {
		return fmt.Errorf("qbittorrent add: %s: %s", resp.Status, b)
	}
	return nil
}

func (q *qbittorrentDaemon) status() (st daemonStatus, err error) {
	resp, err := q.client.Get(q.api + "/api/v2/torrents/info")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	var list []struct {
		State    string  `json:"state"`
		Progress float64 `json:"progress"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return st, fmt.Errorf("qbittorrent info: %w", err)
	}
	st.Listed = len(list)
	for _, t := range list {
		if strings.HasPrefix(t.State, "checking") || t.State == "allocating" || t.State == "moving" || t.State == "unknown" {
			continue
		}
		st.Settled++
		if t.Progress == 1 {
			st.Complete++
		}
	}
	return st, nil
}

func (q *qbittorrentDaemon) listRoutes() []listRoute {
	get := func(path string) func() (int, error) {
		return func() (int, error) { return getSize(q.client, q.api+path) }
	}
	return []listRoute{
		{"qbittorrent torrents/info", get("/api/v2/torrents/info")},
		{"qbittorrent sync/maindata", get("/api/v2/sync/maindata?rid=0")},
	}
}

func (q *qbittorrentDaemon) stop(timeout time.Duration) (time.Duration, error) {
	return stopProc(q.proc, timeout)
}

func (q *qbittorrentDaemon) peerPort() int { return q.peer }
