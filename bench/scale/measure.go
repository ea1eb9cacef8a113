package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
)

// daemon is one torrent daemon under measurement.
type daemon interface {
	name() string
	// start starts the daemon on its directory (fresh the first time,
	// with its saved state afterwards) and waits until its API answers.
	start() error
	pid() int
	// downloadDir is where the daemon saves torrents; the benchmark puts
	// the idle torrents' data there before adding them.
	downloadDir() string
	// add adds one torrent, started, saving to downloadDir.
	add(it item) error
	// status counts the torrents the daemon lists.
	status() (daemonStatus, error)
	// listRoutes are the list requests a user interface makes, timed
	// while the active torrents transfer.
	listRoutes() []listRoute
	// goroutines returns the daemon's goroutine count, or -1.
	goroutines() int
	// stop sends SIGTERM and waits for the exit.
	stop(timeout time.Duration) (time.Duration, error)
	logPath() string
}

// daemonStatus counts a daemon's torrents.
type daemonStatus struct {
	Listed   int // torrents listed
	Settled  int // loaded: not checking, not waiting to be checked
	Complete int // every piece verified
}

// listRoute is one timed request; do returns the bytes of the answer.
type listRoute struct {
	Name string
	do   func() (int, error)
}

// routeStats is one list route's latency.
type routeStats struct {
	Name     string
	P50, P99 time.Duration
	Bytes    int
	Err      string
}

// usage is a process's resource use over a window.
type usage struct {
	CPU        float64 // share of one core
	RSS        int64
	FDs        int
	Sockets    int
	Threads    int
	Goroutines int
}

// result is everything measured of one daemon.
type result struct {
	Client           string
	AddSeq, AddPar   time.Duration // adding the first half one by one, the second half 8 at a time
	AddSeqN, AddParN int
	// AddBatch is adding AddBatchN torrents addBatchSize to a request, for
	// a daemon that takes several in one request (batchAdder): it adds
	// the second half that way, and a quarter each one by one and 8 at a
	// time.
	AddBatch         time.Duration
	AddBatchN        int
	Loaded           time.Duration // from the first add until every torrent was listed and loaded
	Busy, Idle       usage
	Routes           []routeStats
	IdleLogPerMin    float64
	Shutdown         time.Duration
	Restart          time.Duration // from the start until every torrent is listed and loaded
	RestartChecked   int           // torrents seen checking during the restart
	Announce         announceStats // over the announce window after the restart
	LiveTrackers     int           // torrents whose tracker answers
	RestartLogPerMin float64
	Shutdown2        time.Duration
}

