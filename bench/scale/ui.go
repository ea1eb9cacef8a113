package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
)

// webUI is a daemon whose own web UI the benchmark can time (gobit's).
type webUI interface {
	// uiBase is the URL the web UI is served from.
	uiBase() string
}

func (g *gobitDaemon) uiBase() string { return g.api }

// timeUIRender opens the daemon's web UI runs times in a headless
// Chromium (test/browser/render.js, with the playwright-core that
// test/browser's npm install provides) and returns the first render's
// latency: from the start of each navigation until the list holds count
// torrents and shows its first rows.
func timeUIRender(ws benchkit.Workspace, base string, count, runs int) routeStats {
	rs := routeStats{Name: "web UI first render"}
	dir, err := filepath.Abs(filepath.Join("test", "browser"))
	if err != nil {
		rs.Err = err.Error()
		return rs
	}
	script := filepath.Join(dir, "render.js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		rs.Err = "run from the module root, with test/browser's npm packages installed (cd test/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci)"
		return rs
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		rs.Err = "chromium is needed (apt-get install chromium)"
		return rs
	}
	cfg := map[string]any{
		"chromium": chromium, "userDataDir": filepath.Join(ws.LogDir, "ui-profile"),
		"base": base, "count": count, "runs": runs, "timeoutMs": (5 * time.Minute).Milliseconds(),
	}
	cfgPath := filepath.Join(ws.LogDir, "ui-render.json")
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		rs.Err = err.Error()
		return rs
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, cfgPath)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(), "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1")
	out, err := cmd.CombinedOutput()
	var res struct {
		FirstRenderMs []float64
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
			json.Unmarshal([]byte(rest), &res)
		}
	}
	if err != nil || len(res.FirstRenderMs) == 0 {
		rs.Err = fmt.Sprintf("render.js: %v: %s", err, lastLines(string(out), 5))
		return rs
	}
	var ds []time.Duration
	for _, ms := range res.FirstRenderMs {
		ds = append(ds, time.Duration(ms*float64(time.Millisecond)))
	}
	rs.P50, rs.P99 = percentile(ds, 50), percentile(ds, 99)
	return rs
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
