package main

// The configuration file: TOML whose keys are the flag names of the
// command it configures (gobit serve), so every flag, including those
// added later, can be set there. Precedence: a flag on the command line
// wins over its GOBIT_* environment variable, which wins over the file,
// which wins over the default. Where each flag's value came from is
// recorded in an annotation on the flag, for `gobit config` and for
// reloads.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// configFlag is the flag that names the configuration file.
const configFlag = "config"

// maxConfigBytes bounds the size of a configuration file.
const maxConfigBytes = 1 << 20

// sourceAnnotation records where a flag's value came from.
const sourceAnnotation = "gobit_source"

// Where a flag's value came from, in order of precedence.
const (
	srcFlag    = "flag"
	srcEnv     = "env"
	srcFile    = "file"
	srcDefault = "default"
)

// precedenceDoc explains the precedence, for help texts.
const precedenceDoc = `Every flag can be set on the command line, in the environment as
GOBIT_FLAG (the flag's name in upper case, dashes as underscores: --api-token is
GOBIT_API_TOKEN) and in the TOML configuration file named by --config
(default $XDG_CONFIG_HOME/gobit/config.toml, else ~/.config/gobit/config.toml)
by its flag name: download-dir = "/data", api-allowed-hosts = ["a", "b"],
flush-interval = "1m", port = 51413, no-dht = true. A flag on the command
line wins over the environment, which wins over the file, which wins over
the default. A missing default file is fine; a missing --config file and
unknown keys are errors. 'gobit config' prints the configuration in effect
and where each value came from. See docs/config.md.`

// addConfigFlag gives cmd the --config flag.
func addConfigFlag(cmd *cobra.Command) {
	cmd.Flags().String(configFlag, "", "TOML configuration file whose keys are flag names (default $XDG_CONFIG_HOME/gobit/config.toml or ~/.config/gobit/config.toml)")
}

// defaultConfigPath is $XDG_CONFIG_HOME/gobit/config.toml, else
// ~/.config/gobit/config.toml, else "" when there is no home directory.
func defaultConfigPath() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "gobit", "config.toml")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".config", "gobit", "config.toml")
	}
	return ""
}

// configPath returns the configuration file fs names and whether it was
// named explicitly (by --config or GOBIT_CONFIG) rather than by default.
func configPath(fs *pflag.FlagSet) (path string, explicit bool) {
	f := fs.Lookup(configFlag)
	if f == nil {
		return "", false
	}
	if p := f.Value.String(); p != "" {
		return p, true
	}
	return defaultConfigPath(), false
}

// flagSource returns where f's value came from.
func flagSource(f *pflag.Flag) string {
	if s := f.Annotations[sourceAnnotation]; len(s) == 1 {
		return s[0]
	}
	return srcDefault
}

func setSource(f *pflag.Flag, src string) {
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[sourceAnnotation] = []string{src}
}

// markChanged records src as the source of every flag that is set and has
// no source yet.
func markChanged(fs *pflag.FlagSet, src string) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed && f.Annotations[sourceAnnotation] == nil {
			setSource(f, src)
		}
	})
}

// resolveFlags completes cmd's flags after the command line was parsed:
// from the environment, then, for a command with --config, from the
// configuration file.
func resolveFlags(cmd *cobra.Command) error {
	fs := cmd.Flags()
	markChanged(fs, srcFlag)
	if err := applyEnv(cmd); err != nil {
		return err
	}
	markChanged(fs, srcEnv)
	if fs.Lookup(configFlag) == nil {
		return nil
	}
	return applyConfigFile(fs)
}

// applyConfigFile sets every flag of fs not set yet from the
// configuration file. A missing file is fine unless it was named
// explicitly.
func applyConfigFile(fs *pflag.FlagSet) error {
	path, explicit := configPath(fs)
	if path == "" {
		return nil
	}
	vals, err := readConfigFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return err
	}
	return setFromConfig(fs, vals, path)
}

// readConfigFile reads and parses a TOML configuration file.
func readConfigFile(path string) (map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("configuration file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("configuration file %s is larger than %d bytes", path, maxConfigBytes)
	}
	var vals map[string]any
	if err := toml.Unmarshal(data, &vals); err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	return vals, nil
}

// setFromConfig sets the flags of fs that are not set yet from vals, the
// keys of the file at path. Every key must name a flag, whether or not it
// is used.
func setFromConfig(fs *pflag.FlagSet, vals map[string]any, path string) error {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs []error
	for _, k := range keys {
		f := fs.Lookup(k)
		switch {
		case k == configFlag:
			errs = append(errs, fmt.Errorf("configuration file %s: key %q: a configuration file cannot name another; use --config or %s", path, k, envName(configFlag)))
			continue
		case f == nil || k == "help" || f.Hidden:
			errs = append(errs, fmt.Errorf("configuration file %s: unknown key %q%s", path, k, didYouMean(fs, k)))
			continue
		case f.Changed:
			continue // set on the command line or in the environment
		}
		if err := setFlagValue(f, vals[k]); err != nil {
			errs = append(errs, fmt.Errorf("configuration file %s: %s: %w", path, k, err))
			continue
		}
		setSource(f, srcFile)
	}
	return errors.Join(errs...)
}

// setFlagValue sets f from a value decoded from TOML.
func setFlagValue(f *pflag.Flag, v any) error {
	if arr, ok := v.([]any); ok {
		sv, ok := f.Value.(pflag.SliceValue)
		if !ok {
			return fmt.Errorf("want a single %s, not a list", f.Value.Type())
		}
		items := make([]string, len(arr))
		for i, e := range arr {
			s, err := scalarString(e)
			if err != nil {
				return fmt.Errorf("item %d: %w", i+1, err)
			}
			items[i] = s
		}
		if err := sv.Replace(items); err != nil {
			return err
		}
		f.Changed = true
		return nil
	}
	s, err := scalarString(v)
	if err != nil {
		return err
	}
	// A string for a list flag is read as the flag reads it
	// (comma-separated), the same as its environment variable.
	if err := f.Value.Set(s); err != nil {
		return err
	}
	f.Changed = true
	return nil
}

// scalarString formats a TOML string, integer, float or boolean as a
// flag value.
func scalarString(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case map[string]any:
		return "", errors.New("want a value, not a table (keys are flag names, at the top level)")
	}
	return "", fmt.Errorf("want a string, number or boolean, not %T (durations are strings such as \"90s\")", v)
}

// didYouMean suggests the flag of fs closest to the unknown key k.
func didYouMean(fs *pflag.FlagSet, k string) string {
	const hint = " (keys are the flag names of 'gobit serve --help')"
	norm := strings.ToLower(strings.ReplaceAll(strings.TrimLeft(k, "-"), "_", "-"))
	if len(norm) > 64 {
		return hint
	}
	best, bestD := "", 1<<30
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || f.Name == configFlag || f.Hidden {
			return
		}
		d := editDistance(norm, f.Name)
		if d < bestD || (d == bestD && f.Name < best) {
			best, bestD = f.Name, d
		}
	})
	if best == "" || bestD > max(2, len(norm)/3) {
		return hint
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
