package main

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/gobit/gobit/internal/session"
)

// adjustSessionConfig, when set, changes the session configuration serve
// and download build from their flags, just before the session starts.
// Tests use it to keep local service discovery on loopback.
var adjustSessionConfig func(*session.Config)

// lockedError reports a data directory in use by another gobit.
func lockedError(dataDir string) error {
	return fmt.Errorf("%w (the data directory %s is in use; stop the other gobit or give another --data-dir)",
		session.ErrLocked, dataDir)
}

// apiListenError explains a failure to bind the API address.
func apiListenError(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("the API address %s is already in use: gobit may already be running ('gobit ls' talks to it); to run another, give it another --addr", addr)
	}
	return fmt.Errorf("listening for the API on %s (--addr): %w", addr, err)
}

// sessionStartError explains a failure of session.New in terms of the
// flags that caused it.
func sessionStartError(err error, dataDir string, port int) error {
	switch {
	case errors.Is(err, session.ErrLocked):
		return lockedError(dataDir)
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("the peer port %d is already in use: gobit (or another BitTorrent client) may already be running; give another --port (0 picks a free one)", port)
	}
	return fmt.Errorf("starting session: %w", err)
}
