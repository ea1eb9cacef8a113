package main

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
)

// runResult is one client's figures in one run of a scenario.
type runResult struct {
	// wall is the completion time in seconds: of the client's download in
	// a, b and c; of the whole swarm in d.
	wall float64
	// cpu (user+system seconds) and rss (peak bytes) are the client
	// process's, from rusage.
	cpu float64
	rss int64
	// linkIn is the bytes the client's node received through its link
	// (IP packets: payload, protocol, TCP/IP headers, retransmissions);
	// linkOut the bytes it sent.
	linkIn, linkOut int64
	// fromSeeder is the bytes each seeder's link carried up during the
	// run, by seeder name.
	fromSeeder map[string]int64
	// others are the completion times (s) of the libtorrent leechers of
	// scenario c.
	others []float64
	// emuCPU is the emulator's CPU seconds during the run, runWall the
	// run's wall time from the first process start to the last stop.
	emuCPU, runWall float64
	err             error
}

// report collects every run of one scenario.
type report struct {
	sc      *scenario
	clients []string
	rounds  []map[string]runResult
	notes   map[string]string // why a client has no figures ("not installed")
	cc      string
	mtu     int
	piece   int64
	cmd     string
}

func newReport(sc *scenario, clients []string, cc string, mtu int, piece int64, cmd string) *report {
	return &report{sc: sc, clients: clients, notes: map[string]string{}, cc: cc, mtu: mtu, piece: piece, cmd: cmd}
}

