package main

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// cpuTimes holds the machine-wide CPU time counters of /proc/stat, in clock
// ticks: all of them together and the steal time, which a virtual machine's
// kernel counts while its processors were ready to run but the hypervisor
// ran something else on them.
type cpuTimes struct {
	total, steal uint64
}

// readCPUTimes reads the counters; zero where there is no /proc/stat or it
// has no steal column (not Linux, or a kernel before 2.6.11).
func readCPUTimes() cpuTimes {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return cpuTimes{}
	}
	t, _ := parseCPUTimes(sc.Text())
	return t
}

// parseCPUTimes parses the first line of /proc/stat:
// "cpu user nice system idle iowait irq softirq steal [guest guest_nice]".
// Guest time is already counted in user and nice, so it is left out of the
// total.
func parseCPUTimes(line string) (cpuTimes, error) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}, errors.New("not an aggregate cpu line with a steal column")
	}
	var t cpuTimes
	for i := 1; i <= 8; i++ {
		v, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return cpuTimes{}, fmt.Errorf("cpu field %d: %w", i, err)
		}
		t.total += v
		if i == 8 {
			t.steal = v
		}
	}
	return t, nil
}

// stealShare returns the share of the machine's processor time that was
// stolen between two readings, or NaN if it cannot tell (a reading failed,
// or the counters did not move forward).
func stealShare(a, b cpuTimes) float64 {
	if a.total == 0 || b.total <= a.total || b.steal < a.steal {
		return math.NaN()
	}
	return float64(b.steal-a.steal) / float64(b.total-a.total)
}

// stealSince returns the steal share since the reading start (from
// readCPUTimes at the start of a run), NaN if unknown.
func stealSince(start cpuTimes) float64 {
	return stealShare(start, readCPUTimes())
}

// stealText formats a share for the log: "", when unknown.
func stealText(share float64) string {
	if math.IsNaN(share) {
		return ""
	}
	return fmt.Sprintf(", host steal %.0f %%", 100*share)
}

// stealNote summarises, for each client, the steal share during its runs:
// when the hypervisor is busy, every client slows down, and not by the same
// amount, so the ratios of such a run say more about the host than about
// the clients.
func (t *table) stealNote() string {
	var parts []string
	for _, c := range t.clients {
		var xs []float64
		for _, run := range t.runs {
			if r, ok := run[c]; ok && r.err == nil && !math.IsNaN(r.steal) {
				xs = append(xs, 100*r.steal)
			}
		}
		if len(xs) == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.0f %% (max %.0f %%)", c, median(xs), slices.Max(xs)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Host steal time (the share of this virtual machine's processor time that the hypervisor gave to others) during each client's runs, median: " +
		strings.Join(parts, ", ") + ". A few per cent is this machine's normal; runs with much more are slowed by the host, each client differently."
}
