package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
	"github.com/gobit/gobit/bench/wan/netem"
)

// ErrNotInstalled reports a client whose program is missing; its row says
// "n/a" instead of failing the benchmark.
var ErrNotInstalled = errors.New("not installed")

// errClientsFailed reports that at least one client failed or delivered
// wrong data; the tables are still printed.
var errClientsFailed = errors.New("at least one client failed or delivered wrong data (see above)")

// env is what every run needs.
type env struct {
	o         options
	work      string
	logDir    string // per-invocation: logs, trackers, results
	outDir    string // per-invocation downloads, below logDir
	payload   string
	template  []byte
	hash      [20]byte
	gobit     string
	script    string
	anacrolix string // "" when not installed
	port      int    // the last peer port handed out
}

// swarm is one scenario's emulated network and tracker.
type swarm struct {
	sc          *scenario
	net         *netem.Network
	close       func() error // stops the tracker and closes net; once, the second caller waits for the first
	tracker     *benchkit.Proc
	trackerNode *netem.Node
	nodes       map[string]*netem.Node
	torrent     string // the .torrent with this swarm's tracker
	scrape      string // the tracker's scrape URL
}

// toLink converts a scenario link to the emulator's.
func toLink(l linkSpec) netem.Link {
	return netem.Link{UpRate: l.Up, DownRate: l.Down, Delay: l.RTT / 2, Loss: l.Loss, QueueBytes: l.Queue}
}

