package main

import (
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/session"
)

// limitOptions are the transfer-limit flags shared by serve and download.
type limitOptions struct {
	uploadLimit   string
	downloadLimit string
	ratioLimit    float64
	seedTimeLimit time.Duration
	maxConns      int
	maxPeers      int
	uploadSlots   int
}

func (o *limitOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.uploadLimit, "upload-limit", "0", "total upload rate limit per second, e.g. 2MiB or 500KB (0: unlimited)")
	f.StringVar(&o.downloadLimit, "download-limit", "0", "total download rate limit per second, e.g. 10MiB (0: unlimited)")
	f.Float64Var(&o.ratioLimit, "ratio-limit", 0, "stop seeding a torrent once uploaded/downloaded reaches this (0: no limit)")
	f.DurationVar(&o.seedTimeLimit, "seed-time-limit", 0, "stop seeding a torrent after seeding this long, e.g. 24h (0: no limit)")
	f.IntVar(&o.maxConns, "max-connections", session.DefaultMaxConns, "maximum peer connections over all torrents")
	f.IntVar(&o.maxPeers, "max-peers", session.DefaultMaxPeersPerTorrent, "maximum peer connections per torrent")
	f.IntVar(&o.uploadSlots, "upload-slots", 8, "peers each torrent uploads to at once, besides one optimistic unchoke (-1: unlimited)")
}

// apply copies the limits into a session configuration.
func (o *limitOptions) apply(cfg *session.Config) error {
	up, err := parseRate("--upload-limit", o.uploadLimit)
	if err != nil {
		return err
	}
	down, err := parseRate("--download-limit", o.downloadLimit)
	if err != nil {
		return err
	}
	if o.ratioLimit < 0 || o.seedTimeLimit < 0 {
		return &usageError{fmt.Errorf("--ratio-limit and --seed-time-limit must not be negative")}
	}
	cfg.UploadLimit, cfg.DownloadLimit = up, down
	cfg.RatioLimit, cfg.SeedTimeLimit = o.ratioLimit, o.seedTimeLimit
	cfg.MaxConns, cfg.MaxPeersPerTorrent, cfg.UploadSlots = o.maxConns, o.maxPeers, o.uploadSlots
	return nil
}

// parseRate parses a bytes-per-second figure such as "2MiB", "500KB" or
// "1048576".
func parseRate(flag, s string) (int64, error) {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, &usageError{fmt.Errorf("%s %q: %w", flag, s, err)}
	}
	if n > 1<<50 {
		return 0, &usageError{fmt.Errorf("%s %q: too large", flag, s)}
	}
	return int64(n), nil
}
