package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/session"
	"github.com/spf13/cobra"
)

// The category and tag commands follow one pattern: gobit <object> <verb>
// <arguments>, where the info hashes come last and may be prefixes (as
// 'gobit ls' shows them):
//
//	gobit category ls
//	gobit category add <name> <save-path>
//	gobit category rename <name> <new-name>
//	gobit category path <name> <save-path>
//	gobit category rm <name>...
//	gobit category set <name> <info-hash>...     ("" takes them out of any)
//	gobit tag ls
//	gobit tag add <tag>[,<tag>...] <info-hash>...
//	gobit tag rm <tag>[,<tag>...] <info-hash>...
//	gobit tag rename <tag> <new-tag>
//	gobit tag delete <tag>...                     (from every torrent)

// remoteCmd builds a subcommand that talks to the daemon.
func remoteCmd(use, short string, args cobra.PositionalArgs, run func(ctx context.Context, cmd *cobra.Command, c *api.Client, args []string) error) *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  argsUsage(args),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := run(cmd.Context(), cmd, o.client(), args); err != nil {
				return remoteError(&o, err)
			}
			return nil
		},
	}
	addRemoteFlags(cmd, &o)
	return cmd
}

// eachHash applies op to every torrent args name (by hash or prefix),
// printing "<done> <hash>" for each that succeeded.
func eachHash(ctx context.Context, cmd *cobra.Command, c *api.Client, args []string, done string, op func(h string) error) error {
	var errs []error
	for _, arg := range args {
		h, err := resolveHash(ctx, c, arg)
		if err == nil {
			err = op(h)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", done, h)
	}
	return errors.Join(errs...)
}

// absPath makes a save path absolute: the daemon never resolves a relative
// one.
func absPath(p string) (string, error) {
	if p == "" {
		return "", &usageError{errors.New("empty save path")}
	}
	return filepath.Abs(p)
}

func newCategoryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "category",
		Short: "Manage the categories of a running daemon (each with its own save path)",
		Long: `Manage the categories of a running daemon. A category groups torrents and
gives them a save directory: a torrent added with --category and no
--download-dir is saved in the category's directory.

  gobit category ls
  gobit category add <name> <save-path>
  gobit category rename <name> <new-name>     (its torrents follow)
  gobit category path <name> <save-path>      (for torrents added from now on)
  gobit category rm <name>...                 (its torrents are left in none)
  gobit category set <name> <info-hash>...    ("" takes them out of any)

Files never move when a category changes; use 'gobit move' for that.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		remoteCmd("ls", "List the categories", cobra.NoArgs, func(ctx context.Context, cmd *cobra.Command, c *api.Client, _ []string) error {
			l, err := c.Categories(ctx)
			if err != nil {
				return err
			}
			if len(l) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no categories")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CATEGORY\tSAVE PATH")
			for _, cat := range l {
				fmt.Fprintf(tw, "%s\t%s\n", printable(cat.Name), printable(cat.SavePath))
			}
			return tw.Flush()
		}),
		remoteCmd("add <name> <save-path>", "Create a category", cobra.ExactArgs(2), func(ctx context.Context, cmd *cobra.Command, c *api.Client, args []string) error {
			p, err := absPath(args[1])
			if err != nil {
				return err
			}
			cat, err := c.AddCategory(ctx, session.Category{Name: args[0], SavePath: p})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created category %s (%s)\n", printable(cat.Name), printable(cat.SavePath))
			return nil
		}),
		remoteCmd("rename <name> <new-name>", "Rename a category; its torrents follow", cobra.ExactArgs(2), func(ctx context.Context, cmd *cobra.Command, c *api.Client, args []string) error {
			to := args[1]
			if _, err := c.UpdateCategory(ctx, args[0], session.CategoryUpdate{Name: &to}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "renamed category %s to %s\n", printable(args[0]), printable(to))
			return nil
		}),
		remoteCmd("path <name> <save-path>", "Change a category's save path (for torrents added from now on)", cobra.ExactArgs(2), func(ctx context.Context, cmd *cobra.Command, c *api.Client, args []string) error {
			p, err := absPath(args[1])
			if err != nil {
				return err
			}
			cat, err := c.UpdateCategory(ctx, args[0], session.CategoryUpdate{SavePath: &p})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "category %s saves in %s\n", printable(cat.Name), printable(cat.SavePath))
			return nil
		}),
		remoteCmd("rm <name>...", "Delete categories (their torrents are left in none)", cobra.MinimumNArgs(1), func(ctx context.Context, cmd *cobra.Command, c *api.Client, args []string) error {
			var errs []error
			for _, n := range args {
				if err := c.RemoveCategory(ctx, n); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted category %s\n", printable(n))
			}
			return errors.Join(errs...)
		}),
		remoteCmd("set <name> <info-hash>...", `Put torrents in a category ("" for none)`, cobra.MinimumNArgs(2), func(ctx context.Context, cmd *cobra.Command, c *api.Client, args []string) error {
			name := args[0]
			return eachHash(ctx, cmd, c, args[1:], "categorized", func(h string) error {
				_, err := c.UpdateTorrent(ctx, h, session.TorrentUpdate{Category: &name})
				return err
			})
		}),
	)
	return cmd
}

// splitTags splits a comma-separated tag list.
func splitTags(s string) []string {
	var out []string
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func newTagCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tag",
		Short: "Manage the tags of torrents of a running daemon",
		Long: `Manage tags: free-form labels, any number per torrent. A tag exists while a
torrent carries it.

  gobit tag ls
  gobit tag add <tag>[,<tag>...] <info-hash>...
  gobit tag rm <tag>[,<tag>...] <info-hash>...
  gobit tag rename <tag> <new-tag>            (on every torrent)
  gobit tag delete <tag>...                   (from every torrent)`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		remoteCmd("ls", "List the tags in use", cobra.NoArgs, func(ctx context.Context, cmd *cobra.Command, c *api.Client, _ []string) error {
			l, err := c.Tags(ctx)
			if err != nil {
				return err
			}
			if len(l) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no tags")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "TAG\tTORRENTS")
			for _, t := range l {
				fmt.Fprintf(tw, "%s\t%d\n", printable(t.Name), t.Torrents)
			}
			return tw.Flush()
		}),
		remoteCmd("add <tag>[,<tag>...] <info-hash>...", "Tag torrents", cobra.MinimumNArgs(2), func(ctx context.Context, cmd *cobra.Command, c *api.Client, args []string) error {
			tags := splitTags(args[0])
			return eachHash(ctx, cmd, c, args[1:], "tagged", func(h string) error {
				_, err := c.UpdateTorrent(ctx, h, session.TorrentUpdate{AddTags: tags})
				return err
			})
		}),
		remoteCmd("rm <tag>[,<tag>...] <info-hash>...", "Take tags off torrents", cobra.MinimumNArgs(2), func(ctx context.Context, cmd *cobra.Command, c *api.Client, args []string) error {
			tags := splitTags(args[0])
			return eachHash(ctx, cmd, c, args[1:], "untagged", func(h string) error {
				_, err := c.UpdateTorrent(ctx, h, session.TorrentUpdate{RemoveTags: tags})
				return err
			})
		}),
		remoteCmd("rename <tag> <new-tag>", "Rename a tag on every torrent", cobra.ExactArgs(2), func(ctx context.Context, cmd *cobra.Command, c *api.Client, args []string) error {
			if err := c.RenameTag(ctx, args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "renamed tag %s to %s\n", printable(args[0]), printable(args[1]))
			return nil
		}),
		remoteCmd("delete <tag>...", "Take tags off every torrent", cobra.MinimumNArgs(1), func(ctx context.Context, cmd *cobra.Command, c *api.Client, args []string) error {
			var errs []error
			for _, t := range args {
				if err := c.RemoveTag(ctx, t); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted tag %s\n", printable(t))
			}
			return errors.Join(errs...)
		}),
	)
	return cmd
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// hasLabels reports whether any torrent of l has a category or tags.
func hasLabels(l []session.Status) bool {
	for _, s := range l {
		if s.Category != "" || len(s.Tags) > 0 {
			return true
		}
	}
	return false
}
