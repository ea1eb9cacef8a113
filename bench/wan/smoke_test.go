package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobit/gobit/bench/wan/netem"
	"github.com/gobit/gobit/internal/testutil"
)

// TestSmoke runs scenario a end to end with one seeder and gobit only:
// namespaces, links, opentracker, a libtorrent seeder, gobit downloading,
// the byte-for-byte check and the report. It needs root and the link
// emulator (skipped elsewhere, failed under CI=true).
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no end-to-end run")
	}
	if err := netem.Available(); err != nil {
		if testutil.InCI() {
			t.Fatalf("the link emulator cannot run (required when CI=true): %v", err)
		}
		t.Skip("the link emulator cannot run here:", err)
	}
	testutil.NeedProgram(t, "opentracker", "opentracker")
	testutil.NeedProgram(t, "mktorrent", "mktorrent")
	py := testutil.NeedPythonModule(t, "libtorrent", "python3-libtorrent")
	dir := t.TempDir()
	out := filepath.Join(dir, "results.md")
	o, err := parseFlags([]string{"-scenario", "a", "-size", "4MiB", "-piece", "256KiB", "-seeders", "1",
		"-rounds", "1", "-clients", "gobit", "-work", dir, "-out", out, "-python", py})
	if err != nil {
		t.Fatal(err)
	}
	if err := run(o); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// One successful gobit row: a time, not "failed" or "n/a".
	var row string
	for line := range strings.Lines(string(md)) {
		if strings.HasPrefix(line, "| gobit | ") {
			row = line
			break
		}
	}
	if row == "" || strings.Contains(row, "failed") || strings.Contains(row, "n/a") {
		t.Fatalf("no successful gobit row in the report:\n%s", md)
	}
	if !strings.Contains(string(md), "s1 40/60") {
		t.Errorf("the report has no column for the seeder:\n%s", md)
	}
}
