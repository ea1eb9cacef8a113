package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/testutil"
)

// resolvedServe parses args as gobit serve would and resolves the
// environment and the configuration file.
func resolvedServe(t *testing.T, args ...string) (*pflag.FlagSet, error) {
	t.Helper()
	cmd, _, err := newRootCmd().Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return cmd.Flags(), resolveFlags(cmd)
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantFlag checks a flag's value and where it came from.
func wantFlag(t *testing.T, fs *pflag.FlagSet, name, value, src string) {
	t.Helper()
	f := fs.Lookup(name)
	if got := f.Value.String(); got != value {
		t.Errorf("--%s = %q, want %q", name, got, value)
	}
	if got := flagSource(f); got != src {
		t.Errorf("--%s came from %s, want %s", name, got, src)
	}
}

const sampleConfig = `
addr = "127.0.0.1:1111"
port = 2222
upload-limit = "3MiB"
no-dht = true
ratio-limit = 1.5
flush-interval = "2m"
api-allowed-hosts = ["a.example", "b.example"]
dht-bootstrap = "x.example:1,y.example:2"
`

func TestConfigFilePrecedence(t *testing.T) {
	clearEnv(t)
	path := writeFile(t, filepath.Join(t.TempDir(), "gobit.toml"), sampleConfig)
	t.Setenv("GOBIT_PORT", "3333")
	t.Setenv("GOBIT_UPLOAD_LIMIT", "4MiB")
	fs, err := resolvedServe(t, "--config", path, "--upload-limit", "5MiB")
	if err != nil {
		t.Fatal(err)
	}
	wantFlag(t, fs, "upload-limit", "5MiB", srcFlag) // flag > env > file
	wantFlag(t, fs, "port", "3333", srcEnv)          // env > file
	wantFlag(t, fs, "addr", "127.0.0.1:1111", srcFile)
	wantFlag(t, fs, "no-dht", "true", srcFile)
	wantFlag(t, fs, "ratio-limit", "1.5", srcFile)
	wantFlag(t, fs, "flush-interval", "2m0s", srcFile)
	wantFlag(t, fs, "api-allowed-hosts", "[a.example,b.example]", srcFile)
	wantFlag(t, fs, "dht-bootstrap", "[x.example:1,y.example:2]", srcFile) // a string, read as the flag reads it
	wantFlag(t, fs, "max-peers", "50", srcDefault)
	wantFlag(t, fs, "config", path, srcFlag)

	// GOBIT_CONFIG names the file too.
	t.Setenv("GOBIT_CONFIG", path)
	fs, err = resolvedServe(t)
	if err != nil {
		t.Fatal(err)
	}
	wantFlag(t, fs, "config", path, srcEnv)
	wantFlag(t, fs, "addr", "127.0.0.1:1111", srcFile)
}

func TestConfigFileDefaultPath(t *testing.T) {
	clearEnv(t)
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	// No file at the default path: fine, defaults apply.
	fs, err := resolvedServe(t)
	if err != nil {
		t.Fatalf("missing default file: %v", err)
	}
	wantFlag(t, fs, "port", "6881", srcDefault)

	writeFile(t, filepath.Join(xdg, "gobit", "config.toml"), "port = 4444\n")
	fs, err = resolvedServe(t)
	if err != nil {
		t.Fatal(err)
	}
	wantFlag(t, fs, "port", "4444", srcFile)

	// Without XDG_CONFIG_HOME: ~/.config/gobit/config.toml.
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", home)
	writeFile(t, filepath.Join(home, ".config", "gobit", "config.toml"), "port = 5555\n")
	fs, err = resolvedServe(t)
	if err != nil {
		t.Fatal(err)
	}
	wantFlag(t, fs, "port", "5555", srcFile)

	// A file named explicitly must exist.
	missing := filepath.Join(t.TempDir(), "absent.toml")
	if _, err := resolvedServe(t, "--config", missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing --config file: err = %v, want one naming %s", err, missing)
	}
}

func TestConfigFileErrors(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name, text string
		want       []string
		notWant    string
	}{
		{"typo", `downlaod-dir = "/x"`, []string{`unknown key "downlaod-dir"`, `did you mean "download-dir"?`}, ""},
		{"underscores", `download_dir = "/x"`, []string{`unknown key "download_dir"`, `did you mean "download-dir"?`}, ""},
		{"nothing close", `zzzzzzzz = 1`, []string{`unknown key "zzzzzzzz"`, "flag names"}, "did you mean"},
		{"help", `help = true`, []string{`unknown key "help"`}, ""},
		{"section", "[serve]\nport = 1", []string{`unknown key "serve"`}, ""},
		{"config in config", `config = "/etc/other.toml"`, []string{`"config"`, "cannot name another"}, ""},
		{"bad int", `port = "lots"`, []string{"port", "lots"}, ""},
		{"duration without unit", `flush-interval = 30`, []string{"flush-interval", "unit"}, ""},
		{"list for a single value", `no-dht = [true]`, []string{"no-dht", "not a list"}, ""},
		{"table for a value", "[addr]\nhost = 1", []string{"addr", "not a table"}, ""},
		{"date", "addr = 1979-05-27", []string{"addr", "not time.Time"}, ""},
		{"syntax", "addr = ", []string{"configuration file", "line 1"}, ""},
		{"every error at once", "porrt = 1\nmax-peer = 2", []string{`"porrt"`, `"port"`, `"max-peer"`, `"max-peers"`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(t.TempDir(), "c.toml"), tt.text)
			_, err := resolvedServe(t, "--config", path)
			if err == nil {
				t.Fatalf("%q accepted", tt.text)
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to contain %q", err, w)
				}
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("err = %v, should not contain %q", err, tt.notWant)
			}
		})
	}
	// Hostile sizes: a file past the bound is refused before parsing.
	path := writeFile(t, filepath.Join(t.TempDir(), "big.toml"), "# "+strings.Repeat("x", maxConfigBytes)+"\n")
	if _, err := resolvedServe(t, "--config", path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: err = %v", err)
	}
	path = writeFile(t, filepath.Join(t.TempDir(), "longkey.toml"), strings.Repeat("k", 100000)+" = 1\n")
	if _, err := resolvedServe(t, "--config", path); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("long key: err = %v", err)
	}
}