// values returns the successful runs' values of f for client and the
// number of failed runs.
func (r *report) values(client string, f func(runResult) float64) (vals []float64, failed int) {
	for _, round := range r.rounds {
		res, ok := round[client]
		if !ok {
			continue
		}
		if res.err != nil {
			failed++
			continue
		}
		if v := f(res); !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	return vals, failed
}

// cell formats the median of f over client's runs.
func (r *report) cell(client, format string, f func(runResult) float64) string {
	vals, failed := r.values(client, f)
	if len(vals) == 0 {
		if failed > 0 {
			return "failed"
		}
		return "n/a"
	}
	s := fmt.Sprintf(format, benchkit.Median(vals))
	if failed > 0 {
		s += fmt.Sprintf(" [%d failed]", failed)
	}
	return s
}

// column is one column of the main table.
type column struct {
	title  string
	format string
	value  func(runResult) float64
}

func (r *report) columns() []column {
	size := float64(r.sc.Size)
	ideal := r.sc.idealTime().Seconds()
	gib := size / (1 << 30)
	cols := []column{
		{"time s", "%.1f", func(x runResult) float64 { return x.wall }},
		{"share of ideal", "%.0f %%", func(x runResult) float64 { return 100 * ideal / x.wall }},
	}
	switch r.sc.Name {
	case scenarioCrowd:
		cols[0].title = "client's time s"
		cols = append(cols,
			column{"median libtorrent leecher s", "%.1f", func(x runResult) float64 { return benchkit.Median(x.others) }},
			column{"client / median", "%.2f×", func(x runResult) float64 { return x.wall / benchkit.Median(x.others) }})
	case scenarioSeeder:
		cols[0].title = "swarm done s"
	}
	if r.sc.Name == scenarioSeeder {
		cols = append(cols,
			column{"seeder CPU s/GiB sent", "%.2f", func(x runResult) float64 {
				if x.linkOut <= 0 {
					return math.NaN()
				}
				return x.cpu / (float64(x.linkOut) / (1 << 30))
			}},
			column{"peak RSS MiB", "%.0f", func(x runResult) float64 { return float64(x.rss) / (1 << 20) }},
			column{"seeder link out / payload", "%.2f", func(x runResult) float64 { return float64(x.linkOut) / size }})
		return cols
	}
	return append(cols,
		column{"CPU s/GiB", "%.2f", func(x runResult) float64 { return x.cpu / gib }},
		column{"peak RSS MiB", "%.0f", func(x runResult) float64 { return float64(x.rss) / (1 << 20) }},
		column{"link in / payload", "%.3f", func(x runResult) float64 { return float64(x.linkIn) / size }},
		column{"MiB beyond payload", "%.1f", func(x runResult) float64 { return float64(x.linkIn-r.sc.Size) / (1 << 20) }})
}

// emuCPU returns the median emulator CPU seconds per run and its median
// share of one core over the run.
func (r *report) emuCPU() (secs, share float64) {
	var s, sh []float64
	for _, round := range r.rounds {
		for _, res := range round {
			if res.runWall > 0 {
				s = append(s, res.emuCPU)
				sh = append(sh, res.emuCPU/res.runWall)
			}
		}
	}
	if len(s) == 0 {
		return math.NaN(), math.NaN()
	}
	return benchkit.Median(s), benchkit.Median(sh)
}

// markdown renders the scenario's tables with caption and notes.
func (r *report) markdown() string {
	var b strings.Builder
	sc := r.sc
	ideal := sc.idealTime()
	fmt.Fprintf(&b, "**WAN scenario %s**: %s; %s payload in %s pieces; ideal %.1f s; TCP congestion control `%s`, MTU %d; median of %d round(s) (%s/%s, %d CPUs). `%s`\n\n",
		sc.Name, sc.Title, benchkit.FmtSize(sc.Size), benchkit.FmtSize(r.piece), ideal.Seconds(), r.cc, r.mtu, len(r.rounds),
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), r.cmd)
	cols := r.columns()
	head, align := []string{"client"}, []string{"---"}
	for _, c := range cols {
		head, align = append(head, c.title), append(align, "---:")
	}
	fmt.Fprintf(&b, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(align, "|"))
	for _, c := range r.clients {
		row := []string{c}
		if note, ok := r.notes[c]; ok {
			for range cols {
				row = append(row, "n/a")
			}
			row[len(row)-1] += " (" + note + ")"
		} else {
			for _, col := range cols {
				row = append(row, r.cell(c, col.format, col.value))
			}
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
	}
	b.WriteString("\n")
	if sc.Name == scenarioMixed || sc.Name == scenarioChurn {
		// In c and d the seeders' links carry data to every leecher, so
		// their bytes say nothing about one client.
		r.seederTable(&b)
	}
	for _, n := range r.notesText() {
		fmt.Fprintf(&b, "%s\n", n)
	}
	return b.String()
}

// seederTable writes how many MiB each seeder's link carried up in each
// client's runs (medians).
func (r *report) seederTable(b *strings.Builder) {
	head, align := []string{"MiB sent by each seeder (Mbit/s up / ms RTT to the client)"}, []string{"---"}
	for _, s := range r.sc.Seeders {
		head, align = append(head, s.label(r.sc.Leechers[0].Link.RTT)), append(align, "---:")
	}
	fmt.Fprintf(b, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(align, "|"))
	for _, c := range r.clients {
		if _, ok := r.notes[c]; ok {
			continue
		}
		row := []string{c}
		for _, s := range r.sc.Seeders {
			row = append(row, r.cell(c, "%.1f", func(x runResult) float64 { return float64(x.fromSeeder[s.Name]) / (1 << 20) }))
		}
		fmt.Fprintf(b, "| %s |\n", strings.Join(row, " | "))
	}
	b.WriteString("\n")
}

// notesText returns the footnotes of the tables.
func (r *report) notesText() []string {
	sc := r.sc
	var n []string
	switch sc.Name {
	case scenarioMixed:
		n = append(n, "Ideal: the payload over the smaller of the seeders' summed upload and the leecher's downlink; share of ideal = ideal / time.")
	case scenarioChurn:
		n = append(n, fmt.Sprintf("Ideal: the payload over min(the present seeders' summed upload, the leecher's downlink), integrated as seeders leave and join at the given percentages of scenario a's ideal (%.1f s); share of ideal = ideal / time.", sc.staticIdeal().Seconds()))
	case scenarioCrowd:
		n = append(n, "Ideal (the whole swarm's lower bound): the largest of payload / the seeders' upload, leechers × payload / everyone's upload, and payload / a leecher's downlink. The client's time is compared with the median of the libtorrent leechers of the same run (they share its line, 10↑/50↓ Mbit/s, at other distances; they keep seeding after they finish).")
	case scenarioSeeder:
		n = append(n, "Swarm done: from the start of the libtorrent leechers (all at once, once the seeder was ready and announced) until the last of them completed; they trade with each other and keep seeding once complete. Ideal: the largest of payload / the seeder's upload, leechers × payload / everyone's upload, payload / a leecher's downlink. Seeder CPU (including its start-up check of the payload) per GiB its link sent; seeder link out / payload: how many copies' worth of IP bytes the seeder sent.")
	}
	n = append(n, "Links: "+r.linksText())
	if sc.Name == scenarioCrowd {
		n = append(n, "Time: from the client's start to its exit (Transmission: to its finish script). CPU (user+system) and peak RSS: the client process, from rusage (libtorrent: with the Python interpreter). Link in / payload: the IP bytes the client's link delivered to it over the payload size, so it includes TCP/IP headers (about 3.5 % at MTU 1500), the BitTorrent protocol, retransmitted segments, duplicate blocks and pieces that failed their hash; MiB beyond payload is the same as a difference.")
	}
	if sc.Name == scenarioMixed || sc.Name == scenarioChurn {
		n = append(n, "Time: from the client's start to its exit (Transmission: to its finish script). CPU (user+system) and peak RSS: the client process, from rusage (libtorrent: with the Python interpreter). Link in / payload: the IP bytes the client's link delivered to it over the payload size, so it includes TCP/IP headers (about 3.5 % at MTU 1500), the BitTorrent protocol, retransmitted segments, duplicate blocks and pieces that failed their hash; MiB beyond payload is the same as a difference. MiB sent by each seeder: the IP bytes its link carried up during the run (to the client, and a little to the tracker).")
	}
	if secs, share := r.emuCPU(); !math.IsNaN(secs) {
		n = append(n, fmt.Sprintf("The link emulator used %.1f s of CPU per run (median), %.0f %% of one core over the run.", secs, 100*share))
	}
	n = append(n, "Every run starts a fresh swarm (seeders, tracker state aside) and a fresh download directory; every download was compared byte for byte with the payload. All transfers use TCP (uTP off in every client).")
	if len(r.notes) > 0 {
		for _, c := range r.clients {
			if note, ok := r.notes[c]; ok {
				n = append(n, fmt.Sprintf("%s: %s.", c, note))
			}
		}
	}
	return n
}

// linksText summarises the links of the scenario.
func (r *report) linksText() string {
	sc := r.sc
	var parts []string
	for _, s := range sc.Seeders {
		parts = append(parts, fmt.Sprintf("%s %s", s.Name, s.Link))
	}
	seeders := strings.Join(parts, "; ")
	loss := 0.0
	if len(sc.Seeders) > 0 {
		loss = sc.Seeders[0].Link.Loss
	}
	switch sc.Name {
	case scenarioMixed, scenarioChurn:
		return fmt.Sprintf("leecher %s; seeders %s; %.1f %% loss on every seeder's link each way; RTT between two nodes = the sum of their ms.", sc.Leechers[0].Link, seeders, 100*loss)
	}
	var rtts []string
	for _, l := range sc.Leechers {
		rtts = append(rtts, fmt.Sprint(l.Link.RTT.Milliseconds()))
	}
	return fmt.Sprintf("seeders %s; %d leechers %s↑/%s↓ Mbit/s at %s ms (the client under test at the first); %.1f %% loss on every link but the tracker's; RTT between two nodes = the sum of their ms.",
		seeders, len(sc.Leechers), mbit(sc.Leechers[0].Link.Up), mbit(sc.Leechers[0].Link.Down), strings.Join(rtts, ", "), 100*loss)
}

// fmtDur formats a duration in seconds with one decimal.
func fmtDur(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
