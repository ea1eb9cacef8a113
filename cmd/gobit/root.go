package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code other than 1 with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Exit codes.
const (
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// usageError marks errors in the command line itself.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// run executes gobit with args and returns the process exit code. Errors
// are printed to stderr as "gobit: <message>".
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "gobit: %v\n", err)
	var ee *exitError
	var ue *usageError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue), strings.HasPrefix(err.Error(), "unknown command"):
		fmt.Fprintln(stderr, "Run 'gobit --help' for usage.")
		return exitUsage
	}
	return exitFailure
}

// newRootCmd builds the whole command tree. It is built afresh for each run
// so that tests do not share flag state.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "gobit",
		Short: "gobit is a BitTorrent client",
		Long: `gobit is a BitTorrent client: a daemon with an HTTP API (gobit serve), a
one-shot downloader (gobit download), a .torrent inspector (gobit info) and
commands to control a running daemon (add, ls, show, rm, pause, resume).

Every flag can also be set with an environment variable GOBIT_FLAG
(the flag's name in upper case, dashes as underscores: --api-token is GOBIT_API_TOKEN). A flag
on the command line wins over the environment, which wins over the default.
gobit serve also reads a configuration file (see 'gobit serve --help' and
'gobit config').`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return resolveFlags(cmd)
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		newServeCmd(),
		newDownloadCmd(),
		newInfoCmd(),
		newAddCmd(),
		newListCmd(),
		newShowCmd(),
		newRemoveCmd(),
		newPauseCmd(),
		newRecheckCmd(),
		newMoveCmd(),
		newFilesCmd(),
		newResumeCmd(),
		newCategoryCmd(),
		newTagCmd(),
		newQueueCmd(),
		newEventsCmd(),
		newVersionCmd(),
		newConfigCmd(),
		newHealthCmd(),
		newGenManCmd(),
	)
	documentEnv(root)
	return root
}

// argsUsage wraps a cobra positional-argument validator so that its
// errors are reported as usage errors.
func argsUsage(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return &usageError{fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
		}
		return nil
	}
}