// TestConfigFileCoversNewFlags: the file is generic over the flag set, so
// a flag added to serve later is settable with no change here.
func TestConfigFileCoversNewFlags(t *testing.T) {
	fs := newServeCmd().Flags()
	fs.Int("future-knob", 1, "")
	fs.StringSlice("future-list", nil, "")
	fs.Bool("future-switch", false, "")
	vals := map[string]any{"future-knob": int64(7), "future-list": []any{"p", "q"}, "future-switch": true}
	if err := setFromConfig(fs, vals, "test.toml"); err != nil {
		t.Fatal(err)
	}
	wantFlag(t, fs, "future-knob", "7", srcFile)
	wantFlag(t, fs, "future-list", "[p,q]", srcFile)
	wantFlag(t, fs, "future-switch", "true", srcFile)
}

var configLineRE = regexp.MustCompile(`^([a-z0-9-]+) = (.*) # (flag|env|file|default)(, masked)?$`)

// parseConfigOutput returns the sources of the keys of gobit config's
// output and its values, checking every line is a comment or a key.
func parseConfigOutput(t *testing.T, out string) (map[string]string, map[string]any) {
	t.Helper()
	src := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := configLineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %q is no 'key = value # source'", line)
		}
		src[m[1]] = m[3] + m[4]
	}
	var vals map[string]any
	if _, err := toml.Decode(out, &vals); err != nil {
		t.Fatalf("gobit config's output is not TOML: %v\n%s", err, out)
	}
	return src, vals
}