// run prepares the payload and runs each scenario of o.
func run(o options) error {
	if err := netem.Available(); err != nil {
		return fmt.Errorf("the link emulator cannot run here (run as root): %w", err)
	}
	if err := benchkit.CheckTools(o.python); err != nil {
		return err
	}
	e := &env{o: o, port: 20000}
	ws, err := benchkit.NewWorkspace(o.work)
	if err != nil {
		return err
	}
	e.work, e.logDir, e.outDir = ws.Work, ws.LogDir, ws.OutDir
	defer os.RemoveAll(e.outDir)
	e.script = filepath.Join(e.work, "ltpeer.py")
	if err := os.WriteFile(e.script, benchkit.LTPeerScript, 0o755); err != nil {
		return err
	}
	e.anacrolix = findAnacrolix(o.anacrolix)
	if e.gobit = o.gobit; e.gobit == "" && (slices.Contains(o.clients, clientGobit) || o.gobitSeeders) {
		e.gobit = filepath.Join(e.work, "bin", "gobit")
		logf("building gobit into %s", e.gobit)
		cmd := exec.Command("go", "build", "-o", e.gobit, "github.com/gobit/gobit/cmd/gobit")
		if out, err := benchkit.RunTimeout(cmd, 10*time.Minute); err != nil {
			return fmt.Errorf("building gobit (run from inside the gobit module): %w: %s", err, out)
		}
	}
	dataDir := filepath.Join(e.work, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	logf("payload: %s of pseudo-random data in %s", benchkit.FmtSize(o.size), dataDir)
	if e.payload, err = benchkit.EnsurePayload(dataDir, o.size); err != nil {
		return err
	}
	if e.template, err = benchkit.EnsureTemplate(e.payload, o.piece); err != nil {
		return err
	}
	if e.hash, err = benchkit.InfoHash(e.template); err != nil {
		return err
	}
	var failed bool
	var all string
	for _, name := range o.scenarios {
		rep, err := e.runScenario(name)
		if err != nil && !errors.Is(err, errClientsFailed) {
			return fmt.Errorf("scenario %s: %w", name, err)
		}
		failed = failed || err != nil
		md := rep.markdown()
		all += md + "\n"
		if err := writeResults(o, md); err != nil {
			return err
		}
	}
	_ = os.WriteFile(filepath.Join(e.logDir, "results.md"), []byte(all), 0o644)
	logf("logs and results.md in %s", e.logDir)
	if failed {
		return errClientsFailed
	}
	return nil
}

// findAnacrolix returns the path of anacrolix's torrent CLI, or "".
func findAnacrolix(flagPath string) string {
	if flagPath != "" {
		return flagPath
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(string(trimNL(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	dirs = append(dirs, "/root/go/bin")
	for _, d := range dirs {
		p := filepath.Join(d, "torrent")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath("torrent"); err == nil {
		return p
	}
	return ""
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// nextPort returns a peer port not used by an earlier run, so that no
// client meets a previous run's connections in TIME_WAIT on its port.
func (e *env) nextPort() int {
	e.port++
	if e.port > 60000 {
		e.port = 20001
	}
	return e.port
}

// runScenario builds scenario name's network and runs every client in it
// for o.rounds rounds.
func (e *env) runScenario(name string) (*report, error) {
	o := e.o
	sc, err := buildScenario(name, o.scenarioParams(name))
	if err != nil {
		return nil, err
	}
	clients := o.clientsFor(name)
	rep := newReport(sc, clients, o.cc, o.mtu, o.piece, commandLine())
	if len(clients) == 0 {
		return rep, errors.New("no client of -clients runs in this scenario")
	}
	sw, err := e.buildSwarm(sc)
	if err != nil {
		return rep, err
	}
	defer sw.close()
	logf("scenario %s: %s; ideal %s", sc.Name, sc.Title, fmtDur(sc.idealTime()))
	var failed bool
	for round := 1; round <= o.rounds; round++ {
		results := map[string]runResult{}
		n := len(clients)
		for k := range n {
			c := clients[(k+round-1)%n]
			if _, ok := rep.notes[c]; ok {
				continue
			}
			logf("scenario %s round %d/%d: %s", sc.Name, round, o.rounds, c)
			r := e.runOnce(sw, c, round)
			switch {
			case errors.Is(r.err, ErrNotInstalled):
				rep.notes[c] = r.err.Error()
				logf("  %s: n/a: %v", c, r.err)
				continue
			case r.err != nil:
				failed = true
				logf("  %s FAILED: %v", c, r.err)
			default:
				logf("  %s: %.1f s (%.0f %% of the ideal), CPU %.2f s, peak RSS %.0f MiB, link in %.3f × payload, emulator CPU %.1f s%s; data identical",
					c, r.wall, 100*sc.idealTime().Seconds()/r.wall, r.cpu, float64(r.rss)/(1<<20), float64(r.linkIn)/float64(sc.Size), r.emuCPU, othersText(r))
			}
			results[c] = r
		}
		rep.rounds = append(rep.rounds, results)
	}
	if failed {
		return rep, errClientsFailed
	}
	return rep, nil
}

func othersText(r runResult) string {
	if len(r.others) == 0 {
		return ""
	}
	return fmt.Sprintf(", median libtorrent leecher %.1f s", benchkit.Median(r.others))
}

// buildSwarm makes the scenario's network (every node, including the
// seeders that join later) and starts its tracker.
func (e *env) buildSwarm(sc *scenario) (*swarm, error) {
	n, err := netem.New(netem.Config{Prefix: "gobitwan", MTU: e.o.mtu, Seed: e.o.seed, Congestion: e.o.cc})
	if err != nil {
		return nil, err
	}
	sw := &swarm{sc: sc, net: n, nodes: map[string]*netem.Node{}}
	// opentracker drops root for "nobody", which clears the kill-on-exit
	// signal its start set up: it is stopped here, explicitly.
	sw.close = sync.OnceValue(func() error {
		if sw.tracker != nil {
			sw.tracker.Stop(5 * time.Second)
		}
		return n.Close()
	})
	addNetworkCloser(sw.close)
	fail := func(err error) (*swarm, error) {
		sw.close()
		return nil, err
	}
	if sw.trackerNode, err = n.AddNode("tracker", toLink(sc.Tracker)); err != nil {
		return fail(err)
	}
	for _, p := range slices.Concat(sc.Seeders, sc.Leechers) {
		nd, err := n.AddNode(p.Name, toLink(p.Link))
		if err != nil {
			return fail(err)
		}
		sw.nodes[p.Name] = nd
	}
	if err := n.Start(); err != nil {
		return fail(err)
	}
	dir := filepath.Join(e.logDir, "tracker-"+sc.Name)
	addr := sw.trackerNode.Addr.String()
	if err := benchkit.WriteTrackerFiles(dir, e.hash, addr); err != nil {
		return fail(err)
	}
	const port = 6969
	argv := benchkit.TrackerArgv(dir, addr, port)
	cmd := sw.trackerNode.Command(context.Background(), argv[0], argv[1:]...)
	cmd.Dir = dir
	if sw.tracker, err = benchkit.StartCmd("opentracker-"+sc.Name, e.logDir, cmd); err != nil {
		return fail(err)
	}
	hostPort := net.JoinHostPort(addr, strconv.Itoa(port))
	if err := benchkit.WaitListening(sw.tracker, hostPort, nsDial(sw.trackerNode), 15*time.Second); err != nil {
		return fail(fmt.Errorf("opentracker: %w", err))
	}
	announce := "http://" + hostPort + "/announce"
	sw.scrape = fmt.Sprintf("http://%s/scrape?info_hash=%s", hostPort, urlEscape(e.hash[:]))
	t, err := benchkit.WithAnnounce(e.template, announce)
	if err != nil {
		return fail(err)
	}
	sw.torrent = filepath.Join(e.logDir, "wan-"+sc.Name+".torrent")
	if err := os.WriteFile(sw.torrent, t, 0o644); err != nil {
		return fail(err)
	}
	logf("scenario %s: %d namespaces, opentracker at %s", sc.Name, len(sw.nodes)+1, announce)
	return sw, nil
}

func urlEscape(b []byte) string {
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, 3*len(b))
	for _, c := range b {
		out = append(out, '%', hex[c>>4], hex[c&15])
	}
	return string(out)
}

// nsDial returns a dialer whose sockets belong to nd's namespace.
func nsDial(nd *netem.Node) benchkit.DialFunc {
	return func(network, addr string, timeout time.Duration) (net.Conn, error) {
		var c net.Conn
		err := nd.Run(func() error {
			var err error
			c, err = net.DialTimeout(network, addr, timeout)
			return err
		})
		return c, err
	}
}

var scrapeComplete = regexp.MustCompile(`8:completei(\d+)e`)

// trackerSeeds returns how many seeds the tracker lists for the torrent.
func (sw *swarm) trackerSeeds() (int, error) {
	dial := nsDial(sw.trackerNode)
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		Proxy: nil,
		DialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
			return dial(network, addr, 2*time.Second)
		},
	}}
	resp, err := c.Get(sw.scrape)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, err
	}
	m := scrapeComplete.FindSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("no complete count in the scrape %q", body)
	}
	return strconv.Atoi(string(m[1]))
}

// waitTrackerSeeds waits up to timeout for the tracker to list n seeds,
// so that a leecher's first announce finds the whole swarm.
func (sw *swarm) waitTrackerSeeds(n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		got, err := sw.trackerSeeds()
		if err == nil && got >= n {
			return
		}
		if time.Now().After(deadline) {
			logf("  warning: the tracker lists %d of %d seeders after %s (%v); going on", got, n, timeout, err)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runTimeout bounds one run.
func (e *env) runTimeout(sc *scenario) time.Duration {
	if e.o.timeout > 0 {
		return e.o.timeout
	}
	return 2*time.Minute + 6*sc.idealTime()
}

// group is the processes of one run, stopped together at its end.
type group struct {
	mu    sync.Mutex
	procs []*benchkit.Proc
	errs  []error
}

func (g *group) add(p *benchkit.Proc) {
	g.mu.Lock()
	g.procs = append(g.procs, p)
	g.mu.Unlock()
}

func (g *group) fail(err error) {
	g.mu.Lock()
	g.errs = append(g.errs, err)
	g.mu.Unlock()
}

func (g *group) err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return errors.Join(g.errs...)
}

func (g *group) stopAll() {
	g.mu.Lock()
	procs := slices.Clone(g.procs)
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Stop(10 * time.Second)
		}()
	}
	wg.Wait()
}

