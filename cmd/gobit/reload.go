package main

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/session"
)

// liveSettings are the serve flags a reload applies to the running
// session (through session.UpdateSettings); a change to any other flag
// needs a restart.
var liveSettings = []string{
	"upload-limit", "download-limit", "ratio-limit", "seed-time-limit",
	"max-active-downloads", "max-active-seeds", "max-active",
}

// settingsUpdater is the part of the session a reload changes.
type settingsUpdater interface {
	UpdateSettings(session.SettingsUpdate) (session.Settings, error)
}

// reloader re-reads the configuration of a running gobit serve.
type reloader struct {
	start   *pflag.FlagSet    // the flags serve started with, resolved
	applied map[string]string // each flag's value in effect, as flagText
	sess    settingsUpdater
	log     *slog.Logger
}

func newReloader(start *pflag.FlagSet, sess settingsUpdater, log *slog.Logger) *reloader {
	r := &reloader{start: start, sess: sess, log: log, applied: map[string]string{}}
	if start != nil {
		start.VisitAll(func(f *pflag.Flag) { r.applied[f.Name] = flagText(f) })
	}
	return r
}

// flagText is f's value in a form that compares equal when the values do.
func flagText(f *pflag.Flag) string {
	return fmt.Sprintf("%#v", tomlValue(f))
}

// resolveAgain resolves serve's flags afresh: the command line's values as
// they were at the start (they cannot change), then the environment and
// the configuration file as they are now.
func resolveAgain(start *pflag.FlagSet) (*pflag.FlagSet, error) {
	fresh := newServeCmd()
	fs := fresh.Flags()
	var errs []error
	start.VisitAll(func(f *pflag.Flag) {
		nf := fs.Lookup(f.Name)
		if nf == nil || flagSource(f) != srcFlag {
			return
		}
		var err error
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			err = nf.Value.(pflag.SliceValue).Replace(sv.GetSlice())
		} else {
			err = nf.Value.Set(f.Value.String())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", f.Name, err))
		}
		nf.Changed = true
		setSource(nf, srcFlag)
	})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if err := resolveFlags(fresh); err != nil {
		return nil, err
	}
	return fs, nil
}

// reload re-reads the configuration, applies the live settings that
// changed and logs the others that changed as needing a restart. It
// returns a one-line summary for the service manager.
func (r *reloader) reload() (string, error) {
	bl := reloadBlocklist(r.sess) // SIGHUP reloads the blocklist too
	if r.start == nil {
		return "", fmt.Errorf("no configuration to reload")
	}
	fs, err := resolveAgain(r.start)
	if err != nil {
		r.log.Error("configuration not reloaded", "err", err)
		return "", err
	}
	var live, restart []string
	fs.VisitAll(func(f *pflag.Flag) {
		if r.applied[f.Name] == flagText(f) {
			return
		}
		if slices.Contains(liveSettings, f.Name) {
			live = append(live, f.Name)
		} else {
			restart = append(restart, f.Name)
		}
	})
	if len(live) > 0 {
		u, err := settingsUpdate(fs, live)
		if err == nil {
			_, err = r.sess.UpdateSettings(u)
		}
		if err != nil {
			r.log.Error("configuration not reloaded", "err", err)
			return "", err
		}
		attrs := []any{}
		for _, name := range live {
			v := fs.Lookup(name)
			attrs = append(attrs, name, v.Value.String())
			r.applied[name] = flagText(v)
		}
		r.log.Info("configuration reloaded: settings changed", attrs...)
	}
	if len(restart) > 0 {
		r.log.Warn("configuration reloaded: a changed setting needs a restart", "settings", strings.Join(restart, ", "))
	}
	if len(live) == 0 && len(restart) == 0 {
		r.log.Info("configuration reloaded: nothing changed")
	}
	summary := fmt.Sprintf("configuration reloaded: %d settings applied", len(live))
	if len(restart) > 0 {
		summary += fmt.Sprintf(", %d need a restart (%s)", len(restart), strings.Join(restart, ", "))
	}
	if bl != "" {
		summary += "; " + bl
	}
	return summary, nil
}

// settingsUpdate builds the session update for the live settings names
// from fs.
func settingsUpdate(fs *pflag.FlagSet, names []string) (session.SettingsUpdate, error) {
	var u session.SettingsUpdate
	for _, name := range names {
		f := fs.Lookup(name)
		switch name {
		case "upload-limit", "download-limit":
			n, err := parseRate("--"+name, f.Value.String())
			if err != nil {
				return u, err
			}
			if name == "upload-limit" {
				u.UploadLimit = &n
			} else {
				u.DownloadLimit = &n
			}
		case "ratio-limit":
			v, err := fs.GetFloat64(name)
			if err != nil {
				return u, err
			}
			u.RatioLimit = &v
		case "seed-time-limit":
			d, err := fs.GetDuration(name)
			if err != nil {
				return u, err
			}
			s := int64(d / time.Second)
			u.SeedTimeLimit = &s
		case "max-active-downloads", "max-active-seeds", "max-active":
			v, err := fs.GetInt(name)
			if err != nil {
				return u, err
			}
			n := int64(v)
			switch name {
			case "max-active-downloads":
				u.MaxActiveDownloads = &n
			case "max-active-seeds":
				u.MaxActiveSeeds = &n
			default:
				u.MaxActive = &n
			}
		}
	}
	return u, nil
}
