// Command scale measures one torrent daemon holding many torrents: gobit,
// and qbittorrent-nox and transmission-daemon beside it, each loaded with
// the same generated torrents through its own API.
//
//	go run ./bench/scale -torrents 10000 -active 50
//
// A loopback opentracker (behind a proxy that counts announces) serves
// every torrent; one libtorrent process seeds the -active torrents, whose
// data the daemon does not have, and the daemon has the data of the rest,
// which it seeds idle. A share of the idle torrents (-dead-share) announce
// to a tracker that refuses connections, to measure the log. The
// benchmark reports, for each daemon: the time to add every torrent (one
// by one, then with 8 requests in flight), the time until all are loaded;
// RSS, CPU, descriptors, sockets and goroutines while the active torrents
// transfer and at idle; the latency of the list routes while they
// transfer (and, with -ui, gobit's web UI's first render in headless
// Chromium); shutdown time; restart until every torrent is listed and
// loaded (and whether any was checked again); announces in the first
// minutes after the restart; and log lines per minute at idle.
//
// An add counts when the daemon's API answers it; qBittorrent answers
// before it has loaded the torrent, so its "all added and loaded" time is
// the one to compare.
//
// It fails on a wrong result (a torrent not added, not loaded, a download
// not completed), never on timing, except that each phase (adding and
// loading, the transfer, the restart) is bounded by -phase-timeout: a
// daemon that does not finish one in time is reported as far as it got
// ("6120 of 10000 in 45m0s"), the run goes on, and the command exits
// non-zero after printing the report. The report also gives each daemon's
// version and settings and the machine's load average in each phase. Run as any user; needs opentracker and
// python3-libtorrent, plus the daemons asked for in -clients.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
)

type options struct {
	torrents, active  int
	idleSize, actSize int64
	clients           []string
	gobit             string
	work              string
	python            string
	idleWindow        time.Duration
	announceWindow    time.Duration
	deadShare         float64
	uploadLimit       int64
	listSamples       int
	phaseTimeout      time.Duration
	keep              bool
	uiRuns            int
	// lateProfile, when set, is where a CPU profile of the daemon is
	// saved, taken for idleWindow right after the late idle window
	// (gobit only, through its --pprof).
	lateProfile string
}

func main() {
	var o options
	var idleSize, actSize, upLimit, clients string
	flag.IntVar(&o.torrents, "torrents", 10000, "torrents in the daemon")
	flag.IntVar(&o.active, "active", 50, "torrents downloaded from a libtorrent seeder during the run")
	flag.StringVar(&idleSize, "size", "16KiB", "payload of each idle torrent")
	flag.StringVar(&actSize, "active-size", "8MiB", "payload of each active torrent")
	flag.StringVar(&upLimit, "seeder-rate", "8MiB", "upload rate limit of the libtorrent seeder, so the active torrents transfer for a while")
	flag.StringVar(&clients, "clients", "gobit", "daemons to measure: gobit, qbittorrent, transmission (comma-separated)")
	flag.StringVar(&o.gobit, "gobit", "", "gobit binary (default: built from this module)")
	flag.StringVar(&o.work, "work", filepath.Join(os.TempDir(), "gobit-scale"), "work directory (the generated torrents are kept for later runs)")
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "python with the libtorrent module")
	flag.DurationVar(&o.idleWindow, "idle", 30*time.Second, "how long idle use is measured")
	flag.StringVar(&o.lateProfile, "late-profile", "", "save a CPU profile of gobit, taken over -idle after the late idle window, to this file")
	flag.DurationVar(&o.announceWindow, "announce-window", time.Minute, "how long announces are counted after the restart (10m in the documented runs)")
	flag.Float64Var(&o.deadShare, "dead-share", 0.1, "share of the idle torrents whose tracker refuses connections")
	flag.IntVar(&o.listSamples, "list-samples", 40, "requests per list route while the active torrents transfer")
	flag.DurationVar(&o.phaseTimeout, "phase-timeout", 45*time.Minute, "wall-clock bound of each phase (adding and loading, the transfer, the restart); a daemon that does not finish one is reported as far as it got")
	flag.BoolVar(&o.keep, "keep", false, "keep the daemons' directories")
	flag.IntVar(&o.uiRuns, "ui", 0, "times the web UI's first render is measured while the active torrents transfer (gobit's UI, in headless Chromium; run from the module root with test/browser's npm packages installed); 0: not measured")
	flag.Parse()
	var err error
	if o.idleSize, err = benchkit.ParseSize(idleSize); err == nil {
		if o.actSize, err = benchkit.ParseSize(actSize); err == nil {
			o.uploadLimit, err = benchkit.ParseSize(upLimit)
		}
	}
	if err != nil {
		fatal(err)
	}
	o.clients = strings.Split(clients, ",")
	if o.active > o.torrents {
		fatal(errors.New("-active exceeds -torrents"))
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; benchkit.KillAll(); os.Exit(2) }()
	results, err := run(o)
	benchkit.KillAll()
	if len(results) > 0 {
		printReport(os.Stdout, o, results)
	}
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "scale:", err)
	os.Exit(1)
}