// runOnce runs client once in sw's scenario on a fresh swarm.
func (e *env) runOnce(sw *swarm, client string, round int) runResult {
	sc := sw.sc
	tag := fmt.Sprintf("%s-%s-r%d", sc.Name, client, round)
	runDir := filepath.Join(e.outDir, tag)
	if err := freshDir(runDir); err != nil {
		return runResult{err: err}
	}
	defer os.RemoveAll(runDir)
	benchkit.SettleDisk()
	port := e.nextPort()
	g := &group{}
	defer g.stopAll()
	timeout := e.runTimeout(sc)

	before := statsByNode(sw.net.Stats())
	cpu0 := sw.net.CPU()
	start := time.Now()
	var res runResult
	var err error
	switch sc.Name {
	case scenarioMixed, scenarioChurn:
		res, err = e.runLeech(sw, g, client, tag, runDir, port, timeout)
	case scenarioCrowd:
		res, err = e.runCrowd(sw, g, client, tag, runDir, port, timeout)
	case scenarioSeeder:
		res, err = e.runSeed(sw, g, client, tag, runDir, port, timeout)
	}
	g.stopAll()
	res.runWall = time.Since(start).Seconds()
	res.emuCPU = (sw.net.CPU() - cpu0).Seconds()
	after := statsByNode(sw.net.Stats())
	res.fromSeeder = map[string]int64{}
	for _, s := range sc.Seeders {
		res.fromSeeder[s.Name] = after[s.Name].Up.Bytes - before[s.Name].Up.Bytes
	}
	measured := sc.Leechers[0].Name
	if sc.Name == scenarioSeeder {
		measured = sc.Seeders[0].Name
	}
	res.linkIn = after[measured].Down.Bytes - before[measured].Down.Bytes
	res.linkOut = after[measured].Up.Bytes - before[measured].Up.Bytes
	if err == nil {
		err = g.err()
	}
	res.err = err
	return res
}

