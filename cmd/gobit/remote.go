package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/session"
	"github.com/spf13/cobra"
)

// remoteOptions are the flags every command that talks to a daemon has.
type remoteOptions struct {
	addr  string
	token string
}

func addRemoteFlags(cmd *cobra.Command, o *remoteOptions) {
	cmd.Flags().StringVar(&o.addr, "addr", defaultAPIAddr, "address of the daemon's API (host:port or URL)")
	cmd.Flags().StringVar(&o.token, "api-token", "", "the daemon's API token")
}

// client returns an API client for the daemon. An address that binds every
// interface (":8080", "0.0.0.0:8080", as serve may be given through the
// shared GOBIT_ADDR) is reached through loopback.
func (o *remoteOptions) client() *api.Client {
	return &api.Client{BaseURL: dialAddr(o.addr), Token: o.token}
}

func dialAddr(addr string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" {
		return net.JoinHostPort("127.0.0.1", port)
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		if ip.Is6() {
			return net.JoinHostPort("::1", port)
		}
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// remoteError adds a hint to errors that mean the daemon is not reachable
// or refused the token.
func remoteError(o *remoteOptions, err error) error {
	var opErr *net.OpError
	switch {
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Errorf("%w\nis the daemon running? start it with 'gobit serve' (or set --addr / GOBIT_ADDR)", err)
	case errors.Is(err, api.ErrUnauthorized):
		return fmt.Errorf("%w\nset --api-token or %s to the daemon's token", err, envName("api-token"))
	}
	return err
}

func newAddCmd() *cobra.Command {
	var o remoteOptions
	var dir, category string
	var paused, sequential, firstLast bool
	var only string
	var tags []string
	cmd := &cobra.Command{
		Use:   "add <magnet | file.torrent | URL>...",
		Short: "Add torrents to a running daemon",
		Long: `Add torrents to a running daemon. A .torrent file is uploaded; a magnet URI or
an http(s) URL is passed to the daemon, which fetches what it needs.`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir != "" {
				// The daemon runs elsewhere: a relative directory means
				// nothing to it.
				abs, err := filepath.Abs(dir)
				if err != nil {
					return fmt.Errorf("--download-dir: %w", err)
				}
				dir = abs
			}
			base := session.AddRequest{DownloadDir: dir, Paused: paused, Category: category, Tags: tags}
			if err := addSelection(&base, only, sequential, firstLast); err != nil {
				return err
			}
			c := o.client()
			var errs []error
			for _, arg := range args {
				st, err := addOne(cmd.Context(), c, arg, base)
				if err != nil {
					errs = append(errs, remoteError(&o, fmt.Errorf("%s: %w", shorten(arg, 80), err)))
					continue
				}
				name := st.Name
				if name == "" {
					name = "(name not known yet)"
				}
				how := "added"
				if st.State == session.StatePaused {
					how = "added paused"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s\n", how, st.InfoHash, name)
			}
			return errors.Join(errs...)
		},
	}
	addRemoteFlags(cmd, &o)
	cmd.Flags().StringVarP(&dir, "download-dir", "o", "", "directory on the daemon's machine to save into (default: the daemon's)")
	cmd.Flags().BoolVar(&paused, "paused", false, "add the torrents stopped (start them with 'gobit resume')")
	cmd.Flags().StringVar(&category, "category", "", "file the torrents under this category (saved in its directory unless --download-dir is given)")
	cmd.Flags().StringSliceVar(&tags, "tag", nil, "tag the torrents (repeatable, or comma-separated)")
	cmd.Flags().StringVar(&only, "only", "", "download only these files (comma-separated indexes as 'gobit info' or 'gobit files' shows them); for a magnet, applied when the metadata arrives")
	cmd.Flags().BoolVar(&sequential, "sequential", false, "download pieces in order (for playing while downloading)")
	cmd.Flags().BoolVar(&firstLast, "first-last-piece-first", false, "fetch the first and last piece of each file first (for previews)")
	noEnv(cmd, "download-dir")
	noEnv(cmd, "paused")
	noEnv(cmd, "category")
	noEnv(cmd, "tag")
	noEnv(cmd, "only")
	noEnv(cmd, "sequential")
	noEnv(cmd, "first-last-piece-first")
	return cmd
}

// addOne adds the torrent arg names with the options of req (directory,
// paused).
func addOne(ctx context.Context, c *api.Client, arg string, req session.AddRequest) (session.Status, error) {
	arg = magnetFromHash(arg)
	if classify(arg) == sourceFile {
		data, _, err := loadTorrentFile(arg)
		if err != nil {
			return session.Status{}, err
		}
		req.Torrent = data
	} else {
		req.URI = strings.TrimSpace(arg)
	}
	return c.AddRequest(ctx, req)
}

func newListCmd() *cobra.Command {
	var o remoteOptions
	var asJSON bool
	var category string
	var tags []string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the torrents of a running daemon, in queue order",
		Long: `List the torrents of a running daemon, in queue order. --category keeps
those of a category (--category "" those in none), --tag those carrying
every tag given.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var f session.ListFilter
			if cmd.Flags().Changed("category") {
				f.Category = &category
			}
			f.Tags = tags
			l, err := o.client().ListFiltered(cmd.Context(), f)
			if err != nil {
				return remoteError(&o, err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(l)
			}
			return printTable(cmd.OutOrStdout(), l)
		},
	}
	addRemoteFlags(cmd, &o)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the daemon's JSON instead of a table")
	cmd.Flags().StringVar(&category, "category", "", "only torrents of this category (\"\": in none)")
	cmd.Flags().StringSliceVar(&tags, "tag", nil, "only torrents carrying this tag (repeatable, or comma-separated)")
	noEnv(cmd, "category")
	noEnv(cmd, "tag")
	return cmd
}

// printTable prints torrents as an aligned table.
func printTable(w io.Writer, l []session.Status) error {
	if len(l) == 0 {
		_, err := fmt.Fprintln(w, "no torrents")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	labels := hasLabels(l) // a CATEGORY and TAGS column only when used
	header := "HASH\tNAME\tSTATE\tDONE\tDOWN\tUP\tPEERS\tETA"
	if labels {
		header += "\tCATEGORY\tTAGS"
	}
	fmt.Fprintln(tw, header)
	for _, s := range l {
		name := s.Name
		if name == "" {
			name = "-"
		}
		state := string(s.State)
		eta := fmtETA(s.ETASeconds)
		if s.State != session.StateDownloading {
			eta = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s",
			s.InfoHash[:min(8, len(s.InfoHash))], shorten(name, 40), state, fmtPercent(s.Progress),
			fmtRate(s.DownloadRate), fmtRate(s.UploadRate), s.Peers, eta)
		if labels {
			fmt.Fprintf(tw, "\t%s\t%s", shorten(printable(orDash(s.Category)), 20), shorten(printable(orDash(strings.Join(s.Tags, ","))), 30))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printErrors(w, l)
}

// printErrors prints, below the table, the whole error of each torrent in
// the error state: a disk error names its file, and a table cell would
// cut it.
func printErrors(w io.Writer, l []session.Status) error {
	for _, s := range l {
		if s.State != session.StateError || s.Error == "" {
			continue
		}
		if _, err := fmt.Fprintf(w, "%s: %s\n", s.InfoHash[:min(8, len(s.InfoHash))], s.Error); err != nil {
			return err
		}
	}
	return nil
}

// resolveHash turns a full info hash or a unique prefix of one (as ls
// shows) into the full hash.
func resolveHash(ctx context.Context, c *api.Client, arg string) (string, error) {
	if h, err := api.ParseInfoHash(arg); err == nil {
		return h, nil
	}
	prefix := strings.ToLower(arg)
	if len(prefix) < 4 || len(prefix) > 40 || strings.Trim(prefix, "0123456789abcdef") != "" {
		return "", &usageError{fmt.Errorf("%q is not an info hash: give 40 hex characters or a prefix of at least 4", shorten(arg, 60))}
	}
	l, err := c.List(ctx)
	if err != nil {
		return "", err
	}
	var match []string
	for _, s := range l {
		if strings.HasPrefix(s.InfoHash, prefix) {
			match = append(match, s.InfoHash)
		}
	}
	switch len(match) {
	case 0:
		return "", fmt.Errorf("no torrent's info hash starts with %s: %w", prefix, session.ErrNotFound)
	case 1:
		return match[0], nil
	}
	return "", fmt.Errorf("%s matches %d torrents: give more of the hash", prefix, len(match))
}

// newHashCmd builds a command that applies op to each torrent given by
// (a prefix of) its info hash.
func newHashCmd(use, short, done string, op func(ctx context.Context, c *api.Client, hash string) error) *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:   use + " <info-hash>...",
		Short: short,
		Args:  argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := o.client()
			var errs []error
			for _, arg := range args {
				h, err := resolveHash(cmd.Context(), c, arg)
				if err == nil {
					err = op(cmd.Context(), c, h)
				}
				if err != nil {
					errs = append(errs, remoteError(&o, err))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", done, h)
			}
			return errors.Join(errs...)
		},
	}
	addRemoteFlags(cmd, &o)
	return cmd
}

func newRemoveCmd() *cobra.Command {
	var deleteData bool
	cmd := newHashCmd("rm", "Remove torrents from a running daemon", "removed",
		func(ctx context.Context, c *api.Client, h string) error { return c.Remove(ctx, h, deleteData) })
	cmd.Aliases = []string{"remove"}
	cmd.Flags().BoolVar(&deleteData, "delete-data", false, "also delete the downloaded files")
	noEnv(cmd, "delete-data")
	return cmd
}

func newPauseCmd() *cobra.Command {
	cmd := newHashCmd("pause", "Pause torrents of a running daemon", "paused",
		func(ctx context.Context, c *api.Client, h string) error { return c.Pause(ctx, h) })
	return cmd
}

func newResumeCmd() *cobra.Command {
	var force bool
	cmd := newHashCmd("resume", "Resume paused torrents of a running daemon", "resumed", resumeOp(&force))
	cmd.Flags().BoolVar(&force, "force", false, "force start: run whatever the queue limits")
	noEnv(cmd, "force")
	return cmd
}

func newRecheckCmd() *cobra.Command {
	return newHashCmd("recheck", "Re-verify the data of torrents of a running daemon (also clears a disk error)", "rechecking",
		func(ctx context.Context, c *api.Client, h string) error { return c.Recheck(ctx, h) })
}

func newMoveCmd() *cobra.Command {
	var to string
	cmd := newHashCmd("move", "Move the files of torrents of a running daemon to another directory", "moved",
		func(ctx context.Context, c *api.Client, h string) error {
			if to == "" {
				return &usageError{fmt.Errorf("--to is required: the new save directory")}
			}
			abs, err := filepath.Abs(to)
			if err != nil {
				return err
			}
			return c.Move(ctx, h, abs)
		})
	cmd.Flags().StringVar(&to, "to", "", "new save directory (on the daemon's machine)")
	noEnv(cmd, "to")
	return cmd
}
