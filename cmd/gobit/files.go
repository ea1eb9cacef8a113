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
	var renames, renamePaths []string
	cmd := &cobra.Command{
		Use:   "files <info-hash>",
		Short: "List a torrent's files, change their priorities or rename them",
		Long: `List a torrent's files of a running daemon: index, priority, progress, size
and path. With --skip, --low, --normal or --high (comma-separated file indexes)
the priorities of those files change first: skipped files are not downloaded,
higher priorities are fetched first.

--rename INDEX=NEW/PATH moves file INDEX to NEW/PATH, and --rename-path
OLD=NEW a file or a whole folder by its path (as listed): paths are relative
to the torrent's save directory, '/' between components, and never leave it.
The files are renamed on disk (also while the torrent downloads or seeds) and
stay renamed across restarts. Both flags repeat; after any priority change
the --rename ones run in the order given, then the --rename-path ones.`,
		Example: `  gobit files 3f2a --rename 0="Show/S01E01.mkv"
  gobit files 3f2a --rename-path "Show/Season 1=Show/S01"`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ops, err := parseRenames(renames, renamePaths)
			if err != nil {
				return err
			}
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
			} else if len(ops) == 0 {
				d, err = c.Get(cmd.Context(), h)
			}
			if err != nil {
				return remoteError(&o, err)
			}
			for _, op := range ops {
				if op.index >= 0 {
					d, err = c.RenameFile(cmd.Context(), h, op.index, op.to)
				} else {
					d, err = c.RenamePath(cmd.Context(), h, op.from, op.to)
				}
				if err != nil {
					return remoteError(&o, err)
				}
			}
			return printFiles(cmd.OutOrStdout(), d)
		},
	}
	addRemoteFlags(cmd, &o)
	cmd.Flags().StringArrayVar(&renames, "rename", nil, "move file INDEX to a new path: INDEX=NEW/PATH (repeatable)")
	cmd.Flags().StringArrayVar(&renamePaths, "rename-path", nil, "move a file or folder by its path: OLD=NEW (repeatable)")
	noEnv(cmd, "rename")
	noEnv(cmd, "rename-path")
	for _, name := range []string{"skip", "low", "normal", "high"} {
		lists[name] = new(string)
		cmd.Flags().StringVar(lists[name], name, "", "give these files (comma-separated indexes) priority "+name)
		noEnv(cmd, name)
	}
	return cmd
}

// renameOp is one rename of the files command: file index (or -1) or the
// path from, to its new path to.
type renameOp struct {
	index    int
	from, to string
}

// parseRenames reads the --rename INDEX=PATH and --rename-path OLD=NEW
// flags, in that order.
func parseRenames(renames, renamePaths []string) ([]renameOp, error) {
	var ops []renameOp
	for _, r := range renames {
		k, v, ok := strings.Cut(r, "=")
		i, err := strconv.Atoi(strings.TrimSpace(k))
		if !ok || err != nil || i < 0 || v == "" {
			return nil, &usageError{fmt.Errorf("--rename: %q is not INDEX=NEW/PATH (a file index as 'gobit files' shows it, then its new path)", shorten(r, 40))}
		}
		ops = append(ops, renameOp{index: i, to: v})
	}
	for _, r := range renamePaths {
		from, to, ok := strings.Cut(r, "=")
		if !ok || from == "" || to == "" {
			return nil, &usageError{fmt.Errorf("--rename-path: %q is not OLD=NEW (a file or folder path as 'gobit files' shows it, then its new path)", shorten(r, 40))}
		}
		ops = append(ops, renameOp{index: -1, from: from, to: to})
	}
	return ops, nil
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
