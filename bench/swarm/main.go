// Command swarm benchmarks gobit against real BitTorrent clients on
// loopback.
//
// Leech mode (the default) starts opentracker and -seeders libtorrent
// seeders of a pseudo-random payload, then lets each client in -clients
// download it in turn, -runs times. Seed mode (-mode seed) makes each of
// gobit and libtorrent the only seeder for two libtorrent leechers. Every
// download is compared byte for byte with the payload; a mismatch or a
// failed client makes the program exit 1. Timing never fails it.
//
//	go run ./bench/swarm -size 1GiB -runs 3
//	go run ./bench/swarm -size 64MiB -runs 1 -clients gobit,aria2 -seeders 1   # CI smoke
//	go run ./bench/swarm -mode seed -size 256MiB -profile /tmp/prof
//
// State: main owns everything; child processes are tracked in the running
// registry (procs.go) so that every exit path, including SIGINT/SIGTERM,
// kills them. Every process binds 127.0.0.1 only, on free ports, and
// every wait has a timeout.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
)

// ltpeerScript is the libtorrent peer (bench/internal/benchkit/ltpeer.py).
var ltpeerScript = benchkit.LTPeerScript

// outDir is the directory downloads go to, removed on an interrupt.
var outDir atomic.Pointer[string]

// options are the command-line flags.
type options struct {
	size, piece int64
	work        string
	seeders     int
	leechers    int
	clients     []string
	runs        int
	warmup      bool
	mode        string
	timeout     time.Duration
	profileDir  string
	gobit       string
	python      string
	utp         bool
	encryption  string
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "swarm: %v\n", err)
		os.Exit(2)
	}
	sigC := make(chan os.Signal, 1)
	signal.Notify(sigC, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigC
		fmt.Fprintf(os.Stderr, "\nswarm: %v: stopping every client\n", s)
		killAll()
		if d := outDir.Load(); d != nil {
			os.RemoveAll(*d) // partial downloads
		}
		os.Exit(130)
	}()
	err = run(o)
	killAll()
	if err != nil {
		fmt.Fprintf(os.Stderr, "swarm: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("swarm", flag.ContinueOnError)
	size := fs.String("size", "1GiB", "payload size (bytes, or with KiB/MiB/GiB)")
	piece := fs.String("piece", "1MiB", "piece size, a power of two")
	clients := fs.String("clients", "", "comma-separated clients: gobit,aria2,libtorrent,transmission (seed mode: gobit,libtorrent)")
	fs.StringVar(&o.work, "work", "/tmp/gobit-bench", "work directory; the payload is kept there for later runs")
	fs.IntVar(&o.seeders, "seeders", 2, "libtorrent seeders in leech mode")
	fs.IntVar(&o.leechers, "leechers", 2, "libtorrent leechers in seed mode")
	fs.IntVar(&o.runs, "runs", 3, "repetitions; the table shows medians")
	fs.BoolVar(&o.warmup, "warmup", true, "leech mode: one uncounted download by libtorrent first, so that the seeders have mapped and cached the payload before any counted run")
	fs.StringVar(&o.mode, "mode", "leech", "leech: clients download from libtorrent seeders; seed: clients seed to libtorrent leechers")
	fs.DurationVar(&o.timeout, "timeout", 0, "limit for one transfer (0: 2m plus 2 s per MiB)")
	fs.StringVar(&o.profileDir, "profile", "", "write gobit's CPU and heap profiles into this directory")
	fs.StringVar(&o.gobit, "gobit", "", "gobit binary to use (default: build ./cmd/gobit)")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python interpreter with the libtorrent module")
	fs.BoolVar(&o.utp, "utp", false, "uTP: libtorrent and Transmission may use it, gobit uses only it (default: TCP only for every client)")
	fs.StringVar(&o.encryption, "gobit-encryption", "", "gobit's --encryption policy: prefer, require (RC4 on every connection) or disable (default: gobit's default, prefer)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.size, err = parseSize(*size); err != nil {
		return o, fmt.Errorf("-size: %w", err)
	}
	if o.piece, err = parseSize(*piece); err != nil {
		return o, fmt.Errorf("-piece: %w", err)
	}
	switch o.mode {
	case "leech":
		if *clients == "" {
			*clients = "gobit,aria2,libtorrent,transmission"
		}
	case "seed":
		if *clients == "" {
			*clients = "gobit,libtorrent"
		}
	default:
		return o, fmt.Errorf("-mode %q: want leech or seed", o.mode)
	}
	for _, c := range strings.Split(*clients, ",") {
		c = strings.TrimSpace(c)
		switch c {
		case clientGobit, clientAria2, clientLibtorrent, clientTransmission:
		default:
			return o, fmt.Errorf("-clients: unknown client %q", c)
		}
		if o.mode == "seed" && c != clientGobit && c != clientLibtorrent {
			return o, fmt.Errorf("-clients: seed mode supports gobit and libtorrent, not %q", c)
		}
		o.clients = append(o.clients, c)
	}
	if o.runs < 1 || o.seeders < 1 || o.leechers < 1 {
		return o, errors.New("-runs, -seeders and -leechers must be at least 1")
	}
	if o.size < 1 {
		return o, errors.New("-size must be positive")
	}
	if o.timeout == 0 {
		o.timeout = 2*time.Minute + time.Duration(o.size>>20)*2*time.Second
	}
	return o, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// run prepares the swarm and runs the benchmark of o.mode.
func run(o options) error {
	if err := benchkit.CheckTools(o.python); err != nil {
		return err
	}
	e := &env{size: o.size, python: o.python, timeout: o.timeout, utp: o.utp, encryption: o.encryption}
	ws, err := benchkit.NewWorkspace(o.work)
	if err != nil {
		return err
	}
	e.work, e.logDir, e.outDir = ws.Work, ws.LogDir, ws.OutDir
	defer os.RemoveAll(e.outDir)
	if o.profileDir != "" {
		if e.profileDir, err = filepath.Abs(o.profileDir); err == nil {
			err = os.MkdirAll(e.profileDir, 0o755)
		}
		if err != nil {
			return fmt.Errorf("-profile: %w", err)
		}
	}
	outDir.Store(&e.outDir)
	e.script = filepath.Join(e.work, "ltpeer.py")
	if err := os.WriteFile(e.script, ltpeerScript, 0o755); err != nil {
		return err
	}
	if e.gobit = o.gobit; e.gobit == "" {
		e.gobit = filepath.Join(e.work, "bin", "gobit")
		logf("building gobit into %s", e.gobit)
		cmd := exec.Command("go", "build", "-o", e.gobit, "github.com/gobit/gobit/cmd/gobit")
		if out, err := runTimeout(cmd, 10*time.Minute); err != nil {
			return fmt.Errorf("building gobit (run from inside the gobit module): %w: %s", err, out)
		}
	}

	dataDir := filepath.Join(e.work, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	logf("payload: %s of pseudo-random data in %s", fmtSize(o.size), dataDir)
	if e.payload, err = ensurePayload(dataDir, o.size); err != nil {
		return err
	}
	template, err := ensureTemplate(e.payload, o.piece)
	if err != nil {
		return err
	}
	hash, err := infoHash(template)
	if err != nil {
		return err
	}
	tracker, announce, err := startTracker(filepath.Join(e.logDir, "tracker"), e.logDir, hash)
	if err != nil {
		return err
	}
	defer tracker.Stop(5 * time.Second)
	logf("opentracker: %s, info hash %x", announce, hash)
	torrent, err := withAnnounce(template, announce)
	if err != nil {
		return err
	}
	e.torrent = filepath.Join(e.logDir, "swarm.torrent")
	if err := os.WriteFile(e.torrent, torrent, 0o644); err != nil {
		return err
	}

	t := &table{clients: o.clients, notes: map[string]string{}, bytesMoved: float64(o.size)}
	var caption string
	var footnotes []string
	if o.mode == "seed" {
		t.bytesMoved = float64(o.size) * float64(o.leechers)
		caption, footnotes, err = seedMode(e, o, t)
	} else {
		caption, footnotes, err = leechMode(e, o, t)
	}
	if err != nil && !errors.Is(err, errClientsFailed) {
		return err
	}
	t.write(os.Stdout, caption, footnotes)
	var sb strings.Builder
	t.write(&sb, caption, footnotes)
	_ = os.WriteFile(filepath.Join(e.logDir, "results.md"), []byte(sb.String()), 0o644)
	logf("logs and results.md in %s", e.logDir)
	return err
}

// errClientsFailed reports that at least one client failed or delivered
// wrong data; the table is still printed.
var errClientsFailed = errors.New("at least one client failed or delivered wrong data (see above)")

// commandLine is this invocation as a user would type it.
func commandLine() string {
	return "go run ./bench/swarm " + strings.Join(os.Args[1:], " ")
}

// hostLine describes the machine for the caption.
func hostLine() string {
	return fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
}
