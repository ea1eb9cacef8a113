package main

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/gobit/gobit/bench/internal/benchkit"
)

//go:embed ltseeds.py
var ltseedsScript []byte

// printReport writes one markdown table, a column per daemon.
func printReport(w io.Writer, o options, rs []*result) {
	fmt.Fprintf(w, "\nMachine: %d CPUs; load average when the report was written: %s\n", runtime.NumCPU(), loadNow())
	fmt.Fprintf(w, "\n%d torrents (%s each; %d of %s downloaded during the run from a libtorrent seeder at %s/s), %.0f%% of the idle ones with a dead tracker; idle window %s, announces counted for %s after the restart\n\n",
		o.torrents, humanize.IBytes(uint64(o.idleSize)), o.active, benchkit.FmtSize(o.actSize), benchkit.FmtSize(o.uploadLimit),
		o.deadShare*100, o.idleWindow, o.announceWindow)
	head := "| |"
	sep := "|---|"
	for _, r := range rs {
		head += " " + r.Client + " |"
		sep += "---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	row := func(name string, f func(r *result) string) {
		line := "| " + name + " |"
		for _, r := range rs {
			line += " " + f(r) + " |"
		}
		fmt.Fprintln(w, line)
	}
	rate := func(n int, d time.Duration) string {
		if d <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f/s", float64(n)/d.Seconds())
	}
	secs := func(d time.Duration) string {
		if d <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	row("version", func(r *result) string { return r.Version })
	row("add, one by one", func(r *result) string { return rate(r.AddSeqN, r.AddSeq) })
	row("add, 8 requests in flight", func(r *result) string {
		if r.AddPerRequest > 1 {
			return rate(r.AddParN, r.AddPar) + fmt.Sprintf(" (%d per request)", r.AddPerRequest)
		}
		return rate(r.AddParN, r.AddPar)
	})
	row(fmt.Sprintf("add, batched (%d a request)", addBatchSize), func(r *result) string { return rate(r.AddBatchN, r.AddBatch) })
	row("all added and loaded", func(r *result) string {
		for _, p := range []string{phaseAdd, phaseLoad} {
			if c := r.Partial[p]; c != "" {
				return "timed out: " + c
			}
		}
		return secs(r.Loaded)
	})
	use := func(name string, u func(r *result) usage) {
		row(name+": CPU (one core)", func(r *result) string { return fmt.Sprintf("%.1f %%", u(r).CPU*100) })
		row(name+": RSS", func(r *result) string { return mib(u(r).RSS) })
		row(name+": descriptors (sockets)", func(r *result) string { return fmt.Sprintf("%d (%d)", u(r).FDs, u(r).Sockets) })
		row(name+": threads / goroutines", func(r *result) string {
			if u(r).Goroutines < 0 {
				return fmt.Sprintf("%d / –", u(r).Threads)
			}
			return fmt.Sprintf("%d / %d", u(r).Threads, u(r).Goroutines)
		})
	}
	use("while transferring", func(r *result) usage { return r.Busy })
	use("idle", func(r *result) usage { return r.Idle })
	use("idle after the restart's announce window", func(r *result) usage { return r.IdleLate })
	var routes []string
	for _, r := range rs {
		for _, rt := range r.Routes {
			if !contains(routes, rt.Name) {
				routes = append(routes, rt.Name)
			}
		}
	}
	for _, name := range routes {
		row(name+" p50 / p99", func(r *result) string {
			for _, rt := range r.Routes {
				if rt.Name == name {
					if rt.Err != "" {
						return "n/a"
					}
					if rt.Bytes == 0 { // the web UI's render: no one answer's size
						return fmt.Sprintf("%.0f / %.0f ms", ms(rt.P50), ms(rt.P99))
					}
					return fmt.Sprintf("%.0f / %.0f ms (%s)", ms(rt.P50), ms(rt.P99), mib(int64(rt.Bytes)))
				}
			}
			return "–"
		})
	}
	row("log lines per minute, idle", func(r *result) string { return fmt.Sprintf("%.0f", r.IdleLogPerMin) })
	row("shutdown", func(r *result) string { return secs(r.Shutdown) })
	row("restart until all loaded", func(r *result) string {
		if c := r.Partial[phaseRestart]; c != "" {
			return "timed out: " + c
		}
		return secs(r.Restart)
	})
	row("torrents seen loading or checking at restart", func(r *result) string { return fmt.Sprint(r.RestartChecked) })
	row("announces after restart (peak 1 s / peak 10 s)", func(r *result) string {
		return fmt.Sprintf("%d (%d / %d)", r.Announce.Total, r.Announce.PeakPerSec, r.Announce.PeakPer10s)
	})
	row("every live torrent announced by", func(r *result) string {
		if r.Announce.AllBy == 0 {
			return fmt.Sprintf("%d of %d", r.Announce.Torrents, r.LiveTrackers)
		}
		return secs(r.Announce.AllBy)
	})
	row("log lines per minute after restart", func(r *result) string { return fmt.Sprintf("%.0f", r.RestartLogPerMin) })
	row("second shutdown", func(r *result) string { return secs(r.Shutdown2) })
	row("transfer of the active torrents", func(r *result) string {
		if c := r.Partial[phaseTransfer]; c != "" {
			return "timed out: " + c
		}
		return "all complete"
	})
	var phases []string
	for _, r := range rs {
		for _, l := range r.Load {
			if !contains(phases, l.Phase) {
				phases = append(phases, l.Phase)
			}
		}
	}
	for _, ph := range phases {
		row("load average: "+ph+" (mean / max; phase length)", func(r *result) string {
			for _, l := range r.Load {
				if l.Phase == ph {
					return fmt.Sprintf("%.1f / %.1f (%s)", l.Mean, l.Max, l.Took.Round(time.Second))
				}
			}
			return "–"
		})
	}
	fmt.Fprintln(w)
	for _, r := range rs {
		if r.Settings != "" {
			fmt.Fprintf(w, "%s settings: %s\n", r.Client, r.Settings)
		}
	}
	for _, r := range rs {
		for _, n := range r.Notes {
			fmt.Fprintf(w, "\n%s: %s", r.Client, n)
		}
	}
	for _, r := range rs {
		for _, rt := range r.Routes {
			if rt.Err != "" {
				fmt.Fprintf(w, "\n%s: %s: %s", r.Client, rt.Name, strings.TrimSpace(rt.Err))
			}
		}
	}
	fmt.Fprintln(w)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// mib formats a byte count in MiB with one decimal.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// loadNow returns /proc/loadavg's three averages.
func loadNow() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
