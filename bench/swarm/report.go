package main

import (
	"fmt"
	"io"
	"strings"
)

// metric is one column of the table.
type metric struct {
	title  string
	higher bool // higher is better
	format string
	value  func(r result, bytesMoved float64) float64
}

var metrics = []metric{
	{"wall s", false, "%.1f", func(r result, _ float64) float64 { return r.wall }},
	{"MiB/s", true, "%.1f", func(r result, b float64) float64 { return b / (1 << 20) / r.wall }},
	{"CPU s/GiB", false, "%.2f", func(r result, b float64) float64 { return r.cpu / (b / (1 << 30)) }},
	{"peak RSS MiB", false, "%.0f", func(r result, _ float64) float64 { return float64(r.rss) / (1 << 20) }},
}

// table holds every run's results for each client (rows in order).
type table struct {
	clients    []string
	runs       []map[string]result // one map per run
	notes      map[string]string   // "n/a" reasons by client
	bytesMoved float64             // bytes each figure is normalised by
}

// bestAnchor returns the best value of m among the successful non-gobit
// clients of one run and whether there was one.
func (t *table) bestAnchor(run map[string]result, m metric) (float64, bool) {
	best, ok := 0.0, false
	for c, r := range run {
		if c == clientGobit || r.err != nil {
			continue
		}
		v := m.value(r, t.bytesMoved)
		if !ok || (m.higher && v > best) || (!m.higher && v < best) {
			best, ok = v, true
		}
	}
	return best, ok
}

// cell formats a client's median figure and its median ratio to the best
// anchor of each run.
func (t *table) cell(client string, m metric) string {
	var vals, ratios []float64
	failed := 0
	for _, run := range t.runs {
		r, ok := run[client]
		if !ok {
			continue
		}
		if r.err != nil {
			failed++
			continue
		}
		v := m.value(r, t.bytesMoved)
		vals = append(vals, v)
		if best, ok := t.bestAnchor(run, m); ok && best > 0 {
			ratios = append(ratios, v/best)
		}
	}
	if len(vals) == 0 {
		if failed > 0 {
			return "failed"
		}
		return "n/a"
	}
	s := fmt.Sprintf(m.format, median(vals))
	if len(ratios) > 0 {
		s += fmt.Sprintf(" (%.2f×)", median(ratios))
	}
	if failed > 0 {
		s += fmt.Sprintf(" [%d failed]", failed)
	}
	return s
}

// write prints the Markdown table with a caption line and footnotes.
func (t *table) write(w io.Writer, caption string, footnotes []string) {
	fmt.Fprintf(w, "%s\n\n", caption)
	head := []string{"client"}
	align := []string{"---"}
	for _, m := range metrics {
		head = append(head, m.title)
		align = append(align, "---:")
	}
	fmt.Fprintf(w, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(align, "|"))
	for _, c := range t.clients {
		row := []string{c}
		if note, ok := t.notes[c]; ok {
			for range metrics {
				row = append(row, "n/a")
			}
			row[len(row)-1] += " (" + note + ")"
		} else {
			for _, m := range metrics {
				row = append(row, t.cell(c, m))
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	if len(footnotes) > 0 {
		fmt.Fprintln(w)
		for _, f := range footnotes {
			fmt.Fprintf(w, "%s\n", f)
		}
	}
}