func TestConfigCommand(t *testing.T) {
	clearEnv(t)
	path := writeFile(t, filepath.Join(t.TempDir(), "c.toml"), sampleConfig+`
api-token = "sekret-token-value"
api-password = "pass-word-xyz"
`)
	t.Setenv("GOBIT_ADDR", "127.0.0.1:4444")
	out, errOut, code := gobit(t, "config", "--config", path, "--max-peers", "9")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, secret := range []string{"sekret-token-value", "pass-word-xyz"} {
		if strings.Contains(out, secret) {
			t.Errorf("gobit config prints the secret %q:\n%s", secret, out)
		}
	}
	mustContain(t, "gobit config", out, path)
	src, vals := parseConfigOutput(t, out)
	want := map[string]struct {
		src string
		val any
	}{
		"addr":              {"env", "127.0.0.1:4444"},
		"max-peers":         {"flag", int64(9)},
		"port":              {"file", int64(2222)},
		"no-dht":            {"file", true},
		"ratio-limit":       {"file", 1.5},
		"flush-interval":    {"file", "2m0s"},
		"api-allowed-hosts": {"file", []any{"a.example", "b.example"}},
		"api-token":         {"file, masked", maskedValue},
		"api-password":      {"file, masked", maskedValue},
		"api-user":          {"default", ""},
		"max-connections":   {"default", int64(500)},
	}
	for k, w := range want {
		if src[k] != w.src {
			t.Errorf("%s: source %q, want %q", k, src[k], w.src)
		}
		if got := vals[k]; !equalTOML(got, w.val) {
			t.Errorf("%s = %#v, want %#v", k, got, w.val)
		}
	}
	// One key per serve flag, and nothing else.
	newServeCmd().Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || f.Name == configFlag {
			return
		}
		if _, ok := vals[f.Name]; !ok {
			t.Errorf("gobit config lacks %s", f.Name)
		}
	})
	if _, ok := vals[configFlag]; ok {
		t.Error("gobit config prints a config key, which a config file may not have")
	}

	// The output, secrets aside, is a configuration file that gives the
	// same configuration.
	clearEnv(t)
	out2File := writeFile(t, filepath.Join(t.TempDir(), "again.toml"),
		strings.NewReplacer(`"`+maskedValue+`"`, `"x"`).Replace(out))
	again, errOut, code := gobit(t, "config", "--config", out2File)
	if code != 0 {
		t.Fatalf("config from gobit config's output: exit %d: %s", code, errOut)
	}
	src2, vals2 := parseConfigOutput(t, again)
	for k, v := range vals {
		if !equalTOML(vals2[k], v) {
			t.Errorf("round trip: %s = %#v, was %#v", k, vals2[k], v)
		}
		if !strings.HasPrefix(src2[k], "file") {
			t.Errorf("round trip: %s came from %s, want the file", k, src2[k])
		}
	}
}

func equalTOML(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok || bok {
		if !aok || !bok || len(as) != len(bs) {
			return false
		}
		for i := range as {
			if as[i] != bs[i] {
				return false
			}
		}
		return true
	}
	return a == b
}

// TestConfigDocumented: the precedence is in serve --help; docs/config.md
// and the sample contrib/config.toml name every serve flag, and the
// sample, uncommented, is a valid configuration.
func TestConfigDocumented(t *testing.T) {
	clearEnv(t)
	out, _, code := gobit(t, "serve", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	mustContain(t, "serve --help", out, "--config", "wins over the file, which wins over\nthe default", "SIGHUP", "[$GOBIT_CONFIG]")

	root := testutil.ModuleRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile(filepath.Join(root, "contrib", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var uncommented strings.Builder
	keyRE := regexp.MustCompile(`^# ([a-z0-9-]+ = .*)$`)
	for _, line := range strings.Split(string(sample), "\n") {
		if m := keyRE.FindStringSubmatch(line); m != nil {
			uncommented.WriteString(m[1] + "\n")
		} else if line != "" && !strings.HasPrefix(line, "#") {
			t.Errorf("contrib/config.toml sets %q; every key should be commented out", line)
		}
	}
	var vals map[string]any
	if _, err := toml.Decode(uncommented.String(), &vals); err != nil {
		t.Fatalf("contrib/config.toml, uncommented: %v", err)
	}
	if err := setFromConfig(newServeCmd().Flags(), vals, "contrib/config.toml"); err != nil {
		t.Errorf("contrib/config.toml, uncommented: %v", err)
	}
	newServeCmd().Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || f.Name == configFlag {
			return
		}
		if _, ok := vals[f.Name]; !ok {
			t.Errorf("contrib/config.toml lacks %s", f.Name)
		}
		if !strings.Contains(string(doc), "`"+f.Name+"`") {
			t.Errorf("docs/config.md does not name `%s`", f.Name)
		}
	})
}
