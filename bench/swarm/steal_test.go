package main

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseCPUTimes(t *testing.T) {
	got, err := parseCPUTimes("cpu  1319635 0 900712 5937927 95513 0 72249 413184 0 0")
	if err != nil {
		t.Fatal(err)
	}
	want := cpuTimes{total: 1319635 + 900712 + 5937927 + 95513 + 72249 + 413184, steal: 413184}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{
		"",
		"cpu0 1 2 3 4 5 6 7 8",         // one processor, not the aggregate
		"cpu 1 2 3 4 5 6 7",            // no steal column
		"cpu 1 2 3 x 5 6 7 8",          // not a number
		"cpu 1 2 3 4 5 6 7 -8",         // negative
		"intr 1 2 3 4 5 6 7 8 9 10 11", // another line
	} {
		if _, err := parseCPUTimes(bad); err == nil {
			t.Errorf("parseCPUTimes(%q) succeeded", bad)
		}
	}
}

func TestStealShare(t *testing.T) {
	a := cpuTimes{total: 1000, steal: 50}
	if got := stealShare(a, cpuTimes{total: 1200, steal: 80}); math.Abs(got-0.15) > 1e-9 {
		t.Errorf("share = %v, want 0.15", got)
	}
	for _, b := range []cpuTimes{{total: 1000, steal: 50}, {total: 900, steal: 60}, {total: 1200, steal: 40}} {
		if got := stealShare(a, b); !math.IsNaN(got) {
			t.Errorf("stealShare(%+v, %+v) = %v, want NaN", a, b, got)
		}
	}
	if s := stealText(math.NaN()); s != "" {
		t.Errorf("stealText(NaN) = %q", s)
	}
	if s := stealText(0.123); s != ", host steal 12 %" {
		t.Errorf("stealText(0.123) = %q", s)
	}
	if got := stealShare(cpuTimes{}, cpuTimes{total: 1200, steal: 80}); !math.IsNaN(got) {
		t.Errorf("share from a failed first reading = %v, want NaN", got)
	}
	// On Linux the live reading works and stays within [0, 1].
	if start := readCPUTimes(); start.total > 0 {
		for i := 0; i < 1e6; i++ {
			_ = i * i
		}
		if v := stealSince(start); !math.IsNaN(v) && (v < 0 || v > 1) {
			t.Errorf("live share %v out of range", v)
		}
	}
}

func TestStealNote(t *testing.T) {
	tb := &table{clients: []string{clientGobit, clientLibtorrent, clientAria2}}
	tb.runs = []map[string]result{
		{clientGobit: {steal: 0.02}, clientLibtorrent: {steal: 0.30}, clientAria2: {steal: math.NaN()}},
		{clientGobit: {steal: 0.04}, clientLibtorrent: {steal: 0.10}},
		{clientGobit: {steal: 0.90, err: errors.New("failed")}, clientLibtorrent: {steal: 0.06}},
	}
	n := tb.stealNote()
	for _, want := range []string{"gobit 3 % (max 4 %)", "libtorrent 10 % (max 30 %)"} {
		if !strings.Contains(n, want) {
			t.Errorf("note %q lacks %q", n, want)
		}
	}
	if strings.Contains(n, clientAria2) {
		t.Errorf("note %q names a client with no reading", n)
	}
	if (&table{clients: []string{clientGobit}}).stealNote() != "" {
		t.Error("a note without readings")
	}
}
