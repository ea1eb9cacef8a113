package tracker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Logging a failing tracker.
//
// Thousands of torrents share a few trackers. When one is down, every
// torrent's every retry fails, and a warning per failure would flood the
// log (10,000 torrents retrying every few minutes). Instead the Client
// keeps, per tracker (scheme, host and port: redact), whether it is
// reachable and which torrents saw it fail, and logs state changes once:
//
//	WARN tracker unreachable  tracker=http://t.example:80 torrents=1 err=…
//	WARN tracker still unreachable  tracker=… torrents=10   (then 100, 1000, …)
//	INFO tracker back  tracker=… torrents=1000 down_for=5m0s
//
// so an outage costs a handful of lines whatever the number of torrents,
// and the counts say how many torrents it hits. A tracker that answers with
// a failure reason is reachable: that error is the torrent's own, logged by
// its announcer once per run of failures.

// maxAffected bounds the torrents a tracker's outage remembers; past it
// the count is still right, but torrents are no longer told apart.
const maxAffected = 1 << 17

// health is the Client's per-tracker reachability; safe for concurrent use.
type health struct {
	mu sync.Mutex
	m  map[string]*trackerHealth
}

// trackerHealth is one tracker's reachability: a pure state machine, fed
// the outcome of each announce to it.
type trackerHealth struct {
	down     bool
	since    time.Time         // when it went down
	failing  map[[20]byte]bool // torrents whose announce failed during the outage
	extra    int               // failures past maxAffected
	reported int               // the count in the last "unreachable" record
}

// healthReport is what an announce outcome says to log: nothing (zero), a
// tracker unreachable (first, or a count grown tenfold), or back.
type healthReport struct {
	down, back bool
	first      bool
	torrents   int
	downFor    time.Duration
}

// affected returns how many torrents the outage hit.
func (h *trackerHealth) affected() int { return len(h.failing) + h.extra }

// failed records a failed announce of torrent ih at now.
func (h *trackerHealth) failed(ih [20]byte, now time.Time) healthReport {
	if !h.down {
		h.down, h.since, h.failing, h.extra, h.reported = true, now, map[[20]byte]bool{}, 0, 0
	}
	if !h.failing[ih] {
		if len(h.failing) < maxAffected {
			h.failing[ih] = true
		} else {
			h.extra++
		}
	}
	n := h.affected()
	if h.reported == 0 || n >= 10*h.reported {
		first := h.reported == 0
		h.reported = n
		return healthReport{down: true, first: first, torrents: n}
	}
	return healthReport{}
}

// succeeded records an announce the tracker answered (even with a failure
// reason) at now.
func (h *trackerHealth) succeeded(now time.Time) healthReport {
	if !h.down {
		return healthReport{}
	}
	r := healthReport{back: true, torrents: h.affected(), downFor: now.Sub(h.since)}
	h.down, h.failing, h.extra, h.reported = false, nil, 0, 0
	return r
}

// record feeds the outcome of one announce of torrent ih to trackerURL to
// the tracker's state, and logs a change of it on log. It reports whether
// err was accounted for there (a tracker that could not be reached), so
// that the announcer need not log it again. Cancellations say nothing
// about the tracker and are ignored.
func (c *Client) record(ctx context.Context, trackerURL string, ih [20]byte, err error, log *slog.Logger) bool {
	if err != nil && ctx.Err() != nil {
		return false
	}
	var fe *FailureError
	reachable := err == nil || errors.As(err, &fe)
	key := redact(trackerURL)
	now := time.Now()
	c.health.mu.Lock()
	h := c.health.m[key]
	if h == nil {
		if reachable {
			c.health.mu.Unlock()
			return false // never failed: nothing to remember
		}
		if c.health.m == nil {
			c.health.m = make(map[string]*trackerHealth)
		}
		if len(c.health.m) >= maxCountedHosts {
			c.health.mu.Unlock()
			return false // too many trackers to tell apart: the announcer logs it
		}
		h = &trackerHealth{}
		c.health.m[key] = h
	}
	var r healthReport
	if reachable {
		r = h.succeeded(now)
	} else {
		r = h.failed(ih, now)
	}
	c.health.mu.Unlock()
	if c.cfg.Logger != nil {
		log = c.cfg.Logger
	}
	switch {
	case r.back:
		log.Info("tracker back", "tracker", key, "torrents", r.torrents, "down_for", r.downFor.Round(time.Second))
	case r.down && r.first:
		log.Warn("tracker unreachable, retrying", "tracker", key, "torrents", r.torrents, "err", err)
	case r.down:
		log.Warn("tracker still unreachable, retrying", "tracker", key, "torrents", r.torrents)
	}
	return !reachable
}
