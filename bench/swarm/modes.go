package main

import (
	"errors"
	"fmt"
	"github.com/gobit/gobit/internal/testutil"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// readyTimeout bounds a seeder's start-up, which includes hashing the
// payload.
func readyTimeout(size int64) time.Duration {
	return 2*time.Minute + time.Duration(size>>20)*200*time.Millisecond
}

// leechMode starts o.seeders libtorrent seeders and lets each client
// download from them, o.runs times.
func leechMode(e *env, o options, t *table) (string, []string, error) {
	logf("starting %d libtorrent seeders", o.seeders)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for i := range o.seeders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := e.startLTSeeder(fmt.Sprintf("libtorrent-seeder%d", i+1), readyTimeout(o.size))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			e.seeders = append(e.seeders, s)
		}()
	}
	wg.Wait()
	defer func() {
		for _, s := range e.seeders {
			s.Stop(10 * time.Second)
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return "", nil, fmt.Errorf("starting seeders: %w", err)
	}

	if o.warmup {
		// The seeders' first upload pays for mapping the payload (libtorrent
		// reads through mmap): a warm-up keeps that out of whichever client
		// would go first.
		logf("warm-up: libtorrent downloading %s (not counted)", fmtSize(o.size))
		if r := runLeecher(e, clientLibtorrent, 0); r.err != nil {
			return "", nil, fmt.Errorf("warm-up download: %w", r.err)
		}
	}
	var failed bool
	for run := 1; run <= o.runs; run++ {
		results := map[string]result{}
		// Rotate the order each run: on a VM the first writer after a
		// pause pays for fresh memory pages, so no client should always
		// go first.
		n := len(o.clients)
		for k := range n {
			c := o.clients[(k+run-1)%n]
			if _, ok := t.notes[c]; ok {
				continue
			}
			logf("run %d/%d: %s downloading %s", run, o.runs, c, fmtSize(o.size))
			r := runLeecher(e, c, run)
			switch {
			case errors.Is(r.err, ErrNotInstalled):
				t.notes[c] = r.err.Error()
				logf("  %s: n/a: %v", c, r.err)
				continue
			case r.err != nil:
				failed = true
				logf("  %s FAILED: %v", c, r.err)
			default:
				logf("  %s: %.1f s, %.1f MiB/s, CPU %.2f s (%.2f in the kernel), peak RSS %.1f MiB, data identical%s",
					c, r.wall, float64(o.size)/(1<<20)/r.wall, r.cpu, r.sys, float64(r.rss)/(1<<20), stealText(r.steal))
			}
			results[c] = r
		}
		t.runs = append(t.runs, results)
	}
	caption := fmt.Sprintf("Leeching %s (%s pieces) from %d libtorrent seeders on 127.0.0.1, median of %d runs (%s). `%s`",
		fmtSize(o.size), fmtSize(o.piece), o.seeders, o.runs, hostLine(), commandLine())
	foot := []string{
		"Each cell: median over the runs, and in parentheses the median ratio to the best other (non-gobit) client of the same run in that column (1.00× = as good as the best; lower is better except MiB/s).",
		"Wall time is from process start to exit (Transmission: to its finish script), so it includes start-up; CPU is user+system of the client process from rusage, per GiB of payload; peak RSS is the process's ru_maxrss (which Linux starts from the benchmark's own RSS at the fork: the benchmark gives its free memory back before each start, and this floor is given below the table). For libtorrent the Python interpreter is included, and libtorrent 2.0 does disk I/O through memory-mapped files, so its RSS counts the file pages it touched.",
		transportNote(o.utp),
		"Every download was compared byte for byte with the payload and then deleted; before each run the disk was synced (sync(2)), so that no client pays for writing out or discarding an earlier client's data.",
	}
	if o.warmup {
		foot = append(foot, "Before the counted runs, one libtorrent download (not counted) warmed the seeders up; the client order rotates each run.")
	}
	foot = append(foot, rssFloorNote())
	if n := t.stealNote(); n != "" {
		foot = append(foot, n)
	}
	if slices.Contains(o.clients, clientTransmission) {
		foot = append(foot, "Transmission 3.00 never dials loopback peers, so each libtorrent seeder is told (on its stdin) to dial Transmission once it listens.")
	}
	if failed {
		return caption, foot, errClientsFailed
	}
	return caption, foot, nil
}

