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
	"strings"
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

// profiler is a daemon that can profile its CPU use (gobit, --pprof).
type profiler interface {
	// cpuProfile profiles the daemon for d and saves the profile to path.
	cpuProfile(d time.Duration, path string) error
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
	Version          string        // the daemon's own version string
	Settings         string        // the settings the benchmark gave it
	AddSeq, AddPar   time.Duration // adding the first half one by one, the second half 8 requests at a time
	AddSeqN, AddParN int
	// AddBatch is adding AddBatchN torrents addBatchSize to a request, for
	// a daemon that takes several in one request (batchAdder): it adds
	// the second half that way, and a quarter each one by one and 8 at a
	// time.
	AddBatch         time.Duration
	AddBatchN        int
	AddPerRequest    int           // torrents per request in the second half (1 unless the daemon takes several)
	Loaded           time.Duration // from the first add until every torrent was listed and loaded
	Busy, Idle       usage
	IdleLate         usage // idle again at the end of the announce window after the restart
	Routes           []routeStats
	IdleLogPerMin    float64
	Shutdown         time.Duration
	Restart          time.Duration // from the start until every torrent is listed and loaded
	RestartChecked   int           // torrents seen checking during the restart
	Announce         announceStats // over the announce window after the restart
	LiveTrackers     int           // torrents whose tracker answers
	RestartLogPerMin float64
	Shutdown2        time.Duration
	Load             []loadStats // the machine's load average, phase by phase
	// Partial marks a phase cut off by -phase-timeout: its cell says how
	// far the daemon got, and Notes say it in words.
	Partial map[string]string
	Notes   []string
}

// Phases that -phase-timeout can cut off, the keys of result.Partial.
const (
	phaseAdd      = "add"
	phaseLoad     = "load"
	phaseTransfer = "transfer"
	phaseRestart  = "restart"
)

// cut records that phase stopped at the time limit with what it reached.
func (r *result) cut(phase, cell, note string) {
	if r.Partial == nil {
		r.Partial = map[string]string{}
	}
	r.Partial[phase] = cell
	r.Notes = append(r.Notes, note)
	fmt.Fprintf(os.Stderr, "scale: %s: %s\n", r.Client, note)
}

// errPartial is returned (after the report is printed) when a phase was
// cut off by -phase-timeout.
var errPartial = errors.New("a phase reached -phase-timeout; the report shows how far it got")