// run measures every client and returns what it measured.
func run(o options) ([]*result, error) {
	for _, p := range []string{"opentracker"} {
		if _, err := exec.LookPath(p); err != nil {
			return nil, fmt.Errorf("%s is needed: %w", p, err)
		}
	}
	if out, err := benchkit.RunTimeout(exec.Command(o.python, "-c", "import libtorrent"), time.Minute); err != nil {
		return nil, fmt.Errorf("%s cannot import libtorrent (install python3-libtorrent): %w: %s", o.python, err, out)
	}
	ws, err := benchkit.NewWorkspace(o.work)
	if err != nil {
		return nil, err
	}
	if !o.keep {
		defer os.RemoveAll(ws.OutDir)
	}
	if o.gobit == "" {
		o.gobit = filepath.Join(ws.LogDir, "gobit")
		if out, err := benchkit.RunTimeout(exec.Command("go", "build", "-o", o.gobit, "./cmd/gobit"), 10*time.Minute); err != nil {
			return nil, fmt.Errorf("building gobit: %w: %s", err, out)
		}
	}

	// The announce URL must be known before the torrents are made, so the
	// proxy's port is reserved first: the tracker starts on it below.
	trackerPort, err := freePort()
	if err != nil {
		return nil, err
	}
	deadPort, err := freePort()
	if err != nil {
		return nil, err
	}
	announce := fmt.Sprintf("http://127.0.0.1:%d/announce", trackerPort)
	dead := fmt.Sprintf("http://127.0.0.1:%d/announce", deadPort)
	cdir := filepath.Join(ws.Work, fmt.Sprintf("corpus-%d-%d-%d-%d", o.torrents, o.active, o.idleSize, o.actSize))
	t0 := time.Now()
	c, err := makeCorpus(cdir, o.torrents, o.active, o.idleSize, o.actSize, announce, dead, o.deadShare)
	if err != nil {
		return nil, fmt.Errorf("generating torrents: %w", err)
	}
	fmt.Fprintf(os.Stderr, "scale: %d torrents ready in %s\n", len(c.Items), time.Since(t0).Round(time.Millisecond))
	var hashes [][20]byte
	for _, it := range c.Items {
		hashes = append(hashes, it.Hash)
	}
	tr, err := startTracker(filepath.Join(ws.LogDir, "tracker"), ws.LogDir, hashes, trackerPort)
	if err != nil {
		return nil, err
	}
	defer tr.Close()

	var results []*result
	var partial error
	for _, name := range o.clients {
		dir := filepath.Join(ws.OutDir, name)
		var d daemon
		switch name {
		case "gobit":
			d = newGobit(o.gobit, dir, ws.LogDir)
		case "qbittorrent":
			d = newQbittorrent(dir, ws.LogDir)
		case "transmission":
			d = newTransmission(dir, ws.LogDir)
		default:
			return results, fmt.Errorf("unknown client %q", name)
		}
		fmt.Fprintf(os.Stderr, "scale: measuring %s\n", name)
		r, err := measure(o, ws, c, tr, d)
		results = append(results, r)
		if errors.Is(err, errPartial) {
			partial = fmt.Errorf("%s: %w", name, err)
			continue
		}
		if err != nil {
			return results, fmt.Errorf("%s: %w", name, err)
		}
	}
	return results, partial
}
