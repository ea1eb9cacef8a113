package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version describes this build from what the Go toolchain recorded in the
// binary: the module version when installed with `go install …@version`,
// otherwise the VCS revision with its commit time and "dirty" for a build
// from modified sources; and the Go version it was built with.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "gobit (no build information) " + runtime.Version()
	}
	return versionFrom(bi)
}

// versionFrom formats the version line from build information.
func versionFrom(bi *debug.BuildInfo) string {
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	parts := []string{"gobit"}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		parts = append(parts, v)
	} else {
		parts = append(parts, "devel")
	}
	if rev != "" {
		parts = append(parts, rev[:min(12, len(rev))])
	}
	if at != "" {
		parts = append(parts, at)
	}
	if dirty {
		parts = append(parts, "dirty")
	}
	gov := bi.GoVersion
	if gov == "" {
		gov = runtime.Version()
	}
	return strings.Join(parts, " ") + " " + gov
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print gobit's version and the Go version it was built with",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), version())
			return err
		},
	}
}
