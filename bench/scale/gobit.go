package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
)

// gobitDaemon drives `gobit serve`.
type gobitDaemon struct {
	bin, dir, logDir string
	api              string // http://127.0.0.1:port
	proc             *benchkit.Proc
	client           *http.Client
	logFile          string
	runs             int
	peer             int // the peer port of the current run
}

func newGobit(bin, dir, logDir string) *gobitDaemon {
	return &gobitDaemon{bin: bin, dir: dir, logDir: logDir, logFile: filepath.Join(dir, "gobit.log"),
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32}}}
}

func (g *gobitDaemon) name() string    { return "gobit" }
func (g *gobitDaemon) logPath() string { return g.logFile }
func (g *gobitDaemon) pid() int        { return g.proc.Cmd.Process.Pid }

func (g *gobitDaemon) start() error {
	apiPort, peerPort, err := twoPorts()
	if err != nil {
		return err
	}
	g.peer = peerPort
	g.api = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	for _, d := range []string{"downloads", "state"} {
		if err := os.MkdirAll(filepath.Join(g.dir, d), 0o755); err != nil {
			return err
		}
	}
	g.runs++
	g.proc, err = benchkit.StartProc(fmt.Sprintf("gobit-%d", g.runs), g.dir, g.logDir, g.bin, "serve",
		"--addr", fmt.Sprintf("127.0.0.1:%d", apiPort),
		"--port", strconv.Itoa(peerPort), "--listen-host", "127.0.0.1",
		"--download-dir", filepath.Join(g.dir, "downloads"),
		"--data-dir", filepath.Join(g.dir, "state"),
		"--no-dht", "--no-lsd", "--pprof",
		"--log-file", g.logFile)
	if err != nil {
		return err
	}
	return benchkit.WaitHTTP(g.proc, g.api+"/api/v1/session", "{", 60*time.Second)
}

func (g *gobitDaemon) downloadDir() string { return filepath.Join(g.dir, "downloads") }

func (g *gobitDaemon) add(it item) error {
	resp, err := g.client.Post(g.api+"/api/v1/torrents", "application/x-bittorrent", bytes.NewReader(it.Torrent))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("gobit add: %s: %s", resp.Status, body)
	}
	return nil
}

// addBatch adds items in one multipart request (one store commit in the
// daemon).
func (g *gobitDaemon) addBatch(items []item) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, it := range items {
		w, err := mw.CreateFormFile("torrents", it.Name+".torrent")
		if err != nil {
			return err
		}
		if _, err := w.Write(it.Torrent); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}
	resp, err := g.client.Post(g.api+"/api/v1/torrents", mw.FormDataContentType(), &buf)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("gobit add of %d: %s: %s", len(items), resp.Status, body)
	}
	return nil
}

// gobitStatus is the part of a list entry the benchmark reads.
type gobitStatus struct {
	InfoHash string  `json:"info_hash"`
	State    string  `json:"state"`
	Progress float64 `json:"progress"`
}

func (g *gobitDaemon) status() (st daemonStatus, err error) {
	// Only the fields read (a daemon without ?fields= answers them all).
	resp, err := g.client.Get(g.api + "/api/v1/torrents?fields=info_hash,state,progress")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	var list []gobitStatus
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return st, fmt.Errorf("gobit list: %w", err)
	}
	st.Listed = len(list)
	for _, t := range list {
		switch t.State {
		case "seeding":
			st.Settled++
			st.Complete++
		case "downloading", "paused", "queued", "error":
			st.Settled++
		}
	}
	return st, nil
}

func (g *gobitDaemon) listRoutes() []listRoute {
	return []listRoute{
		{"/api/v1/torrents", func() (int, error) { return g.get("/api/v1/torrents") }},
		{"/api/v1/torrents?fields=info_hash,name,state,progress", func() (int, error) {
			return g.get("/api/v1/torrents?fields=info_hash,name,state,progress")
		}},
		{"/api/v1/torrents?limit=100 (a page)", func() (int, error) { return g.get("/api/v1/torrents?offset=5000&limit=100") }},
		{"/api/v1/events first message", g.firstEvent},
		{"transmission torrent-get", func() (int, error) { return transmissionList(g.client, g.api+"/transmission/rpc", "", "") }},
		{"qbittorrent sync/maindata", func() (int, error) { return g.get("/api/v2/sync/maindata?rid=0") }},
	}
}

func (g *gobitDaemon) get(path string) (int, error) { return getSize(g.client, g.api+path) }

// firstEvent opens the event stream and returns the size of its first
// message (the snapshot).
func (g *gobitDaemon) firstEvent() (int, error) {
	resp, err := g.client.Get(g.api + "/api/v1/events")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("events: %s", resp.Status)
	}
	br := bufio.NewReaderSize(resp.Body, 1<<20)
	n := 0
	for {
		line, err := br.ReadString('\n')
		n += len(line)
		if err != nil {
			return n, err
		}
		if strings.HasPrefix(line, "data:") {
			return n, nil
		}
	}
}

func (g *gobitDaemon) goroutines() int {
	resp, err := g.client.Get(g.api + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "goroutine profile: total")))
	if err != nil {
		return -1
	}
	return n
}

func (g *gobitDaemon) cpuProfile(d time.Duration, path string) error {
	c := &http.Client{Timeout: d + time.Minute}
	resp, err := c.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", g.api, int(d.Seconds())))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (g *gobitDaemon) stop(timeout time.Duration) (time.Duration, error) {
	return stopProc(g.proc, timeout)
}

func (g *gobitDaemon) peerPort() int { return g.peer }