// measure runs one daemon through the whole benchmark.
func measure(o options, ws benchkit.Workspace, c *corpus, tr *tracker, d daemon) (*result, error) {
	r := &result{Client: d.name()}
	for _, it := range c.Items {
		if !isDead(o, it) {
			r.LiveTrackers++
		}
	}
	seeder, err := startSeeder(o, ws, c)
	if err != nil {
		return r, err
	}
	defer seeder.Stop(5 * time.Second)

	tr.count.reset()
	if err := d.start(); err != nil {
		return r, fmt.Errorf("start: %w", err)
	}
	if err := linkData(c, d.downloadDir()); err != nil {
		return r, err
	}

	// Adds: the first half one by one, the rest with 8 in flight; or, for
	// a daemon that adds batches, a quarter each and the second half in
	// batches.
	half := len(c.Items) / 2
	ba, batched := d.(batchAdder)
	seqN, parN := half, len(c.Items)-half
	if batched {
		seqN, parN = half/2, half-half/2
	}
	t0 := time.Now()
	for _, it := range c.Items[:seqN] {
		if err := d.add(it); err != nil {
			return r, err
		}
	}
	r.AddSeq, r.AddSeqN = time.Since(t0), seqN
	t1 := time.Now()
	if err := addParallel(d, c.Items[seqN:seqN+parN], 8); err != nil {
		return r, err
	}
	r.AddPar, r.AddParN = time.Since(t1), parN
	if batched {
		t2 := time.Now()
		rest := c.Items[seqN+parN:]
		for i := 0; i < len(rest); i += addBatchSize {
			if err := ba.addBatch(rest[i:min(i+addBatchSize, len(rest))]); err != nil {
				return r, err
			}
		}
		r.AddBatch, r.AddBatchN = time.Since(t2), len(rest)
		fmt.Fprintf(os.Stderr, "scale: %s: %d one by one in %s, %d with 8 in flight in %s, %d in batches of %d in %s\n",
			d.name(), seqN, r.AddSeq.Round(time.Millisecond), parN, r.AddPar.Round(time.Millisecond),
			len(rest), addBatchSize, r.AddBatch.Round(time.Millisecond))
	}
	fmt.Fprintf(os.Stderr, "scale: %s: added %d in %s\n", d.name(), len(c.Items), time.Since(t0).Round(time.Millisecond))

	n := len(c.Items)
	if _, err := waitStatus(d, 15*time.Minute, func(s daemonStatus) bool { return s.Listed == n && s.Settled == n }); err != nil {
		return r, fmt.Errorf("waiting for every torrent to load: %w", err)
	}
	r.Loaded = time.Since(t0)

	// Busy: while the active torrents transfer.
	a, err := sampleProc(d.pid())
	if err != nil {
		return r, err
	}
	for _, rt := range d.listRoutes() {
		r.Routes = append(r.Routes, timeRoute(rt, o.listSamples))
	}
	if w, ok := d.(webUI); ok && o.uiRuns > 0 {
		rs := timeUIRender(ws, w.uiBase(), len(c.Items), o.uiRuns)
		r.Routes = append(r.Routes, rs)
		if rs.Err != "" {
			return r, fmt.Errorf("web UI: %s", rs.Err)
		}
	}
	b, err := sampleProc(d.pid())
	if err != nil {
		return r, err
	}
	r.Busy = usageOf(a, b, d.goroutines())
	st, err := d.status()
	if err == nil && st.Complete == n {
		fmt.Fprintf(os.Stderr, "scale: %s: note: the active torrents completed before the busy window ended; raise -active-size or lower -seeder-rate\n", d.name())
	}
	// Transmission never dials loopback peers: the seeder dials the
	// daemon, every few seconds until the downloads are done.
	lastDial := time.Time{}
	if _, err := waitStatus(d, 15*time.Minute, func(s daemonStatus) bool {
		if pp, ok := d.(peerPorter); ok && time.Since(lastDial) > 5*time.Second {
			lastDial = time.Now()
			_, _ = fmt.Fprintf(seeder.Stdin, "connect 127.0.0.1:%d\n", pp.peerPort())
		}
		return s.Complete == n
	}); err != nil {
		return r, fmt.Errorf("waiting for the active torrents to complete: %w", err)
	}

	// Idle.
	time.Sleep(5 * time.Second)
	lines0 := countLines(d.logPath())
	a, err = sampleProc(d.pid())
	if err != nil {
		return r, err
	}
	time.Sleep(o.idleWindow)
	b, err = sampleProc(d.pid())
	if err != nil {
		return r, err
	}
	r.Idle = usageOf(a, b, d.goroutines())
	r.IdleLogPerMin = float64(linesSince(d.logPath(), lines0)) / o.idleWindow.Minutes()

	if r.Shutdown, err = d.stop(time.Minute); err != nil {
		// A slow shutdown is a figure, not a wrong result: the daemon
		// was killed; the restart below shows what that cost.
		fmt.Fprintf(os.Stderr, "scale: %s: shutdown: %v (killed; the restart is measured anyway)\n", d.name(), err)
	}

	// Restart on the saved state.
	tr.count.reset()
	t2 := time.Now()
	lines0 = countLines(d.logPath())
	if err := d.start(); err != nil {
		return r, fmt.Errorf("restart: %w", err)
	}
	checked := 0
	if _, err := waitStatus(d, 15*time.Minute, func(s daemonStatus) bool {
		checked = max(checked, s.Listed-s.Settled)
		return s.Listed == n && s.Settled == n
	}); err != nil {
		return r, fmt.Errorf("waiting for every torrent to load after the restart: %w", err)
	}
	r.Restart = time.Since(t2)
	r.RestartChecked = checked
	if rest := o.announceWindow - time.Since(t2); rest > 0 {
		time.Sleep(rest)
	}
	r.Announce = tr.count.stats(o.announceWindow, r.LiveTrackers)
	r.RestartLogPerMin = float64(linesSince(d.logPath(), lines0)) / time.Since(t2).Minutes()
	st, err = d.status()
	if err != nil {
		return r, err
	}
	if st.Complete != n {
		return r, fmt.Errorf("after the restart %d of %d torrents are complete", st.Complete, n)
	}
	if r.Shutdown2, err = d.stop(time.Minute); err != nil {
		return r, fmt.Errorf("second shutdown: %w", err)
	}
	return r, nil
}

// addBatchSize is the torrents of one request of a batchAdder.
const addBatchSize = 500

