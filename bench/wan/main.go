// Command wan benchmarks gobit against real BitTorrent clients in a swarm
// shaped like the internet: every seeder, leecher and the tracker runs in
// a network namespace of its own behind an emulated access link (rate up
// and down, delay, random loss, a finite queue; see bench/wan/netem), so
// that the swarm's summed upload, and with it the ideal completion time,
// is known. It runs as root.
//
// Scenarios (-scenario, comma-separated; each fixed by -seed):
//
//	a  12 libtorrent seeders of mixed speed and distance (2–40 Mbit/s up,
//	   60–240 ms round trip, 0.2 % loss; two fast ones at 40 Mbit/s and
//	   60 and 140 ms), one leecher (200 Mbit/s down, 20 up): the client.
//	b  a with churn: a third of the seeders leave mid-download and as many
//	   new ones join, at fixed fractions of a's ideal time.
//	c  the client as one of 20 leechers (the other 19 libtorrent, 50 Mbit/s
//	   down, 10 up, 40–200 ms) with 2 libtorrent seeders: tit-for-tat
//	   matters; compared with the median libtorrent leecher.
//	d  the client as the only seeder (gobit or libtorrent) for 20
//	   libtorrent leechers: the time until the whole swarm is done.
//
// Leechers (a, b, c) are gobit, libtorrent, anacrolix (the torrent CLI,
// go install github.com/anacrolix/torrent/cmd/torrent@v1.55.0), aria2 and
// Transmission, in rounds interleaved (each round runs every client once,
// the order rotating); every run starts a fresh swarm. Every download is
// compared byte for byte with the payload; a mismatch or a failed client
// makes the program exit 1. Timing never fails it.
//
//	go run ./bench/wan                                  # a, 256 MiB, 3 rounds, all clients
//	go run ./bench/wan -scenario a,b,c,d -out docs/performance.md
//	go run ./bench/wan -scenario a -size 64MiB -rounds 1
//	go run ./bench/wan -scenario a -size 16MiB -seeders 3 -rounds 1 -clients gobit,libtorrent   # CI
//
// State: main owns everything; child processes are tracked by benchkit's
// registry so that every exit path, including SIGINT/SIGTERM, kills them,
// and the emulated network is closed (its namespaces removed) on exit.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
)

// Client names accepted by -clients.
const (
	clientGobit        = "gobit"
	clientLibtorrent   = "libtorrent"
	clientAnacrolix    = "anacrolix"
	clientAria2        = "aria2"
	clientTransmission = "transmission"
)

var allClients = []string{clientGobit, clientLibtorrent, clientAnacrolix, clientAria2, clientTransmission}

// options are the command-line flags.
type options struct {
	scenarios []string
	size      int64
	piece     int64
	seeders   int // 0: the scenario's default
	leechers  int // 0: the scenario's default
	rounds    int
	clients   []string
	seed      uint64
	cc        string
	utp       bool
	// gobitSeeders makes the seeders of scenarios a and b gobit instead
	// of libtorrent (so that over uTP both ends are gobit's).
	gobitSeeders bool
	mtu          int
	loss         float64
	work         string
	out          string
	timeout      time.Duration // 0: from the ideal time
	gobit        string
	python       string
	anacrolix    string
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "wan: %v\n", err)
		os.Exit(2)
	}
	sigC := make(chan os.Signal, 1)
	signal.Notify(sigC, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigC
		fmt.Fprintf(os.Stderr, "\nwan: %v: stopping every client\n", s)
		exit(130)
	}()
	err = run(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wan: %v\n", err)
		exit(1)
	}
	exit(0)
}

// exitOnce makes exit's cleanup run once: a second caller (main after a
// signal, or the signal handler after main) waits while the first one
// cleans up and exits.
var exitOnce sync.Once

