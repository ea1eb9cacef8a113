package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/session"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// automationOptions are serve's queue, watch-directory and on-complete
// flags.
type automationOptions struct {
	maxDownloads, maxSeeds, maxActive int
	watchDir                          string
	onComplete                        string
	onCompleteTimeout                 time.Duration
}

func (o *automationOptions) register(f *pflag.FlagSet) {
	f.IntVar(&o.maxDownloads, "max-active-downloads", 0, "queue: torrents downloading at once (0: unlimited)")
	f.IntVar(&o.maxSeeds, "max-active-seeds", 0, "queue: torrents seeding at once (0: unlimited)")
	f.IntVar(&o.maxActive, "max-active", 0, "queue: torrents running at once, downloads and seeds together (0: unlimited)")
	f.StringVar(&o.watchDir, "watch-dir", "", "add .torrent and .magnet files dropped in this directory (renamed .added or .invalid)")
	f.StringVar(&o.onComplete, "on-complete", "", "program to run when a torrent completes (not through a shell), with GOBIT_TORRENT_HASH, GOBIT_TORRENT_NAME and GOBIT_TORRENT_DIR set")
	f.DurationVar(&o.onCompleteTimeout, "on-complete-timeout", session.DefaultOnCompleteTimeout, "kill the --on-complete program after this long")
}

// apply checks the flags and copies them into a session configuration.
func (o *automationOptions) apply(cfg *session.Config) error {
	for _, l := range []struct {
		name string
		v    int
	}{{"--max-active-downloads", o.maxDownloads}, {"--max-active-seeds", o.maxSeeds}, {"--max-active", o.maxActive}} {
		if l.v < 0 || l.v > session.MaxQueueLimit {
			return &usageError{fmt.Errorf("%s %d: want 0..%d (0: unlimited)", l.name, l.v, session.MaxQueueLimit)}
		}
	}
	if o.onCompleteTimeout <= 0 {
		return &usageError{fmt.Errorf("--on-complete-timeout must be positive")}
	}
	cfg.MaxActiveDownloads, cfg.MaxActiveSeeds, cfg.MaxActive = o.maxDownloads, o.maxSeeds, o.maxActive
	if o.watchDir != "" {
		abs, err := filepath.Abs(o.watchDir)
		if err != nil {
			return fmt.Errorf("--watch-dir: %w", err)
		}
		cfg.WatchDir = abs
	}
	if o.onComplete != "" {
		// A path with a separator is taken as is (made absolute, since the
		// program runs in the torrent's directory); a bare name is looked
		// up in $PATH when it runs.
		p := o.onComplete
		if filepath.Base(p) != p {
			abs, err := filepath.Abs(p)
			if err != nil {
				return fmt.Errorf("--on-complete: %w", err)
			}
			p = abs
		}
		cfg.OnComplete = p
	}
	cfg.OnCompleteTimeout = o.onCompleteTimeout
	return nil
}

func newQueueCmd() *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:   "queue <info-hash> top|up|down|bottom",
		Short: "Move a torrent in the daemon's queue",
		Long: `Move a torrent in the daemon's queue: to the top or bottom, or one place up
or down. With queue limits set (serve --max-active-downloads,
--max-active-seeds, --max-active, or 'PATCH /api/v1/session'), torrents
run in queue order; the others wait in state "queued". 'gobit ls' lists
torrents in queue order; 'gobit resume --force' starts one past the limits.`,
		Args: argsUsage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			move := session.QueueMove(args[1])
			switch move {
			case session.QueueTop, session.QueueUp, session.QueueDown, session.QueueBottom:
			default:
				return &usageError{fmt.Errorf("queue: %q is not a move: want top, up, down or bottom", args[1])}
			}
			c := o.client()
			h, err := resolveHash(cmd.Context(), c, args[0])
			if err == nil {
				err = c.MoveInQueue(cmd.Context(), h, move)
			}
			if err != nil {
				return remoteError(&o, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "moved %s %s\n", h, move)
			return nil
		},
	}
	addRemoteFlags(cmd, &o)
	return cmd
}

// resumeOp is what 'gobit resume' does to one torrent: a plain resume
// (through the queue) or, with --force, a force start.
func resumeOp(force *bool) func(ctx context.Context, c *api.Client, h string) error {
	return func(ctx context.Context, c *api.Client, h string) error {
		if *force {
			return c.ForceStart(ctx, h)
		}
		return c.Resume(ctx, h)
	}
}
