package browser

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// npmHint says how to install what the test drives chromium with.
const npmHint = "cd test/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci"

// apiTimeout bounds every HTTP request the test makes itself.
const apiTimeout = 10 * time.Second

// browserTimeout bounds the whole browser run.
const browserTimeout = 3 * time.Minute

// need skips the test (fails it under CI=true) with msg.
func need(t *testing.T, msg string) {
	t.Helper()
	if testutil.InCI() {
		t.Fatalf("%s (required when CI=true)", msg)
	}
	t.Skip(msg)
}

// browserRun is what every browser test starts from: the chromium and
// node it drives, this directory (the scripts and their node_modules), a
// temporary directory and a gobit built into it.
type browserRun struct {
	chromium, node, here, tmp, bin string
}

// newBrowserRun skips the test under -short (saying it starts chromium and
// what), skips it (fails it under CI=true) without chromium, node or
// playwright-core, and builds gobit.
func newBrowserRun(t *testing.T, what string) *browserRun {
	t.Helper()
	if testing.Short() {
		t.Skip("starts chromium and " + what + "; skipped with -short")
	}
	b := &browserRun{
		chromium: testutil.NeedProgram(t, "chromium", "chromium"),
		node:     testutil.NeedProgram(t, "node", "nodejs"),
		here:     filepath.Join(testutil.ModuleRoot(t), "test", "browser"),
	}
	if _, err := os.Stat(filepath.Join(b.here, "node_modules", "playwright-core", "package.json")); err != nil {
		need(t, "playwright-core is not installed in test/browser/node_modules; install it with: "+npmHint)
	}
	b.tmp = t.TempDir()
	b.bin = testutil.BuildGobit(t, b.tmp)
	return b
}

// daemon starts "gobit serve" (see startDaemon) downloading to downloads,
// with its data directory and log named after name in the temporary
// directory.
func (b *browserRun) daemon(t *testing.T, name, downloads string, extra ...string) *daemon {
	t.Helper()
	return startDaemon(t, b.bin, downloads, filepath.Join(b.tmp, name+"-data"), filepath.Join(b.tmp, name+".log"), extra...)
}

// run runs "node script args... config.json" in this directory, bounded
// by browserTimeout, with cfg written to config.json after adding what
// every script takes: the chromium, a fresh profile directory and the
// bound of its waits. It returns the script's output and error.
func (b *browserRun) run(t *testing.T, script string, cfg map[string]any, args ...string) ([]byte, error) {
	t.Helper()
	name := strings.Join(append([]string{strings.TrimSuffix(script, ".js")}, args...), "-")
	cfg["chromium"] = b.chromium
	cfg["userDataDir"] = filepath.Join(b.tmp, "chromium-"+name)
	cfg["timeoutMs"] = (browserTimeout - 30*time.Second).Milliseconds()
	cfgPath := filepath.Join(b.tmp, name+".json")
	if data, err := json.Marshal(cfg); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.node, append(append([]string{filepath.Join(b.here, script)}, args...), cfgPath)...)
	cmd.Dir = b.here
	cmd.Env = append(os.Environ(), "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1", "HOME="+b.tmp)
	cmd.WaitDelay = 10 * time.Second
	return cmd.CombinedOutput()
}

// runOK runs script like run and returns its output, failing the test with
// that output if the script fails.
func (b *browserRun) runOK(t *testing.T, script string, cfg map[string]any, args ...string) []byte {
	t.Helper()
	out, err := b.run(t, script, cfg, args...)
	if err != nil {
		t.Fatalf("node %s %s: %v\n--- its output ---\n%s", script, strings.Join(args, " "), err, out)
	}
	return out
}

// runResult runs script like run and decodes the last "RESULT <json>" line
// it printed into v. It fails the test if there is none or the script
// failed (naming the steps the RESULT line lists), and has the script's
// whole output logged if the test fails.
func (b *browserRun) runResult(t *testing.T, script string, cfg map[string]any, v any, args ...string) {
	t.Helper()
	out, err := b.run(t, script, cfg, args...)
	var last string
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
			last = rest
		}
	}
	if last == "" {
		t.Fatalf("%s printed no RESULT line (%v):\n%s", script, err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- %s output ---\n%s", script, out)
		}
	})
	if err := json.Unmarshal([]byte(last), v); err != nil {
		t.Fatalf("%s result: %v: %s", script, err, last)
	}
	if err != nil {
		var done struct{ Steps []string }
		json.Unmarshal([]byte(last), &done)
		t.Fatalf("node %s: %v (steps %s)", script, err, strings.Join(done.Steps, " → "))
	}
}
