package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// downloadOptions are the flags of gobit download.
type downloadOptions struct {
	output     string
	dataDir    string
	port       int
	listenHost string
	timeout    time.Duration
	seed       bool
	logLevel   string
	limits     limitOptions
	discovery  discoveryOptions
	encryption encryptionOptions
	network    networkOptions
	prof       profileOptions
}

func newDownloadCmd() *cobra.Command {
	var o downloadOptions
	cmd := &cobra.Command{
		Use:   "download <magnet | file.torrent | URL>",
		Short: "Download one torrent in this process and exit when it is complete",
		Long: `Download one torrent without a daemon. Progress is shown as a live bar on a
terminal and as a line every 2 seconds otherwise. The command exits 0 once
every piece is downloaded and verified (or, with --seed, after seeding until
Ctrl-C), and non-zero on an error, on --timeout or on Ctrl-C.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDownload(cmd.Context(), o, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", ".", "directory to save into")
	f.IntVar(&o.port, "port", defaultPeerPort, "TCP port for incoming peer connections (a free one if busy; 0 picks one)")
	f.StringVar(&o.listenHost, "listen-host", "", "host or IP the peer listener binds (default: all interfaces)")
	f.DurationVar(&o.timeout, "timeout", 0, "give up after this long, e.g. 30m (0: never)")
	f.BoolVar(&o.seed, "seed", false, "keep seeding after the download completes, until Ctrl-C")
	f.StringVar(&o.dataDir, "data-dir", "", "directory for resume data, so that an interrupted download resumes (default: none)")
	f.StringVar(&o.logLevel, "log-level", "warn", "log level on stderr: debug, info, warn or error")
	o.limits.register(f)
	o.discovery.register(f)
	o.encryption.register(f)
	o.network.register(f)
	o.prof.register(f)
	// A daemon's GOBIT_DATA_DIR must not be shared with a one-shot run.
	noEnv(cmd, "data-dir")
	return cmd
}

// runDownload downloads the torrent arg into o.output.
func runDownload(ctx context.Context, o downloadOptions, arg string, stdout, stderr io.Writer) error {
	level, err := parseLevel(o.logLevel)
	if err != nil {
		return err
	}
	if o.port < 0 || o.port > 65535 {
		return &usageError{fmt.Errorf("--port %d: want 0..65535", o.port)}
	}
	// On a terminal the progress line is redrawn in place; log lines to
	// the same terminal go through it, so that they never land inside it.
	live := &liveLine{w: stdout}
	logOut := stderr
	if isTerminal(stdout) && isTerminal(stderr) {
		logOut = live.Writer(stderr)
	}
	log, closeLog, err := newLogger(logOut, level, "")
	if err != nil {
		return err
	}
	defer closeLog()

	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, o.timeout, fmt.Errorf("timed out after %s", o.timeout))
		defer cancel()
	}
	// Everything the user gave is checked before a port is opened.
	req, err := downloadRequest(ctx, arg)
	if err != nil {
		return err
	}
	out, err := filepath.Abs(o.output)
	if err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if err := session.CheckDownloadDir(out); err != nil {
		return fmt.Errorf("%w (--output)", err)
	}
	if o.dataDir != "" && session.DataDirInUse(o.dataDir) {
		return lockedError(o.dataDir)
	}

	cfg := session.Config{
		DownloadDir: out,
		// Without --data-dir the session keeps no state: no resume data,
		// and the files are not flushed at the end (nothing records them
		// as verified; the kernel writes them back as it does for cp).
		DataDir:    o.dataDir,
		ListenAddr: o.listenHost,
		Port:       pickPort(o.listenHost, o.port, stderr),
		Logger:     log,
	}
	if err := o.limits.apply(&cfg); err != nil {
		return err
	}
	if err := o.discovery.apply(&cfg); err != nil {
		return err
	}
	if err := o.encryption.apply(&cfg); err != nil {
		return err
	}
	o.network.apply(&cfg)
	if adjustSessionConfig != nil {
		adjustSessionConfig(&cfg)
	}
	sess, err := session.New(cfg)
	if err != nil && cfg.Port != 0 && errors.Is(err, syscall.EADDRINUSE) {
		fmt.Fprintf(stderr, "peer port %d is busy; using a free port\n", cfg.Port)
		cfg.Port = 0
		sess, err = session.New(cfg)
	}
	if err != nil {
		return sessionStartError(err, o.dataDir, cfg.Port)
	}
	defer sess.Close()
	if err := o.prof.start(); err != nil {
		return err
	}
	defer o.prof.stop(stderr)

	st, err := sess.Add(ctx, req)
	var exists *session.ExistsError
	if errors.As(err, &exists) {
		// Already in --data-dir's state (an earlier run): go on with it,
		// from its resume data and into the directory it was saved in.
		st, err = resumeExisting(sess, exists.InfoHash)
		if err == nil && st.SaveDir != out {
			fmt.Fprintf(stderr, "resuming the torrent recorded in %s, saved in %s (not %s)\n", o.dataDir, st.SaveDir, out)
			out = st.SaveDir
		}
	}
	if err != nil {
		return fmt.Errorf("adding %s: %w", shorten(arg, 80), err)
	}
	name := st.Name
	if name == "" {
		name = st.InfoHash
	}
	fmt.Fprintf(stdout, "downloading %s into %s\n", name, out)
	return watch(ctx, sess, st.InfoHash, watchOptions{
		out:        stdout,
		tty:        isTerminal(stdout),
		live:       live,
		cols:       func() int { return termCols(stdout) },
		interval:   100 * time.Millisecond,
		plainEvery: 2 * time.Second,
		seed:       o.seed,
	})
}

// downloadRequest turns download's argument into an add request: a bare
// info hash becomes a magnet, a magnet is parsed, a URL is fetched and a
// file read, and a .torrent is parsed, so that a mistake is reported at
// once and in plain words.
func downloadRequest(ctx context.Context, arg string) (session.AddRequest, error) {
	arg = magnetFromHash(arg)
	switch classify(arg) {
	case sourceMagnet:
		uri := strings.TrimSpace(arg)
		if _, err := metainfo.ParseMagnet(uri); err != nil {
			return session.AddRequest{}, fmt.Errorf("not a usable magnet link: %w", err)
		}
		return session.AddRequest{URI: uri}, nil
	case sourceURL:
		url := strings.TrimSpace(arg)
		data, err := fetchTorrent(ctx, url)
		if err != nil {
			return session.AddRequest{}, err
		}
		if _, err := checkTorrent(url, data); err != nil {
			return session.AddRequest{}, err
		}
		return session.AddRequest{Torrent: data}, nil
	}
	data, _, err := loadTorrentFile(arg)
	if err != nil {
		return session.AddRequest{}, err
	}
	return session.AddRequest{Torrent: data}, nil
}

// resumeExisting returns the status of a torrent restored from the state
// directory, resuming it if it was paused.
func resumeExisting(sess *session.Session, infoHash string) (session.Status, error) {
	d, err := sess.Get(infoHash)
	if err != nil {
		return session.Status{}, err
	}
	if d.State == session.StatePaused {
		if err := sess.Resume(infoHash); err != nil {
			return session.Status{}, err
		}
	}
	return d.Status, nil
}

// pickPort returns port when it can be bound now, else 0 (a free port),
// saying so on stderr.
func pickPort(host string, port int, stderr io.Writer) int {
	if port == 0 {
		return 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		fmt.Fprintf(stderr, "peer port %d is busy; using a free port\n", port)
		return 0
	}
	_ = ln.Close()
	return port
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// detailSource is what watch needs from a session.
type detailSource interface {
	Get(infoHash string) (session.Detail, error)
	// StateChanged returns a channel closed at the torrent's next change
	// of state, so that the end of a download is seen at once rather
	// than at the next poll.
	StateChanged(infoHash string) (<-chan struct{}, error)
}

// watchOptions configure watch.
type watchOptions struct {
	out        io.Writer
	tty        bool          // redraw one line instead of printing lines
	interval   time.Duration // how often to poll
	plainEvery time.Duration // how often to print a line when not a tty
	seed       bool          // keep going after completion until ctx ends
	// live draws the tty line (one on out if nil); cols gives the
	// terminal's width (defaultCols if nil).
	live *liveLine
	cols func() int
}

// watch polls the torrent and shows its progress until it is complete
// (state seeding), failed, or ctx ends. Completion returns nil; with seed
// set, watch keeps going and returns nil when ctx ends.
func watch(ctx context.Context, src detailSource, hash string, o watchOptions) error {
	p := &progress{w: o.out, tty: o.tty, every: o.plainEvery, start: time.Now(), live: o.live, cols: o.cols}
	if p.live == nil {
		p.live = &liveLine{w: o.out}
	}
	if p.cols == nil {
		p.cols = func() int { return defaultCols }
	}
	t := time.NewTicker(o.interval)
	defer t.Stop()
	complete := false
	var last session.Status
	for {
		changed, err := src.StateChanged(hash) // before Get: no change is missed
		var d session.Detail
		if err == nil {
			d, err = src.Get(hash)
		}
		if err != nil {
			p.end()
			return fmt.Errorf("reading the torrent's status: %w", err)
		}
		last = d.Status
		switch d.State {
		case session.StateError:
			p.show(d.Status, true)
			p.end()
			msg := d.Error
			if msg == "" {
				msg = "unknown error"
			}
			return fmt.Errorf("download failed: %s", msg)
		case session.StateSeeding:
			if !complete {
				complete = true
				p.show(d.Status, true)
				p.end()
				fmt.Fprintf(o.out, "complete: %s (%s) in %s\n", d.Name, fmtBytes(d.TotalSize), d.SaveDir)
				if !o.seed {
					return nil
				}
				fmt.Fprintln(o.out, "seeding; press Ctrl-C to stop")
			}
		}
		p.show(d.Status, false)
		select {
		case <-ctx.Done():
			p.end()
			if complete {
				fmt.Fprintf(o.out, "stopped seeding: uploaded %s\n", fmtBytes(last.Uploaded))
				return nil
			}
			cause := context.Cause(ctx)
			at := fmt.Sprintf("at %s of %s", fmtPercent(last.Progress), fmtBytes(last.TotalSize))
			if errors.Is(cause, context.Canceled) {
				return &exitError{code: exitInterrupted, err: fmt.Errorf("interrupted %s", at)}
			}
			return fmt.Errorf("%w %s", cause, at)
		case <-t.C:
		case <-changed:
		}
	}
}

// progress renders download progress: one redrawn line with a bar on a
// terminal, a plain line every so often (and on each state change)
// otherwise.
type progress struct {
	w         io.Writer
	tty       bool
	every     time.Duration
	start     time.Time
	lastPrint time.Time
	lastState session.State
	live      *liveLine  // draws the tty line
	cols      func() int // the terminal's width
}

// show renders s; force prints a plain line even if one was printed
// recently.
func (p *progress) show(s session.Status, force bool) {
	if p.tty {
		p.live.draw(barLine(s, p.cols()))
		return
	}
	now := time.Now()
	if !force && s.State == p.lastState && now.Sub(p.lastPrint) < p.every {
		return
	}
	p.lastPrint, p.lastState = now, s.State
	fmt.Fprintf(p.w, "[%6s] %s\n", time.Since(p.start).Round(time.Second), p.line(s))
}

// end finishes a redrawn tty line so that later output starts on its own
// line.
func (p *progress) end() {
	if p.tty {
		p.live.end()
	}
}

// line formats one plain progress line.
func (p *progress) line(s session.Status) string {
	segs := statusSegs(s)
	parts := make([]string, len(segs))
	for i, sg := range segs {
		parts[i] = sg.text
	}
	return strings.Join(parts, "  ")
}

// seg is one part of a progress line; parts with a lower prio are kept
// first when the line must be shortened.
type seg struct {
	text string
	prio int
}

// statusSegs returns the parts of a progress line in display order.
func statusSegs(s session.Status) []seg {
	switch s.State {
	case session.StateMetadata:
		return []seg{{"fetching metadata", 0}, {fmt.Sprintf("peers %d", s.Peers), 1}}
	case session.StateChecking:
		return []seg{{"checking existing data", 0}, {fmtPercent(s.Progress), 1}}
	}
	last := string(s.State)
	if s.State == session.StateDownloading {
		last = "ETA " + fmtETA(s.ETASeconds)
	}
	return []seg{
		{fmt.Sprintf("%6s", fmtPercent(s.Progress)), 0},
		{fmtBytes(s.Completed) + " / " + fmtBytes(s.TotalSize), 3},
		{"down " + fmtRate(s.DownloadRate), 2},
		{"up " + fmtRate(s.UploadRate), 5},
		{fmt.Sprintf("peers %d (%d seeds)", s.Peers, s.Seeds), 6},
		{last, 1},
	}
}

// Bar widths and name bounds of the tty line, in columns.
const (
	barMin, barMax   = 10, 20
	nameMin, nameMax = 8, 40
	nameFirst        = 24 // the name's share before the optional parts
)

// barLine formats the tty progress line to fit cols columns (less one, so
// the cursor never wraps): the name, a bar and the status parts. Parts
// are dropped, lowest priority first, the bar narrowed and the name
// shortened (with "…") to fit; the most important parts are kept whole.
func barLine(s session.Status, cols int) string {
	budget := cols - 1
	segs := statusSegs(s)
	keep := make([]bool, len(segs))
	used := 0
	take := func(w int) bool { // reserves w columns plus a separator
		need := w
		if used > 0 {
			need += 2
		}
		if used+need > budget {
			return false
		}
		used += need
		return true
	}
	byPrio := func(lo, hi int) {
		for i, sg := range segs {
			if sg.prio >= lo && sg.prio <= hi {
				keep[i] = take(strCols(sg.text))
			}
		}
	}
	name := printable(s.Name)
	if name == "" {
		name = s.InfoHash
	}
	byPrio(0, 2)
	bar := 0
	if take(barMin + 2) {
		bar = barMin
	}
	byPrio(3, 5)
	nameCols := 0
	if w := min(strCols(name), nameFirst); w >= nameMin && take(w) {
		nameCols = w
	}
	byPrio(6, 100)
	// What is left widens the bar, then the name.
	if bar > 0 {
		grow := min(barMax-bar, budget-used)
		bar += grow
		used += grow
	}
	if nameCols > 0 {
		grow := min(min(strCols(name), nameMax)-nameCols, budget-used)
		if grow > 0 {
			nameCols += grow
			used += grow
		}
	}

	var parts []string
	if nameCols > 0 {
		parts = append(parts, fitCols(name, nameCols))
	}
	if bar > 0 {
		filled := max(0, min(bar, int(s.Progress*float64(bar))))
		parts = append(parts, "["+strings.Repeat("#", filled)+strings.Repeat("-", bar-filled)+"]")
	}
	for i, sg := range segs {
		if keep[i] {
			parts = append(parts, sg.text)
		}
	}
	return fitCols(strings.Join(parts, "  "), budget)
}