// measure runs one daemon through the whole benchmark. A phase that
// does not finish within o.phaseTimeout is recorded as far as it got and
// the run goes on with the next; measure then returns errPartial.
func measure(o options, ws benchkit.Workspace, c *corpus, tr *tracker, d daemon) (*result, error) {
	r := &result{Client: d.name(), Version: daemonVersion(d), Settings: daemonSettings(d), AddPerRequest: 1}
	fmt.Fprintf(os.Stderr, "scale: %s: %s\n", d.name(), r.Version)
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

	// Adds: the first half one by one, the rest with 8 requests in
	// flight (several torrents per request where the daemon's clients
	// do that); for a daemon that adds batches (batchAdder), a quarter
	// each one by one and 8 at a time, and the second half in batches of
	// addBatchSize. All within the phase timeout.
	load := watchLoad("adds and loading", loadInterval)
	half := len(c.Items) / 2
	ba, batched := d.(batchAdder)
	seqN, parN := half, len(c.Items)-half
	if batched {
		seqN, parN = half/2, half-half/2
	}
	t0 := time.Now()
	deadline := t0.Add(o.phaseTimeout)
	for _, it := range c.Items[:seqN] {
		if time.Now().After(deadline) {
			break
		}
		if err := d.add(it); err != nil {
			return r, err
		}
		r.AddSeqN++
	}
	r.AddSeq = time.Since(t0)
	t1 := time.Now()
	if r.AddSeqN == seqN {
		if ma, ok := d.(multiAdder); ok {
			r.AddPerRequest = ma.batchSize()
		}
		r.AddParN, err = addParallel(d, c.Items[seqN:seqN+parN], 8, deadline)
		if err != nil {
			return r, err
		}
	}
	r.AddPar = time.Since(t1)
	if batched && r.AddSeqN+r.AddParN == seqN+parN {
		t2 := time.Now()
		rest := c.Items[seqN+parN:]
		for i := 0; i < len(rest) && time.Now().Before(deadline); i += addBatchSize {
			b := rest[i:min(i+addBatchSize, len(rest))]
			if err := ba.addBatch(b); err != nil {
				return r, err
			}
			r.AddBatchN += len(b)
		}
		r.AddBatch = time.Since(t2)
		fmt.Fprintf(os.Stderr, "scale: %s: %d one by one in %s, %d with 8 in flight in %s, %d in batches of %d in %s\n",
			d.name(), r.AddSeqN, r.AddSeq.Round(time.Millisecond), r.AddParN, r.AddPar.Round(time.Millisecond),
			r.AddBatchN, addBatchSize, r.AddBatch.Round(time.Millisecond))
	}
	n := r.AddSeqN + r.AddParN + r.AddBatchN
	fmt.Fprintf(os.Stderr, "scale: %s: added %d in %s\n", d.name(), n, time.Since(t0).Round(time.Millisecond))
	if n < len(c.Items) {
		r.cut(phaseAdd, fmt.Sprintf("%d of %d in %s", n, len(c.Items), o.phaseTimeout),
			fmt.Sprintf("adds: %d of %d torrents added in %s (-phase-timeout); the rest of the run uses those %d", n, len(c.Items), o.phaseTimeout, n))
	}

	st, err := waitStatus(d, time.Until(deadline), func(s daemonStatus) bool { return s.Listed == n && s.Settled == n })
	if err != nil {
		r.cut(phaseLoad, fmt.Sprintf("%d of %d loaded in %s", st.Settled, n, o.phaseTimeout),
			fmt.Sprintf("loading: %d of %d listed, %d loaded (not checking) %s after the first add (-phase-timeout): %v", st.Listed, n, st.Settled, o.phaseTimeout, err))
	} else {
		r.Loaded = time.Since(t0)
	}
	r.Load = append(r.Load, load.end())

	// Busy: while the active torrents transfer.
	load = watchLoad("list latencies (while transferring)", loadInterval)
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
	r.Load = append(r.Load, load.end())
	st, err = d.status()
	if err == nil && st.Complete == n {
		fmt.Fprintf(os.Stderr, "scale: %s: note: the active torrents completed before the busy window ended; raise -active-size or lower -seeder-rate\n", d.name())
	}
	// Transmission never dials loopback peers: the seeder dials the
	// daemon, every few seconds until the downloads are done.
	load = watchLoad("transfer (until the active torrents complete)", loadInterval)
	lastDial := time.Time{}
	st, err = waitStatus(d, o.phaseTimeout, func(s daemonStatus) bool {
		if pp, ok := d.(peerPorter); ok && time.Since(lastDial) > 5*time.Second {
			lastDial = time.Now()
			_, _ = fmt.Fprintf(seeder.Stdin, "connect 127.0.0.1:%d\n", pp.peerPort())
		}
		return s.Complete == n
	})
	if err != nil {
		r.cut(phaseTransfer, fmt.Sprintf("%d of %d complete", st.Complete, n),
			fmt.Sprintf("transfer: %d of %d torrents complete after %s (-phase-timeout): %v", st.Complete, n, o.phaseTimeout, err))
	}
	r.Load = append(r.Load, load.end())

	// Idle.
	time.Sleep(5 * time.Second)
	load = watchLoad("idle", loadInterval)
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
	r.Load = append(r.Load, load.end())

	load = watchLoad("shutdown, restart and announces", loadInterval)
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
	st, err = waitStatus(d, o.phaseTimeout, func(s daemonStatus) bool {
		checked = max(checked, s.Listed-s.Settled)
		return s.Listed == n && s.Settled == n
	})
	r.RestartChecked = checked
	if err != nil {
		r.cut(phaseRestart, fmt.Sprintf("%d of %d loaded in %s", st.Settled, n, o.phaseTimeout),
			fmt.Sprintf("restart: %d of %d listed, %d loaded %s after the start (-phase-timeout): %v", st.Listed, n, st.Settled, o.phaseTimeout, err))
	} else {
		r.Restart = time.Since(t2)
	}
	if rest := o.announceWindow - time.Since(t2); rest > 0 {
		time.Sleep(rest)
	}
	r.Announce = tr.count.stats(o.announceWindow, r.LiveTrackers)
	r.RestartLogPerMin = float64(linesSince(d.logPath(), lines0)) / time.Since(t2).Minutes()
	// Idle again, once the restart's announces are spread out: the first
	// idle window above comes while the first announces still wake
	// torrents (20 a second, so 10,000 take over 8 minutes).
	if a, err = sampleProc(d.pid()); err != nil {
		return r, err
	}
	time.Sleep(o.idleWindow)
	if b, err = sampleProc(d.pid()); err != nil {
		return r, err
	}
	r.IdleLate = usageOf(a, b, d.goroutines())
	if p, ok := d.(profiler); ok && o.lateProfile != "" {
		// After the window, so that profiling does not count in it.
		if err := p.cpuProfile(o.idleWindow, o.lateProfile); err != nil {
			fmt.Fprintf(os.Stderr, "scale: %s: late idle profile: %v\n", d.name(), err)
		}
	}
	st, err = d.status()
	if err != nil {
		return r, err
	}
	if st.Complete != n && r.Partial[phaseTransfer] == "" {
		return r, fmt.Errorf("after the restart %d of %d torrents are complete", st.Complete, n)
	}
	if r.Shutdown2, err = d.stop(time.Minute); err != nil {
		return r, fmt.Errorf("second shutdown: %w", err)
	}
	r.Load = append(r.Load, load.end())
	if len(r.Partial) > 0 {
		return r, errPartial
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

// versioner is a daemon that can name its version.
type versioner interface{ version() string }

// daemonVersion returns the daemon's version as it prints it.
func daemonVersion(d daemon) string {
	var cmd *exec.Cmd
	switch d := d.(type) {
	case versioner:
		return d.version()
	case *gobitDaemon:
		cmd = exec.Command(d.bin, "version")
	default:
		return "unknown"
	}
	out, err := benchkit.RunTimeout(cmd, time.Minute)
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	return firstLine(out)
}

// firstLine returns the first non-empty line of out, trimmed.
func firstLine(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// settingser is a daemon that describes the settings it was given.
type settingser interface{ settings() string }

// daemonSettings describes the settings the benchmark gives the daemon.
func daemonSettings(d daemon) string {
	switch d := d.(type) {
	case settingser:
		return d.settings()
	case *gobitDaemon:
		return "`gobit serve` defaults, with --no-dht --no-lsd --pprof"
	}
	return ""
}

// loadInterval is how often the load average is sampled.
const loadInterval = 5 * time.Second

// isDead reports whether it announces to the dead tracker.
func isDead(o options, it item) bool {
	if o.deadShare <= 0 || it.Active {
		return false
	}
	var i int
	_, _ = fmt.Sscanf(it.Name, "scale-%05d.bin", &i)
	return i%int(1/o.deadShare) == 0
}

// multiAdder is a daemon whose API takes several torrents in one add
// request, as its own clients send them.
type multiAdder interface {
	batchSize() int
	addBatch(items []item) error
}

// addParallel adds items with workers requests in flight until deadline
// and returns how many it added. A multiAdder gets batchSize torrents per
// request.
func addParallel(d daemon, items []item, workers int, deadline time.Time) (int, error) {
	per := 1
	ba, batched := d.(multiAdder)
	if batched {
		per = max(1, ba.batchSize())
	}
	var next, added atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := int(next.Add(int64(per)) - int64(per))
				if i >= len(items) {
					return
				}
				batch := items[i:min(i+per, len(items))]
				var err error
				if batched {
					err = ba.addBatch(batch)
				} else {
					err = d.add(batch[0])
				}
				if err != nil {
					errs[w] = err
					return
				}
				added.Add(int64(len(batch)))
			}
		}()
	}
	wg.Wait()
	return int(added.Load()), errors.Join(errs...)
}

// waitStatus polls the daemon until ok or timeout (at least once, so a
// timeout already spent still reports where the daemon is).
func waitStatus(d daemon, timeout time.Duration, ok func(daemonStatus) bool) (daemonStatus, error) {
	deadline := time.Now().Add(timeout)
	var last daemonStatus
	var lastErr error
	for {
		st, err := d.status()
		if err == nil {
			last = st
			if ok(st) {
				return st, nil
			}
		}
		lastErr = err
		if !time.Now().Before(deadline) {
			break
		}
		time.Sleep(pollEvery(last.Listed))
	}
	return last, fmt.Errorf("timed out after %s (last: %+v, err %v)", timeout.Round(time.Second), last, lastErr)
}

// pollEvery is the pause between two status polls: each lists every
// torrent, which at 10,000 costs the daemon a noticeable share of a core,
// so big lists are polled less often.
func pollEvery(listed int) time.Duration {
	return time.Duration(max(200, listed/5)) * time.Millisecond
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