// exit kills every child, closes every emulated network (removing its
// namespaces) and exits with code.
func exit(code int) {
	exitOnce.Do(func() {
		benchkit.KillAll()
		closeNetworks()
		os.Exit(code)
	})
	select {} // the first caller exits the process
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("wan", flag.ContinueOnError)
	scen := fs.String("scenario", "a", "comma-separated scenarios: a, b, c, d (see the package doc)")
	size := fs.String("size", "256MiB", "payload size (bytes, or with KiB/MiB/GiB)")
	piece := fs.String("piece", "1MiB", "piece size, a power of two")
	clients := fs.String("clients", strings.Join(allClients, ","), "comma-separated clients: "+strings.Join(allClients, ",")+" (scenario d: gobit and libtorrent only)")
	fs.IntVar(&o.seeders, "seeders", 0, "seeders (0: 12 in a and b, 2 in c)")
	fs.IntVar(&o.leechers, "leechers", 0, "leechers in c and d (0: 20)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; each runs every client once and the table shows medians")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed of the scenarios (links, churn) and of the emulator's loss")
	fs.StringVar(&o.cc, "cc", "bbr", "TCP congestion control in every namespace (bbr, cubic, reno)")
	fs.BoolVar(&o.utp, "utp", false, "uTP: libtorrent peers may use it and gobit uses only it (default: TCP only for every client)")
	fs.BoolVar(&o.gobitSeeders, "gobit-seeders", false, "scenarios a and b: gobit seeders instead of libtorrent ones (-gobit or a build of ./cmd/gobit)")
	fs.IntVar(&o.mtu, "mtu", 1500, "MTU of the emulated links")
	fs.Float64Var(&o.loss, "loss", 0.002, "random loss on each seeder's and each scenario-c/d leecher's link, each direction")
	fs.StringVar(&o.work, "work", "/tmp/gobit-wan", "work directory; the payload is kept there for later runs")
	fs.StringVar(&o.out, "out", "", "also append the Markdown tables to this file")
	fs.DurationVar(&o.timeout, "timeout", 0, "limit for one run (0: 2 min plus 6 × the ideal time)")
	fs.StringVar(&o.gobit, "gobit", "", "gobit binary to use (default: build ./cmd/gobit)")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python interpreter with the libtorrent module")
	fs.StringVar(&o.anacrolix, "anacrolix", "", "anacrolix's torrent CLI (default: torrent in $GOBIN, $GOPATH/bin, /root/go/bin or $PATH)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.size, err = benchkit.ParseSize(*size); err != nil {
		return o, fmt.Errorf("-size: %w", err)
	}
	if o.piece, err = benchkit.ParseSize(*piece); err != nil {
		return o, fmt.Errorf("-piece: %w", err)
	}
	if o.size < 1 {
		return o, errors.New("-size must be positive")
	}
	for _, s := range strings.Split(*scen, ",") {
		s = strings.TrimSpace(s)
		switch s {
		case scenarioMixed, scenarioChurn, scenarioCrowd, scenarioSeeder:
		default:
			return o, fmt.Errorf("-scenario: unknown scenario %q (want a, b, c or d)", s)
		}
		o.scenarios = append(o.scenarios, s)
	}
	for _, c := range strings.Split(*clients, ",") {
		c = strings.TrimSpace(c)
		known := false
		for _, k := range allClients {
			known = known || c == k
		}
		if !known {
			return o, fmt.Errorf("-clients: unknown client %q (want some of %s)", c, strings.Join(allClients, ","))
		}
		o.clients = append(o.clients, c)
	}
	if o.rounds < 1 || o.rounds > 100 {
		return o, errors.New("-rounds must be 1..100")
	}
	if o.seeders < 0 || o.leechers < 0 {
		return o, errors.New("-seeders and -leechers must not be negative")
	}
	if o.loss < 0 || o.loss >= 1 {
		return o, errors.New("-loss must be in [0, 1)")
	}
	if o.mtu < 576 || o.mtu > 65535 {
		return o, errors.New("-mtu must be 576..65535")
	}
	return o, nil
}

// scenarioParams returns the generation parameters of scenario name under o.
func (o options) scenarioParams(name string) params {
	p := defaultParams(name)
	p.Seed, p.Size, p.Loss = o.seed, o.size, o.loss
	if o.seeders > 0 && name != scenarioSeeder {
		p.Seeders = o.seeders
	}
	if o.leechers > 0 {
		p.Leechers = o.leechers
	}
	return p
}

// clientsFor returns the clients scenario name runs: d compares only gobit
// and libtorrent as the seeder.
func (o options) clientsFor(name string) []string {
	if name != scenarioSeeder {
		return o.clients
	}
	var out []string
	for _, c := range o.clients {
		if c == clientGobit || c == clientLibtorrent {
			out = append(out, c)
		}
	}
	return out
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// commandLine is this invocation as a user would type it.
func commandLine() string {
	return strings.TrimSpace("go run ./bench/wan " + strings.Join(os.Args[1:], " "))
}

// networks holds the closers of the emulated networks, called on every
// exit path; each closer is safe to call more than once and from several
// goroutines (a second call waits for the first).
var networks atomic.Pointer[[]func() error]

func closeNetworks() {
	if p := networks.Swap(nil); p != nil {
		for _, c := range *p {
			_ = c()
		}
	}
}

func addNetworkCloser(c func() error) {
	for {
		old := networks.Load()
		var next []func() error
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, c)
		if networks.CompareAndSwap(old, &next) {
			return
		}
	}
}

// writeResults prints the report and appends it to -out.
func writeResults(o options, md string) error {
	fmt.Print(md)
	if o.out == "" {
		return nil
	}
	f, err := os.OpenFile(o.out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	_, err = f.WriteString("\n" + md)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	abs, _ := filepath.Abs(o.out)
	logf("appended the tables to %s", abs)
	return nil
}
