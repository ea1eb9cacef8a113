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
		RunE: func(cmd *cobra.Command, args []string) error {
			return genMan(cmd.Root(), args[0])
		},
	}
}

// genMan writes root's man pages into dir. The date is
// $SOURCE_DATE_EPOCH's when set, for reproducible builds.
func genMan(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("man page directory: %w", err)
	}
	root.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Title: "GOBIT", Section: "1", Source: "gobit", Manual: "gobit manual"}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		return fmt.Errorf("writing man pages: %w", err)
	}
	return nil
}
