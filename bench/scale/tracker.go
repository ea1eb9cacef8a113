package main

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
)

// tracker is opentracker behind a counting proxy: every announce passes
// through countingProxy, which records when it came and for which torrent.
type tracker struct {
	proc  *benchkit.Proc
	srv   *http.Server
	URL   string // the announce URL torrents carry
	count *announceCounter
}

// startTracker starts opentracker for hashes (it is whitelist-only) and
// the counting proxy in front of it.
// The proxy listens on 127.0.0.1:proxyPort.
func startTracker(dir, logDir string, hashes [][20]byte, proxyPort int) (*tracker, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	_ = os.Chmod(dir, 0o755)
	wl := make([]byte, 0, len(hashes)*41)
	for _, h := range hashes {
		wl = append(wl, hex.EncodeToString(h[:])...)
		wl = append(wl, '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "whitelist.txt"), wl, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "opentracker.conf"), []byte("access.stats 127.0.0.1\n"), 0o644); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	proc, err := benchkit.StartProc("opentracker", dir, logDir, benchkit.TrackerArgv(dir, "127.0.0.1", port)...)
	if err != nil {
		return nil, err
	}
	backend := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := benchkit.WaitHTTP(proc, backend+"/stats?mode=version", "", 10*time.Second); err != nil {
		proc.Kill()
		return nil, fmt.Errorf("opentracker: %w", err)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", proxyPort))
	if err != nil {
		proc.Kill()
		return nil, err
	}
	target, _ := url.Parse(backend)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = nil
	t := &tracker{proc: proc, count: newAnnounceCounter(), URL: "http://" + ln.Addr().String() + "/announce"}
	t.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/announce" {
			t.count.add(r.URL.Query().Get("info_hash"))
		}
		rp.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

// Close stops the proxy and opentracker.
func (t *tracker) Close() {
	_ = t.srv.Close()
	t.proc.Stop(2 * time.Second)
}

// announceCounter records announces per second since its last reset.
type announceCounter struct {
	mu      sync.Mutex
	start   time.Time
	perSec  []int
	seen    map[string]bool
	firstAt map[string]time.Duration
}

func newAnnounceCounter() *announceCounter {
	c := &announceCounter{}
	c.reset()
	return c
}

// reset starts counting afresh (at a daemon's start).
func (c *announceCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start = time.Now()
	c.perSec = nil
	c.seen = map[string]bool{}
	c.firstAt = map[string]time.Duration{}
}

func (c *announceCounter) add(infoHash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := time.Since(c.start)
	s := int(d / time.Second)
	for len(c.perSec) <= s {
		c.perSec = append(c.perSec, 0)
	}
	c.perSec[s]++
	if !c.seen[infoHash] {
		c.seen[infoHash] = true
		c.firstAt[infoHash] = d
	}
}

// announceStats summarises the announces of the first window after reset.
type announceStats struct {
	Total      int           // announces in the window
	Torrents   int           // distinct torrents that announced
	PeakPerSec int           // the busiest second
	PeakPer10s int           // the busiest ten seconds
	AllBy      time.Duration // when the last of want torrents first announced (0: not all did)
}

func (c *announceCounter) stats(window time.Duration, want int) announceStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	var st announceStats
	n := min(len(c.perSec), int(window/time.Second))
	for i := 0; i < n; i++ {
		st.Total += c.perSec[i]
		st.PeakPerSec = max(st.PeakPerSec, c.perSec[i])
		sum := 0
		for j := i; j < min(i+10, n); j++ {
			sum += c.perSec[j]
		}
		st.PeakPer10s = max(st.PeakPer10s, sum)
	}
	st.Torrents = len(c.seen)
	if len(c.firstAt) >= want {
		for _, d := range c.firstAt {
			st.AllBy = max(st.AllBy, d)
		}
	}
	return st
}

// freePort returns a TCP port free on loopback at the time of the call.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
