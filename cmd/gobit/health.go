package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newHealthCmd() *cobra.Command {
	var o remoteOptions
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check that a running daemon's API answers (for container health checks)",
		Long: `Check that a running daemon's API answers: exit 0 when it does, 1 when it does
not answer within --timeout or refuses the token. It reads the same
GOBIT_ADDR and GOBIT_API_TOKEN as 'gobit serve', and an address that binds
every interface (0.0.0.0:8080) is reached through loopback, so in a
container whose daemon listens on 0.0.0.0 it needs no arguments.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 {
				return &usageError{fmt.Errorf("--timeout must be positive")}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c := o.client()
			if _, err := c.Settings(ctx); err != nil {
				return remoteError(&o, fmt.Errorf("unhealthy: %w", err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: the daemon at %s answers\n", c.BaseURL)
			return nil
		},
	}
	addRemoteFlags(cmd, &o)
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	noEnv(cmd, "timeout")
	return cmd
}
