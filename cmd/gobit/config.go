package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envPrefix starts the name of every flag's environment twin.
const envPrefix = "GOBIT_"

// noEnvAnnotation marks a flag that has no environment twin.
const noEnvAnnotation = "gobit_no_env"

// Defaults shared by several commands.
const (
	defaultAPIAddr  = "127.0.0.1:8080"
	defaultPeerPort = 6881
)

// envName returns the environment variable of a flag: --api-token is
// GOBIT_API_TOKEN.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func hasEnvTwin(f *pflag.Flag) bool {
	if f.Name == "help" {
		return false
	}
	_, skip := f.Annotations[noEnvAnnotation]
	return !skip
}

// noEnv marks a flag of cmd as having no environment twin.
func noEnv(cmd *cobra.Command, name string) {
	_ = cmd.Flags().SetAnnotation(name, noEnvAnnotation, []string{"true"})
}

// applyEnv sets every flag of cmd that was not given on the command line
// from its GOBIT_* environment variable, when that is set and not empty.
// So a flag wins over the environment, which wins over the default.
func applyEnv(cmd *cobra.Command) error {
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || !hasEnvTwin(f) {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok || v == "" {
			return
		}
		if err := cmd.Flags().Set(f.Name, v); err != nil {
			errs = append(errs, &usageError{fmt.Errorf("environment %s=%q: %w", envName(f.Name), v, err)})
		}
	})
	return errors.Join(errs...)
}

// documentEnv appends each flag's environment variable to its help text,
// for every command of the tree.
func documentEnv(cmd *cobra.Command) {
	doc := func(f *pflag.Flag) {
		if hasEnvTwin(f) && !strings.Contains(f.Usage, envPrefix) {
			f.Usage += " [$" + envName(f.Name) + "]"
		}
	}
	cmd.LocalFlags().VisitAll(doc)
	cmd.PersistentFlags().VisitAll(doc)
	for _, c := range cmd.Commands() {
		documentEnv(c)
	}
}

// defaultDownloadDir is $XDG_DOWNLOAD_DIR/gobit, else ~/Downloads/gobit,
// else ./downloads when there is no home directory.
func defaultDownloadDir() string {
	if d := os.Getenv("XDG_DOWNLOAD_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "gobit")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, "Downloads", "gobit")
	}
	return "downloads"
}

// defaultDataDir is $XDG_DATA_HOME/gobit, else ~/.local/share/gobit, else
// ./.gobit when there is no home directory.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "gobit")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "share", "gobit")
	}
	return ".gobit"
}

// isLoopbackAddr reports whether a listen address "host:port" binds only
// the loopback interface. An empty host or an unspecified address
// (0.0.0.0, ::) binds every interface; a host name other than localhost is
// taken as non-loopback since it may resolve anywhere.
func isLoopbackAddr(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("bad address %q (want host:port): %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false, nil
	}
	return ip.IsLoopback(), nil
}

// checkExposure refuses to serve the API on a non-loopback address without
// a token: anyone on the network could add torrents and delete files.
func checkExposure(addr, token string) error {
	lo, err := isLoopbackAddr(addr)
	if err != nil {
		return &usageError{fmt.Errorf("--addr: %w", err)}
	}
	if !lo && token == "" {
		return &usageError{fmt.Errorf("refusing to serve the API on %s, which is reachable from other machines, "+
			"without a token: set --api-token (or %s), or listen on 127.0.0.1", addr, envName("api-token"))}
	}
	return nil
}

// parseLevel parses a --log-level value.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, &usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", s)}
	}
	return l, nil
}

// newLogger returns a text logger writing to stderr and, when logFile is
// set, appending to that file too. The returned close function closes the
// file.
func newLogger(stderr io.Writer, level slog.Level, logFile string) (*slog.Logger, func() error, error) {
	w := stderr
	closeFn := func() error { return nil }
	if logFile != "" {
		if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
			return nil, nil, fmt.Errorf("creating log directory: %w", err)
		}
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("opening log file: %w", err)
		}
		w = io.MultiWriter(stderr, f)
		closeFn = f.Close
	}
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(h), closeFn, nil
}
