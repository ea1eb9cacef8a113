package torrent

import (
	"time"
)

// SeedLimits are optional conditions that stop seeding. Zero values mean
// "no limit" for this torrent, in which case the session-wide value (from
// Config.GlobalSeedLimits) applies.
type SeedLimits struct {
	// RatioLimit pauses the torrent once uploaded/downloaded reaches it
	// (uploaded/size when nothing was downloaded, e.g. an original seed).
	RatioLimit float64 `json:"ratio_limit"`
	// SeedTimeLimit pauses the torrent after seeding this long.
	SeedTimeLimit time.Duration `json:"-"`
}

// SetSeedLimits changes the torrent's own seeding limits at run time.
func (t *Torrent) SetSeedLimits(l SeedLimits) error {
	return t.do(func() {
		t.seedLimits = l
		t.checkSeedLimits(time.Now())
		t.publish()
	})
}

// effectiveSeedLimits merges the torrent's limits with the session's.
func (t *Torrent) effectiveSeedLimits() SeedLimits {
	l := t.seedLimits
	if t.cfg.GlobalSeedLimits != nil {
		g := t.cfg.GlobalSeedLimits()
		if l.RatioLimit <= 0 {
			l.RatioLimit = g.RatioLimit
		}
		if l.SeedTimeLimit <= 0 {
			l.SeedTimeLimit = g.SeedTimeLimit
		}
	}
	return l
}

// ratio returns uploaded over downloaded (over the size for a torrent that
// downloaded nothing).
func (t *Torrent) ratio() float64 {
	up := float64(t.uploaded.Load())
	down := float64(t.downloaded.Load())
	if down <= 0 && t.info != nil {
		down = float64(t.info.TotalLength())
	}
	if down <= 0 {
		return 0
	}
	return up / down
}

// checkSeedLimits pauses a seeding torrent whose goal is reached.
func (t *Torrent) checkSeedLimits(now time.Time) {
	switch l := t.effectiveSeedLimits(); t.seedLimitReached(now, l) {
	case "ratio":
		t.log.Info("ratio limit reached; pausing", "ratio", t.ratio(), "limit", l.RatioLimit)
	case "time":
		t.log.Info("seeding time limit reached; pausing", "limit", l.SeedTimeLimit)
	default:
		return
	}
	t.finished = true
	t.pause()
}

// seedLimitReached names the limit of l a seeding torrent has reached
// ("ratio" or "time"), or returns "".
func (t *Torrent) seedLimitReached(now time.Time, l SeedLimits) string {
	if t.state != StateSeeding || t.paused {
		return ""
	}
	switch {
	case l.RatioLimit > 0 && t.ratio() >= l.RatioLimit:
		return "ratio"
	case l.SeedTimeLimit > 0 && !t.seedingSince.IsZero() && now.Sub(t.seedingSince) >= l.SeedTimeLimit:
		return "time"
	}
	return ""
}

// SessionSeedLimitsChanged tells the torrent that the session-wide seeding
// limits (Config.GlobalSeedLimits) changed. A running torrent applies them
// at its next tick; a parked one, whose ratio cannot change, is paused at
// once if it has reached one (waking for that), and otherwise wakes on time
// for a new seeding time limit.
func (t *Torrent) SessionSeedLimitsChanged() {
	reached := false
	if !t.ownParked(func() {
		now := time.Now()
		if reached = t.seedLimitReached(now, t.effectiveSeedLimits()) != ""; !reached {
			t.armWake(now)
		}
	}) || !reached {
		return
	}
	_ = t.do(func() {
		t.checkSeedLimits(time.Now())
		t.publish()
	})
}

// SetRateLimits changes the torrent's upload and download limits (bytes/s,
// 0 unlimited) at run time; they take effect for transfers in progress.
func (t *Torrent) SetRateLimits(up, down int64) {
	t.upLimit.SetLimit(up)
	t.downLimit.SetLimit(down)
	_ = t.do(t.publish)
}

// SetUploadSlots changes how many peers are unchoked at once (negative is
// unlimited); the next choke review applies it.
func (t *Torrent) SetUploadSlots(n int) error {
	return t.do(func() {
		if n == 0 {
			n = DefaultUploadSlots
		}
		t.choker.SetSlots(n)
		t.chokeRound = 0 // review at the next tick
		t.publish()
	})
}