func statsByNode(st []netem.LinkStats) map[string]netem.LinkStats {
	m := make(map[string]netem.LinkStats, len(st))
	for _, s := range st {
		m[s.Node] = s
	}
	return m
}

// freshDir empties and creates dir.
func freshDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// startLTSeeders starts the libtorrent seeders of specs (in parallel) and
// waits until each is ready.
func (e *env) startLTSeeders(sw *swarm, g *group, specs []peerSpec, tag string, port int) error {
	var wg sync.WaitGroup
	errs := make([]error, len(specs))
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.startLTSeeder(sw, g, s, tag, port)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startLTSeeder starts one libtorrent seeder (a gobit one with
// -gobit-seeders) on its node and waits until it listens.
func (e *env) startLTSeeder(sw *swarm, g *group, s peerSpec, tag string, port int) (*benchkit.Proc, error) {
	nd := sw.nodes[s.Name]
	argv := e.ltArgv("seed", sw.torrent, filepath.Dir(e.payload), nd, port, "--seed-mode")
	name, ready, wait := tag+"-"+s.Name+"-libtorrent-seed", "READY", 60*time.Second
	if e.o.gobitSeeders {
		argv = []string{e.gobit, "download", "--output", filepath.Dir(e.payload), "--port", strconv.Itoa(port),
			"--listen-host", nd.Addr.String(), "--log-level", "warn", "--no-lsd", "--no-dht", "--no-port-mapping", e.gobitTransport(), "--seed", sw.torrent}
		name, ready = tag+"-"+s.Name+"-gobit-seed", "seeding;"
		wait = 2*time.Minute + time.Duration(sw.sc.Size>>20)*200*time.Millisecond // the hash check
	}
	p, err := e.start(nd, name, e.work, argv)
	if err != nil {
		return nil, err
	}
	g.add(p)
	if err := p.WaitFor(ready, wait); err != nil {
		return nil, err
	}
	return p, nil
}

// start starts argv in nd's namespace.
func (e *env) start(nd *netem.Node, name, dir string, argv []string) (*benchkit.Proc, error) {
	cmd := nd.Command(context.Background(), argv[0], argv[1:]...)
	cmd.Dir = dir
	return benchkit.StartCmd(name, e.logDir, cmd)
}

// ltArgv returns the command line of a libtorrent peer on nd.
func (e *env) ltArgv(mode, torrent, save string, nd *netem.Node, port int, extra ...string) []string {
	a := []string{e.o.python, e.script, mode, "--torrent", torrent, "--save", save,
		"--bind", nd.Addr.String(), "--port", strconv.Itoa(port)}
	if e.o.utp {
		a = append(a, "--utp")
	}
	return append(a, extra...)
}

// runLeech is scenarios a and b: the seeders, then client as the only
// leecher; in b seeders leave and join on schedule.
func (e *env) runLeech(sw *swarm, g *group, client, tag, runDir string, port int, timeout time.Duration) (runResult, error) {
	sc := sw.sc
	var initial []peerSpec // the seeders there from the start; the others join below
	for _, s := range sc.Seeders {
		if s.Join == 0 {
			initial = append(initial, s)
		}
	}
	if err := e.startLTSeeders(sw, g, initial, tag, port); err != nil {
		return runResult{}, fmt.Errorf("starting the seeders: %w", err)
	}
	sw.waitTrackerSeeds(len(initial), 15*time.Second)
	out := filepath.Join(runDir, "leecher")
	if err := freshDir(out); err != nil {
		return runResult{}, err
	}
	lr, err := e.startLeecher(sw, client, sw.nodes[sc.Leechers[0].Name], tag+"-"+client, out, port, timeout, false)
	if err != nil {
		return runResult{}, err
	}
	g.add(lr.p)
	// Churn, timed from the leecher's start at fractions of a's ideal.
	base := sc.staticIdeal()
	stopC := make(chan struct{})
	var churnWG sync.WaitGroup
	// Deferred in this order so that stopC closes first: churn still
	// pending when the download ends (or fails) is cancelled, not waited
	// for.
	defer churnWG.Wait()
	defer close(stopC)
	procs := map[string]*benchkit.Proc{}
	var procsMu sync.Mutex
	g.mu.Lock()
	for _, p := range g.procs {
		procs[p.Name] = p
	}
	g.mu.Unlock()
	for _, s := range sc.Seeders {
		if s.Join == 0 && s.Leave == 0 {
			continue
		}
		churnWG.Add(1)
		go func() {
			defer churnWG.Done()
			name := tag + "-" + s.Name + "-libtorrent-seed"
			if s.Join > 0 {
				if !sleepUntil(lr.p.Start.Add(time.Duration(s.Join*float64(base))), stopC) {
					return
				}
				logf("  %s joins", s.Name)
				p, err := e.startLTSeeder(sw, g, s, tag, port)
				if err != nil {
					g.fail(fmt.Errorf("seeder %s joining: %w", s.Name, err))
					return
				}
				procsMu.Lock()
				procs[name] = p
				procsMu.Unlock()
			}
			if s.Leave > 0 {
				if !sleepUntil(lr.p.Start.Add(time.Duration(s.Leave*float64(base))), stopC) {
					return
				}
				procsMu.Lock()
				p := procs[name]
				procsMu.Unlock()
				if p != nil {
					logf("  %s leaves", s.Name)
					p.Stop(10 * time.Second)
				}
			}
		}()
	}
	if err := lr.wait(timeout); err != nil {
		return runResult{}, err
	}
	res := lr.result()
	if err := benchkit.Verify(filepath.Join(out, filepath.Base(e.payload)), e.payload); err != nil {
		return res, err
	}
	return res, nil
}

// sleepUntil sleeps until t; false if stop closed first.
func sleepUntil(t time.Time, stop <-chan struct{}) bool {
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-stop:
		return false
	}
}

// runCrowd is scenario c: the seeders, then client and the libtorrent
// leechers all at once; the run ends when every leecher is complete.
func (e *env) runCrowd(sw *swarm, g *group, client, tag, runDir string, port int, timeout time.Duration) (runResult, error) {
	sc := sw.sc
	if err := e.startLTSeeders(sw, g, sc.Seeders, tag, port); err != nil {
		return runResult{}, fmt.Errorf("starting the seeders: %w", err)
	}
	sw.waitTrackerSeeds(len(sc.Seeders), 15*time.Second)
	lts, outs, err := e.startLTLeechers(sw, g, sc.Leechers[1:], tag, runDir, port, timeout)
	if err != nil {
		return runResult{}, err
	}
	out := filepath.Join(runDir, sc.Leechers[0].Name)
	if err := freshDir(out); err != nil {
		return runResult{}, err
	}
	lr, err := e.startLeecher(sw, client, sw.nodes[sc.Leechers[0].Name], tag+"-"+client, out, port, timeout, false)
	if err != nil {
		return runResult{}, err
	}
	g.add(lr.p)
	if err := lr.wait(timeout); err != nil {
		return runResult{}, err
	}
	res := lr.result()
	deadline := lr.p.Start.Add(timeout)
	for _, l := range lts {
		if err := l.wait(time.Until(deadline)); err != nil {
			return res, err
		}
		res.others = append(res.others, l.p.DoneAt.Sub(l.p.Start).Seconds())
	}
	outs = append(outs, out)
	for _, o := range outs {
		if err := benchkit.Verify(filepath.Join(o, filepath.Base(e.payload)), e.payload); err != nil {
			return res, err
		}
	}
	return res, nil
}

// startLTLeechers starts a libtorrent leecher (that keeps seeding once
// complete) on each of specs' nodes.
func (e *env) startLTLeechers(sw *swarm, g *group, specs []peerSpec, tag, runDir string, port int, timeout time.Duration) ([]*leecherRun, []string, error) {
	var lts []*leecherRun
	var outs []string
	for _, l := range specs {
		out := filepath.Join(runDir, l.Name)
		if err := freshDir(out); err != nil {
			return nil, nil, err
		}
		lr, err := e.startLeecher(sw, clientLibtorrent, sw.nodes[l.Name], tag+"-"+l.Name+"-libtorrent", out, port, timeout, true)
		if err != nil {
			return nil, nil, err
		}
		g.add(lr.p)
		lts = append(lts, lr)
		outs = append(outs, out)
	}
	return lts, outs, nil
}

// runSeed is scenario d: client as the only seeder, then the libtorrent
// leechers; the time is from the leechers' start until the last of them is
// complete.
func (e *env) runSeed(sw *swarm, g *group, client, tag, runDir string, port int, timeout time.Duration) (runResult, error) {
	sc := sw.sc
	nd := sw.nodes[sc.Seeders[0].Name]
	name := tag + "-" + client + "-seed"
	var argv []string
	var ready string
	switch client {
	case clientGobit:
		argv = []string{e.gobit, "download", "--output", filepath.Dir(e.payload), "--port", strconv.Itoa(port),
			"--listen-host", nd.Addr.String(), "--log-level", "warn", "--no-lsd", "--no-dht", "--no-port-mapping", e.gobitTransport(), "--seed", sw.torrent}
		ready = "seeding;"
	case clientLibtorrent:
		argv = e.ltArgv("seed", sw.torrent, filepath.Dir(e.payload), nd, port)
		ready = "READY"
	default:
		return runResult{}, fmt.Errorf("scenario d: %s cannot be the seeder (want gobit or libtorrent)", client)
	}
	seeder, err := e.start(nd, name, e.work, argv)
	if err != nil {
		return runResult{}, err
	}
	g.add(seeder)
	if err := seeder.WaitFor(ready, 2*time.Minute+time.Duration(sc.Size>>20)*200*time.Millisecond); err != nil {
		return runResult{}, err
	}
	sw.waitTrackerSeeds(1, 15*time.Second)
	lts, outs, err := e.startLTLeechers(sw, g, sc.Leechers, tag, runDir, port, timeout)
	if err != nil {
		return runResult{}, err
	}
	var res runResult
	first := lts[0].p.Start
	for _, l := range lts {
		if err := l.wait(timeout); err != nil {
			return res, err
		}
		res.wall = max(res.wall, l.p.DoneAt.Sub(first).Seconds())
	}
	for _, o := range outs {
		if err := benchkit.Verify(filepath.Join(o, filepath.Base(e.payload)), e.payload); err != nil {
			return res, err
		}
	}
	seeder.Stop(30 * time.Second)
	if !seeder.Exited() {
		return res, fmt.Errorf("%s did not exit", seeder.Name)
	}
	_, res.cpu, res.rss = seeder.Usage()
	return res, nil
}

// gobitTransport is gobit's transport flag: uTP only with -utp, else TCP
// only (as every other client runs).
func (e *env) gobitTransport() string {
	if e.o.utp {
		return "--tcp=false"
	}
	return "--utp=false"
}