// batchAdder is a daemon that adds several torrents in one request.
type batchAdder interface {
	// addBatch adds items, started, saving to downloadDir.
	addBatch(items []item) error
}

// isDead reports whether it announces to the dead tracker.
func isDead(o options, it item) bool {
	if o.deadShare <= 0 || it.Active {
		return false
	}
	var i int
	_, _ = fmt.Sscanf(it.Name, "scale-%05d.bin", &i)
	return i%int(1/o.deadShare) == 0
}

// addParallel adds items with workers requests in flight.
func addParallel(d daemon, items []item, workers int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(items) {
					return
				}
				if err := d.add(items[i]); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitStatus polls the daemon until ok or timeout.
func waitStatus(d daemon, timeout time.Duration, ok func(daemonStatus) bool) (daemonStatus, error) {
	deadline := time.Now().Add(timeout)
	var last daemonStatus
	var lastErr error
	for time.Now().Before(deadline) {
		st, err := d.status()
		if err == nil {
			last = st
			if ok(st) {
				return st, nil
			}
		}
		lastErr = err
		time.Sleep(200 * time.Millisecond)
	}
	return last, fmt.Errorf("timed out after %s (last: %+v, err %v)", timeout, last, lastErr)
}

func timeRoute(rt listRoute, samples int) routeStats {
	rs := routeStats{Name: rt.Name}
	var ds []time.Duration
	for i := 0; i < samples; i++ {
		t := time.Now()
		n, err := rt.do()
		if err != nil {
			rs.Err = err.Error()
			return rs
		}
		ds = append(ds, time.Since(t))
		rs.Bytes = n
		time.Sleep(100 * time.Millisecond)
	}
	rs.P50, rs.P99 = percentile(ds, 50), percentile(ds, 99)
	return rs
}

func usageOf(a, b procSample, goroutines int) usage {
	return usage{CPU: cpuShare(a, b), RSS: b.RSS, FDs: b.FDs, Sockets: b.Sockets, Threads: b.Threads, Goroutines: goroutines}
}

// linkData puts the idle torrents' payloads into dir (hard links where
// possible), so the daemon finds them complete.
func linkData(c *corpus, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, it := range c.Items {
		if it.Active {
			continue
		}
		src, dst := filepath.Join(c.DataDir, it.Name), filepath.Join(dir, it.Name)
		if err := os.Link(src, dst); err == nil || os.IsExist(err) {
			continue
		}
		if err := copyFile(src, dst); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// startSeeder starts one libtorrent process seeding the active torrents.
func startSeeder(o options, ws benchkit.Workspace, c *corpus) (*benchkit.Proc, error) {
	dir := filepath.Join(ws.LogDir, "seeder")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "ltseeds.py")
	if err := os.WriteFile(script, ltseedsScript, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	argv := []string{o.python, script, "--save", c.DataDir, "--port", strconv.Itoa(port), "--upload-limit", strconv.FormatInt(o.uploadLimit, 10)}
	for _, it := range c.Items {
		if !it.Active {
			continue
		}
		p := filepath.Join(dir, it.Name+".torrent")
		if err := os.WriteFile(p, it.Torrent, 0o644); err != nil {
			return nil, err
		}
		argv = append(argv, p)
	}
	if len(argv) == 8 { // no active torrent
		return benchkit.StartCmd("seeder", ws.LogDir, exec.Command("sleep", "infinity"))
	}
	p, err := benchkit.StartProc("seeder", dir, ws.LogDir, argv...)
	if err != nil {
		return nil, err
	}
	if err := p.WaitFor("READY", 5*time.Minute); err != nil {
		p.Kill()
		return nil, fmt.Errorf("libtorrent seeder: %w", err)
	}
	return p, nil
}

// peerPorter is a daemon whose peer port the seeder can dial.
type peerPorter interface{ peerPort() int }

// getSize makes one GET and returns the size of the answer's body.
func getSize(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return int(n), err
}

// twoPorts returns two TCP ports free on loopback: a daemon's API (or
// RPC) port and its peer port.
func twoPorts() (api, peer int, err error) {
	if api, err = freePort(); err != nil {
		return 0, 0, err
	}
	peer, err = freePort()
	return api, peer, err
}

// stopProc sends SIGTERM and waits for the exit (killing the process
// after timeout); it returns how long the exit took.
func stopProc(p *benchkit.Proc, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	err := p.Wait(timeout)
	if err != nil {
		p.Kill()
	}
	return time.Since(start), err
}
