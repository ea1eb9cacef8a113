package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gobit/gobit/internal/session"
)

// parseIndexList parses a comma-separated list of file indexes ("1,3,5").
func parseIndexList(flag, s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		i, err := strconv.Atoi(f)
		if err != nil || i < 0 {
			return nil, &usageError{fmt.Errorf("--%s: %q is not a file index (give numbers as 'gobit files' shows them, e.g. 1,3)", flag, shorten(f, 20))}
		}
		out = append(out, i)
	}
	return out, nil
}

func newFilesCmd() *cobra.Command {
	var o remoteOptions
	var lists = map[string]*string{}
	cmd := &cobra.Command{
		Use:   "files <info-hash>",
		Short: "List a torrent's files, or change their priorities",
		Long: `List a torrent's files of a running daemon: index, priority, progress, size
and path. With --skip, --low, --normal or --high (comma-separated file indexes)
the priorities of those files change first: skipped files are not downloaded,
higher priorities are fetched first.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			prio := map[int]string{}
			for _, name := range []string{"skip", "low", "normal", "high"} {
				idx, err := parseIndexList(name, *lists[name])
				if err != nil {
					return err
				}
				for _, i := range idx {
					if prev, ok := prio[i]; ok && prev != name {
						return &usageError{fmt.Errorf("file %d is given both --%s and --%s", i, prev, name)}
					}
					prio[i] = name
				}
			}
			c := o.client()
			h, err := resolveHash(cmd.Context(), c, args[0])
			if err != nil {
				return remoteError(&o, err)
			}
			var d session.Detail
			if len(prio) > 0 {
				d, err = c.SetFilePriorities(cmd.Context(), h, prio)
			} else {
				d, err = c.Get(cmd.Context(), h)
			}
			if err != nil {
				return remoteError(&o, err)
			}
			return printFiles(cmd.OutOrStdout(), d)
		},
	}
	addRemoteFlags(cmd, &o)
	for _, name := range []string{"skip", "low", "normal", "high"} {
		lists[name] = new(string)
		cmd.Flags().StringVar(lists[name], name, "", "give these files (comma-separated indexes) priority "+name)
		noEnv(cmd, name)
	}
	return cmd
}

// printFiles prints a torrent's files as an aligned table.
func printFiles(w io.Writer, d session.Detail) error {
	if len(d.Files) == 0 {
		if d.TotalSize == 0 {
			_, err := fmt.Fprintln(w, "the torrent's file list is not known yet (fetching metadata)")
			return err
		}
		_, err := fmt.Fprintln(w, "no files")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tPRIORITY\tDONE\tSIZE\tPATH")
	for _, f := range d.Files {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", f.Index, f.Priority, fmtPercent(f.Progress), fmtBytes(f.Size), f.Path)
	}
	return tw.Flush()
}

// addSelection fills the file selection of an add request from the add
// command's --only, --sequential and --first-last flags.
func addSelection(req *session.AddRequest, only string, sequential, firstLast bool) error {
	idx, err := parseIndexList("only", only)
	if err != nil {
		return err
	}
	if only != "" && len(idx) == 0 {
		return &usageError{errors.New("--only: give at least one file index")}
	}
	slices.Sort(idx)
	req.Only = slices.Compact(idx)
	req.Sequential, req.FirstLastPieceFirst = sequential, firstLast
	return nil
}
