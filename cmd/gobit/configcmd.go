package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// maskedValue replaces secrets in printed configurations.
const maskedValue = "********"

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config [serve flags]",
		Short: "Print the configuration gobit serve would run with",
		Long: `Print the configuration 'gobit serve' would run with, given the same flags,
environment and configuration file, as TOML: one key per flag, each with a
comment saying where its value came from (flag, env, file or default).
Secrets (the API token and password) are masked. With the secrets filled
in, the output is a valid configuration file.

` + precedenceDoc,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printConfig(cmd.OutOrStdout(), cmd.Flags())
		},
	}
	// The same flags as serve, resolved the same way.
	cmd.Flags().AddFlagSet(newServeCmd().Flags())
	return cmd
}

// isSecret reports whether a flag holds a secret, by its name, so that
// secrets other commands' flags add later are masked too.
func isSecret(name string) bool {
	for _, w := range []string{"token", "password", "secret"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// printConfig writes the flags of fs as a TOML configuration, with where
// each value came from.
func printConfig(w io.Writer, fs *pflag.FlagSet) error {
	var b bytes.Buffer
	b.WriteString("# The configuration of 'gobit serve'; precedence: flag > env > file > default.\n")
	path, explicit := configPath(fs)
	switch _, err := os.Stat(path); {
	case path == "":
		b.WriteString("# Configuration file: none (no home directory)\n")
	case err != nil && !explicit:
		fmt.Fprintf(&b, "# Configuration file: %s (not found; that is fine)\n", path)
	default:
		fmt.Fprintf(&b, "# Configuration file: %s (%s)\n", path, flagSource(fs.Lookup(configFlag)))
	}
	b.WriteString("\n")
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Name == "help" || f.Name == configFlag || f.Hidden {
			return
		}
		v := tomlValue(f)
		note := flagSource(f)
		if s, ok := v.(string); ok && s != "" && isSecret(f.Name) {
			v, note = maskedValue, note+", masked"
		}
		var line bytes.Buffer
		if err = toml.NewEncoder(&line).Encode(map[string]any{f.Name: v}); err != nil {
			err = fmt.Errorf("formatting %s: %w", f.Name, err)
			return
		}
		fmt.Fprintf(&b, "%s # %s\n", strings.TrimSuffix(line.String(), "\n"), note)
	})
	if err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}

// tomlValue returns f's value as the TOML type its flag type reads.
func tomlValue(f *pflag.Flag) any {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		s := sv.GetSlice()
		if s == nil {
			s = []string{}
		}
		return s
	}
	s := f.Value.String()
	t := f.Value.Type()
	switch {
	case t == "bool":
		if v, err := strconv.ParseBool(s); err == nil {
			return v
		}
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return v
		}
	case strings.HasPrefix(t, "float"):
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return v
		}
	}
	return s
}
