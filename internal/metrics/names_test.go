package metrics_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/metrics"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
)

// exposed returns the names of the families the Collector describes, and
// which of them are histograms (gathered from a live session).
func exposed(t *testing.T) (names []string, histograms map[string]bool) {
	t.Helper()
	sess := swarmtest.NewSessionWith(t, session.Config{DownloadDir: t.TempDir(), Port: -1})
	c := metrics.NewCollector(sess, metrics.Options{PerTorrent: true})
	ch := make(chan *prometheus.Desc, 100)
	c.Describe(ch)
	close(ch)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		names = append(names, m[1])
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	histograms = map[string]bool{}
	for _, f := range fams {
		if f.GetType().String() == "HISTOGRAM" {
			histograms[f.GetName()] = true
		}
	}
	if len(histograms) == 0 {
		t.Fatal("no histogram gathered")
	}
	slices.Sort(names)
	return names, histograms
}

var gobitName = regexp.MustCompile(`\bgobit_[a-zA-Z0-9_:]+`)

// family maps a name used in a query to its family: a histogram's
// _bucket, _sum and _count series belong to it.
func family(name string, histograms map[string]bool) string {
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suf); ok && histograms[base] {
			return base
		}
	}
	return name
}

// queries returns every PromQL string of a Grafana dashboard: the targets'
// expressions and the template variables' queries.
func queries(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "query" || k == "definition") {
				out = append(out, s)
				continue
			}
			out = append(out, queries(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, queries(x)...)
		}
	}
	return out
}

// TestDashboardUsesExposedNames parses contrib/grafana/gobit.json and
// checks that every gobit_* name its queries use is one gobit exposes,
// and that every family gobit exposes is on the dashboard.
func TestDashboardUsesExposedNames(t *testing.T) {
	names, hist := exposed(t)
	b, err := os.ReadFile(filepath.Join(testutil.ModuleRoot(t), "contrib", "grafana", "gobit.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("contrib/grafana/gobit.json: %v", err)
	}
	qs := queries(dash)
	if len(qs) < 10 {
		t.Fatalf("only %d queries found in the dashboard", len(qs))
	}
	used := map[string]bool{}
	for _, q := range qs {
		for _, n := range gobitName.FindAllString(q, -1) {
			f := family(n, hist)
			if !slices.Contains(names, f) {
				t.Errorf("the dashboard queries %s, which gobit does not expose (in %q)", n, q)
			}
			used[f] = true
		}
	}
	for _, n := range names {
		if !used[n] {
			t.Errorf("gobit exposes %s, but the dashboard does not show it", n)
		}
	}
}

// TestDocsListEveryMetric checks that docs/metrics.md has a table row for
// each metric gobit exposes, and none for a metric it does not.
func TestDocsListEveryMetric(t *testing.T) {
	names, _ := exposed(t)
	b, err := os.ReadFile(filepath.Join(testutil.ModuleRoot(t), "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(gobit_[a-z0-9_]+)`")
	var documented []string
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		documented = append(documented, m[1])
	}
	for _, n := range names {
		if !slices.Contains(documented, n) {
			t.Errorf("docs/metrics.md has no row for %s", n)
		}
	}
	for _, n := range documented {
		if !slices.Contains(names, n) {
			t.Errorf("docs/metrics.md documents %s, which gobit does not expose", n)
		}
	}
}
