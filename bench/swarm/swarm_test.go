package main

import (
	"math"
	"strings"
	"testing"
)

func TestTableRatiosAndMedians(t *testing.T) {
	const size = 1 << 30
	tb := &table{
		clients:    []string{clientGobit, clientAria2, clientLibtorrent},
		bytesMoved: size,
		notes:      map[string]string{},
	}
	// Two runs: libtorrent is the best anchor for wall time in both; aria2
	// has the lower CPU.
	tb.runs = []map[string]result{
		{clientGobit: {wall: 10, cpu: 4, rss: 100 << 20}, clientAria2: {wall: 40, cpu: 2, rss: 50 << 20}, clientLibtorrent: {wall: 20, cpu: 8, rss: 200 << 20}},
		{clientGobit: {wall: 30, cpu: 4, rss: 100 << 20}, clientAria2: {wall: 40, cpu: 2, rss: 50 << 20}, clientLibtorrent: {wall: 20, cpu: 8, rss: 200 << 20}},
	}
	tests := []struct {
		client string
		col    int
		want   string
	}{
		{clientGobit, 0, "20.0 (1.00×)"}, // median of 10 and 30; ratios 0.5 and 1.5
		{clientGobit, 2, "4.00 (2.00×)"}, // aria2's 2 s/GiB is the best CPU
		{clientGobit, 3, "100 (2.00×)"},
		{clientLibtorrent, 1, "51.2 (1.00×)"},
		{clientAria2, 0, "40.0 (2.00×)"},
	}
	for _, tc := range tests {
		if got := tb.cell(tc.client, metrics[tc.col]); got != tc.want {
			t.Errorf("%s %s = %q, want %q", tc.client, metrics[tc.col].title, got, tc.want)
		}
	}
	tb.runs = append(tb.runs, map[string]result{clientGobit: {err: ErrMismatch}, clientLibtorrent: {wall: 1, cpu: 1, rss: 1}})
	if got := tb.cell(clientGobit, metrics[0]); !strings.Contains(got, "[1 failed]") {
		t.Errorf("a failed run is not shown: %q", got)
	}
	if !math.IsNaN(median(nil)) || median([]float64{3, 1, 2}) != 2 || median([]float64{4, 1, 2, 3}) != 2.5 {
		t.Error("median is wrong")
	}
	var sb strings.Builder
	tb.notes[clientAria2] = "aria2c: not installed"
	tb.write(&sb, "caption", []string{"note"})
	if !strings.Contains(sb.String(), "| aria2 | n/a | n/a | n/a | n/a (aria2c: not installed) |") ||
		!strings.Contains(sb.String(), "|---|---:|---:|---:|---:|") {
		t.Errorf("table:\n%s", sb.String())
	}
}
