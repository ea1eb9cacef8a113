package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newGenManCmd is the hidden command `make man` runs: it writes a man page
// per command (gobit.1, gobit-serve.1, …) into a directory.
func newGenManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "gen-man <dir>",
		Short:  "Write a man page per command into dir",
		Hidden: true,
		Args:   argsUsage(cobra.ExactArgs(1)),
		RunE: func(_ *cobra.Command, args []string) error {
			return genMan(args[0])
		},
	}
}

// genMan writes the man pages of gobit's commands into dir. The date is
// $SOURCE_DATE_EPOCH's when set, for reproducible builds.
func genMan(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("man page directory: %w", err)
	}
	root := docRootCmd()
	root.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Title: "GOBIT", Section: "1", Source: "gobit", Manual: "gobit manual"}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		return fmt.Errorf("writing man pages: %w", err)
	}
	return nil
}

// docRootCmd builds the command tree with the defaults that depend on the
// user's environment shown as a reader would expect them (~/Downloads/gobit,
// not the builder's home directory).
func docRootCmd() *cobra.Command {
	vars := []string{"HOME", "XDG_DATA_HOME", "XDG_DOWNLOAD_DIR", "XDG_CONFIG_HOME"}
	saved := map[string]*string{}
	for _, v := range vars {
		if val, ok := os.LookupEnv(v); ok {
			saved[v] = &val
		} else {
			saved[v] = nil
		}
		os.Unsetenv(v)
	}
	os.Setenv("HOME", "~")
	defer func() {
		for _, v := range vars {
			if saved[v] != nil {
				os.Setenv(v, *saved[v])
			} else {
				os.Unsetenv(v)
			}
		}
	}()
	return newRootCmd()
}
