package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// procSample is what /proc tells of a process at one moment.
type procSample struct {
	At      time.Time
	CPU     float64 // user+system seconds so far
	RSS     int64   // resident bytes
	FDs     int     // open descriptors
	Sockets int     // descriptors that are sockets
	Threads int
}

// clockTick is USER_HZ, 100 on every Linux this runs on.
const clockTick = 100

// sampleProc reads /proc/<pid>.
func sampleProc(pid int) (procSample, error) {
	s := procSample{At: time.Now()}
	base := filepath.Join("/proc", strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(base, "stat"))
	if err != nil {
		return s, err
	}
	// Fields after the command name, which may hold spaces, in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 22 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // utime, field 14
	st, _ := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	s.CPU = float64(ut+st) / clockTick
	s.Threads, _ = strconv.Atoi(f[17]) // num_threads, field 20
	rss, _ := strconv.ParseInt(f[21], 10, 64)
	s.RSS = rss * int64(os.Getpagesize())
	ents, err := os.ReadDir(filepath.Join(base, "fd"))
	if err != nil {
		return s, err
	}
	s.FDs = len(ents)
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(base, "fd", e.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			s.Sockets++
		}
	}
	return s, nil
}

// cpuShare is the share of one core used between two samples.
func cpuShare(a, b procSample) float64 {
	wall := b.At.Sub(a.At).Seconds()
	if wall <= 0 {
		return 0
	}
	return (b.CPU - a.CPU) / wall
}

// countLines returns the number of lines in the file at path (0 if it
// does not exist). linesSince(path, before) is what to subtract with: a
// daemon that starts a new log file (qBittorrent) has fewer lines than
// before.
func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte{'\n'})
}

// percentile returns the p-th percentile (0..100) of ds, which it sorts.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	k := int(p / 100 * float64(len(sorted)-1))
	return sorted[k]
}

// linesSince returns the lines written to path since it had before lines;
// all of them when the file was started afresh in between.
func linesSince(path string, before int) int {
	n := countLines(path)
	if n < before {
		return n
	}
	return n - before
}

// loadAvg returns the machine's 1-minute load average from /proc/loadavg.
func loadAvg() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 0, fmt.Errorf("/proc/loadavg: unexpected format %q", b)
	}
	return strconv.ParseFloat(f[0], 64)
}

// loadStats is the machine's 1-minute load average over one phase of the
// benchmark: its mean and maximum over samples taken every few seconds.
type loadStats struct {
	Phase     string
	Mean, Max float64
	Samples   int
	Took      time.Duration
}

// loadWatch samples the load average in the background during a phase.
type loadWatch struct {
	phase string
	start time.Time
	stop  chan struct{}
	done  chan loadStats
}

// watchLoad starts sampling the load average every interval (and once at
// once) for the phase named phase.
func watchLoad(phase string, interval time.Duration) *loadWatch {
	w := &loadWatch{phase: phase, start: time.Now(), stop: make(chan struct{}), done: make(chan loadStats, 1)}
	go func() {
		st := loadStats{Phase: phase}
		var sum float64
		take := func() {
			if l, err := loadAvg(); err == nil {
				sum += l
				st.Max = max(st.Max, l)
				st.Samples++
			}
		}
		take()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				take()
			case <-w.stop:
				take()
				if st.Samples > 0 {
					// Summing equal readings can round above any of
					// them; the mean never exceeds the largest.
					st.Mean = min(sum/float64(st.Samples), st.Max)
				}
				st.Took = time.Since(w.start)
				w.done <- st
				return
			}
		}
	}()
	return w
}

// end stops the sampling and returns the phase's load.
func (w *loadWatch) end() loadStats {
	close(w.stop)
	return <-w.done
}