func transportNote(utp bool) string {
	if utp {
		return "libtorrent and Transmission may use uTP, gobit uses uTP only (-utp; aria2 has no uTP)."
	}
	return "All transfers use TCP (uTP is off in gobit, libtorrent and Transmission; aria2 has no uTP)."
}

// seedMode makes each client the only seeder for o.leechers libtorrent
// leechers, o.runs times.
func seedMode(e *env, o options, t *table) (string, []string, error) {
	var failed bool
	for run := 1; run <= o.runs; run++ {
		results := map[string]result{}
		for _, c := range o.clients {
			logf("run %d/%d: %s seeding %s to %d libtorrent leechers", run, o.runs, c, fmtSize(o.size), o.leechers)
			r := seedOnce(e, o, c, run)
			if r.err != nil {
				failed = true
				logf("  %s FAILED: %v", c, r.err)
			} else {
				logf("  %s: last leecher done after %.1f s, %.1f MiB/s aggregate; seeder CPU %.2f s, peak RSS %.0f MiB%s",
					c, r.wall, t.bytesMoved/(1<<20)/r.wall, r.cpu, float64(r.rss)/(1<<20), stealText(r.steal))
			}
			results[c] = r
		}
		t.runs = append(t.runs, results)
	}
	caption := fmt.Sprintf("Seeding %s (%s pieces) as the only seeder to %d libtorrent leechers on 127.0.0.1, median of %d runs (%s). `%s`",
		fmtSize(o.size), fmtSize(o.piece), o.leechers, o.runs, hostLine(), commandLine())
	foot := []string{
		"wall s: until the last leecher completed (leechers also trade pieces with each other); MiB/s: aggregate, all leechers' bytes over that time.",
		"CPU s/GiB and peak RSS are the seeder's (user+system from rusage, per GiB delivered to all leechers together, including its start-up hash check of the payload; for libtorrent including the Python interpreter).",
		"Each cell: median, and in parentheses the median ratio to libtorrent in the same run.",
		transportNote(o.utp),
		"Every leecher's data was compared byte for byte with the payload and then deleted.",
		rssFloorNote(),
	}
	if n := t.stealNote(); n != "" {
		foot = append(foot, n)
	}
	if failed {
		return caption, foot, errClientsFailed
	}
	return caption, foot, nil
}

// seedOnce runs one seeder and its leechers.
func seedOnce(e *env, o options, client string, run int) result {
	settleDisk()
	steal := readCPUTimes()
	seeder, err := e.startSeeder(client, run, readyTimeout(o.size))
	if err != nil {
		return result{err: err}
	}
	defer seeder.Stop(30 * time.Second)
	var leechers []*proc
	var outs []string
	defer func() {
		for _, l := range leechers {
			l.Kill()
		}
		for _, d := range outs {
			os.RemoveAll(d)
		}
	}()
	for i := range o.leechers {
		tag := fmt.Sprintf("libtorrent-leech%d-from-%s-run%d", i+1, client, run)
		out := filepath.Join(e.outDir, tag)
		if err := freshDir(out); err != nil {
			return result{err: err}
		}
		outs = append(outs, out)
		port, err := testutil.FreePort()
		if err != nil {
			return result{err: err}
		}
		l, err := startProc(tag, out, e.logDir, e.ltArgs("leech", out, port, "--timeout", strconv.Itoa(int(e.timeout.Seconds())))...)
		if err != nil {
			return result{err: err}
		}
		leechers = append(leechers, l)
	}
	var r result
	var errs []error
	deadline := time.Now().Add(e.timeout + 30*time.Second)
	for i, l := range leechers {
		if err := l.Wait(time.Until(deadline)); err != nil {
			errs = append(errs, err)
			continue
		}
		wall, _, _ := l.Usage()
		r.wall = max(r.wall, wall)
		if err := verify(filepath.Join(outs[i], filepath.Base(e.payload)), e.payload); err != nil {
			errs = append(errs, err)
		}
	}
	r.steal = stealSince(steal)
	seeder.Stop(30 * time.Second)
	if !seeder.Exited() {
		errs = append(errs, fmt.Errorf("%s did not exit", seeder.Name))
	} else {
		_, r.cpu, r.rss = seeder.Usage()
		if seeder.Err != nil && !strings.Contains(seeder.Err.Error(), "signal") {
			errs = append(errs, fmt.Errorf("%s: %w: %s", seeder.Name, seeder.Err, seeder.Out.Tail(1000)))
		}
	}
	r.err = errors.Join(errs...)
	return r
}
