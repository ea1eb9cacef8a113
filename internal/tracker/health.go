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
//	WARN tracker unreachable, retrying  tracker=http://t.example:80 torrents=3 err=…
//	WARN tracker still unreachable, retrying  tracker=… torrents=30   (then each tenfold)
//	INFO tracker back  tracker=… torrents=1000 down_for=5m0s
//
// so an outage costs a handful of lines whatever the number of torrents,
// and the counts say how many torrents it hits. A tracker is declared down
// only once at least minFailures announces to it failed with no success
// between them, over at least healthGrace: a busy tracker that drops an
// announce now and then, or a daemon briefly out of descriptors, is not an
// outage, and does not make the log flap between "unreachable" and
// "back". A tracker that answers with a failure reason is reachable: that
// error is the torrent's own, logged by its announcer once per run of
// failures.

// maxAffected bounds the torrents a tracker's outage remembers; past it
// the count is still right, but torrents are no longer told apart.
const maxAffected = 1 << 17

// minFailures and healthGrace are how many failures in a row, over how
// long, make a tracker down.
const (
	minFailures = 3
	healthGrace = 30 * time.Second
)

// health is the Client's per-tracker reachability; safe for concurrent use.
type health struct {
	mu    sync.Mutex
	m     map[string]*trackerHealth
	grace time.Duration // healthGrace; tests shorten it
}

// trackerHealth is one tracker's reachability: a pure state machine, fed
// the outcome of each announce to it.
type trackerHealth struct {
	down     bool              // declared (and logged) down
	since    time.Time         // the first failure since the last success
	failures int               // failures since the last success
	failing  map[[20]byte]bool // torrents whose announce failed since the last success
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

// affected returns how many torrents failed since the last success.
func (h *trackerHealth) affected() int { return len(h.failing) + h.extra }

// failed records a failed announce of torrent ih at now; grace is
// healthGrace.
func (h *trackerHealth) failed(ih [20]byte, now time.Time, grace time.Duration) healthReport {
	if h.failing == nil {
		h.since, h.failing = now, map[[20]byte]bool{}
	}
	h.failures++
	if !h.failing[ih] {
		if len(h.failing) < maxAffected {
			h.failing[ih] = true
		} else {
			h.extra++
		}
	}
	n := h.affected()
	switch {
	case !h.down && h.failures >= minFailures && now.Sub(h.since) >= grace:
		h.down, h.reported = true, n
		return healthReport{down: true, first: true, torrents: n}
	case h.down && n >= 10*h.reported:
		h.reported = n
		return healthReport{down: true, torrents: n}
	}
	return healthReport{}
}

// succeeded records an announce the tracker answered (even with a failure
// reason) at now.
func (h *trackerHealth) succeeded(now time.Time) healthReport {
	var r healthReport
	if h.down {
		r = healthReport{back: true, torrents: h.affected(), downFor: now.Sub(h.since)}
	}
	*h = trackerHealth{}
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
		r = h.failed(ih, now, c.health.grace)
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
