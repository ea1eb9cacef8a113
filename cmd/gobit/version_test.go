package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}}, "gobit v1.2.3 go1.26.0"},
		{debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"gobit devel 0123456789ab 2026-01-02T03:04:05Z dirty go1.26.0"},
		{debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs[:3]},
			"gobit devel 0123456789ab 2026-01-02T03:04:05Z go1.26.0"},
		{debug.BuildInfo{GoVersion: "go1.26.0"}, "gobit devel go1.26.0"},
	}
	for _, tt := range tests {
		if got := versionFrom(&tt.bi); got != tt.want {
			t.Errorf("versionFrom(%+v) = %q, want %q", tt.bi.Main, got, tt.want)
		}
	}
}

// TestVersionCommands: --version, -v and the version command print one
// line with the version and the Go version, and exit 0.
func TestVersionCommands(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}} {
		out, errOut, code := gobit(t, args...)
		if code != 0 || errOut != "" {
			t.Errorf("%v: exit %d stderr %q", args, code, errOut)
		}
		if !strings.HasPrefix(out, "gobit ") || !strings.HasSuffix(out, " "+runtime.Version()+"\n") || strings.Count(out, "\n") != 1 {
			t.Errorf("%v printed %q", args, out)
		}
	}
}
