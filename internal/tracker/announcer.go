package tracker

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"
)

// Announcer defaults.
const (
	// DefaultMinInterval is the floor under every announce interval.
	DefaultMinInterval = 30 * time.Second
	// DefaultInterval is used when a tracker does not send "interval".
	DefaultInterval = 30 * time.Minute
	// DefaultAnnounceTimeout bounds one announce attempt to one URL.
	DefaultAnnounceTimeout = 60 * time.Second
	// DefaultStoppedTimeout bounds the "stopped" announces sent on exit.
	DefaultStoppedTimeout = 5 * time.Second
	// maxRetryDelay is the base of the failure backoff (15 s, 30 s, 60 s…).
	maxRetryDelay = 15 * time.Second
)

// Tracker status strings reported by Announcer.Status.
const (
	StatusNotContacted = "not contacted"
	StatusUpdating     = "updating"
	StatusWorking      = "working"
	StatusError        = "error"
)

// AnnouncerConfig configures an Announcer.
type AnnouncerConfig struct {
	// Client sends the announces. Required.
	Client *Client
	// Tiers are the torrent's trackers (BEP 12 announce-list); a URL that
	// appears more than once is used only where it appears first.
	Tiers [][]string
	// InfoHash and PeerID identify the torrent and us.
	InfoHash, PeerID [20]byte
	// Port is our listening port.
	Port uint16
	// NumWant is how many peers to ask for; zero or negative means the
	// tracker's default.
	NumWant int
	// Stats returns the byte counters sent with each announce; nil sends
	// zeros.
	Stats func() (uploaded, downloaded, left int64)
	// OnPeers receives the peers of every successful announce. It is called
	// from the tiers' goroutines, possibly concurrently, and must not block
	// for long.
	OnPeers func([]netip.AddrPort)
	// Logger receives announce results; discarded if nil.
	Logger *slog.Logger
	// MinInterval is the floor under every wait between announces to a
	// tier (DefaultMinInterval if zero). It also caps the base of the retry
	// backoff after failures, so tests that lower it retry quickly.
	MinInterval time.Duration
	// AnnounceTimeout bounds one attempt to one URL (DefaultAnnounceTimeout
	// if zero), so a dead tracker cannot hold up its tier.
	AnnounceTimeout time.Duration
	// StoppedTimeout bounds the "stopped" announces on exit
	// (DefaultStoppedTimeout if zero).
	StoppedTimeout time.Duration
	// Background marks a torrent that needs no peers (a seed): its first
	// announces wait their turn in the Client's background lane, behind
	// no download's (spread.go).
	Background bool
}

// TrackerStatus describes one tracker of an Announcer.
type TrackerStatus struct {
	// Tier is the tracker's tier (0-based) and URL its announce URL.
	Tier int
	URL  string
	// Status is one of StatusNotContacted, StatusUpdating, StatusWorking,
	// StatusError.
	Status string
	// Error is the last error when Status is StatusError.
	Error string
	// Peers is the number of peers the last successful announce returned;
	// Seeders and Leechers the counts it reported.
	Peers, Seeders, Leechers int
	// LastAnnounce is when the last announce to this URL finished (zero if
	// never); NextAnnounce when the tier announces next (zero if unknown).
	LastAnnounce, NextAnnounce time.Time
}

// Announcer announces one torrent to all its tiers periodically. Create it
// with NewAnnouncer and call Run once.
type Announcer struct {
	cfg   AnnouncerConfig
	key   uint32
	log   *slog.Logger
	tiers []*tier

	completedOnce sync.Once

	mu       sync.Mutex      // guards the status field of every trackerState
	statuses []*trackerState // fixed order: tier, then configured order
}

// tier is one BEP 12 tier. urls is owned by the tier's goroutine.
type tier struct {
	index       int
	urls        []*trackerState // shuffled once; the URL that answers moves to the front
	completedC  chan struct{}   // buffered (1): a "completed" is queued
	reannounceC chan struct{}   // buffered (1): announce as soon as allowed
}

// trackerState is one URL of a tier. started and trackerID are owned by the
// tier's goroutine; status is guarded by Announcer.mu.
type trackerState struct {
	url       string
	started   bool // the tracker acknowledged "started"
	trackerID string
	status    TrackerStatus
}

// NewAnnouncer returns an Announcer for cfg. It sends nothing until Run.
func NewAnnouncer(cfg AnnouncerConfig) *Announcer {
	if cfg.MinInterval <= 0 {
		cfg.MinInterval = DefaultMinInterval
	}
	if cfg.AnnounceTimeout <= 0 {
		cfg.AnnounceTimeout = DefaultAnnounceTimeout
	}
	if cfg.StoppedTimeout <= 0 {
		cfg.StoppedTimeout = DefaultStoppedTimeout
	}
	if cfg.NumWant <= 0 {
		cfg.NumWant = -1
	}
	a := &Announcer{cfg: cfg, key: rand.Uint32(), log: cfg.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	seen := make(map[string]bool)
	for _, urls := range cfg.Tiers {
		t := &tier{index: len(a.tiers), completedC: make(chan struct{}, 1), reannounceC: make(chan struct{}, 1)}
		for _, u := range urls {
			if u == "" || seen[u] {
				continue
			}
			seen[u] = true
			ts := &trackerState{url: u, status: TrackerStatus{Tier: t.index, URL: u, Status: StatusNotContacted}}
			t.urls = append(t.urls, ts)
			a.statuses = append(a.statuses, ts)
		}
		if len(t.urls) == 0 {
			continue
		}
		rand.Shuffle(len(t.urls), func(i, j int) { t.urls[i], t.urls[j] = t.urls[j], t.urls[i] })
		a.tiers = append(a.tiers, t)
	}
	return a
}

// Run announces "started" to every tier, each in its own goroutine, then
// re-announces at the trackers' intervals until ctx is done. It then sends
// "stopped" to every tracker that acknowledged "started" (bounded by
// StoppedTimeout) and returns. Run returns at once if there are no trackers.
func (a *Announcer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, t := range a.tiers {
		wg.Go(func() { a.runTier(ctx, t) })
	}
	wg.Wait()
}

// Completed queues a "completed" announce to every tier. Only the first call
// has an effect.
func (a *Announcer) Completed() {
	a.completedOnce.Do(func() {
		for _, t := range a.tiers {
			select {
			case t.completedC <- struct{}{}:
			default:
			}
		}
	})
}

// Reannounce asks every tier to announce as soon as the minimum interval
// allows, for example because the torrent needs more peers.
func (a *Announcer) Reannounce() {
	for _, t := range a.tiers {
		select {
		case t.reannounceC <- struct{}{}:
		default:
		}
	}
}

// Status returns a snapshot of every tracker's state, in tier order.
func (a *Announcer) Status() []TrackerStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]TrackerStatus, len(a.statuses))
	for i, ts := range a.statuses {
		out[i] = ts.status
	}
	return out
}

// runTier is the loop of one tier's goroutine.
func (a *Announcer) runTier(ctx context.Context, t *tier) {
	var (
		completedPending bool
		failures         int
		interval         time.Duration // from the last success; 0 = unknown
		minAllowed       = a.cfg.MinInterval
		last             time.Time
		// The first announce waits for its slot (spread.go).
		next = a.cfg.Client.spread.reserve(time.Now(), a.cfg.Background)
	)
	a.setNext(t, next)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			a.sendStopped(ctx, t)
			return
		case <-t.completedC:
			completedPending = true
			if !last.IsZero() { // else the first announce is due, in its slot
				next = time.Now()
			}
			continue
		case <-t.reannounceC:
			if allowed := last.Add(minAllowed); !last.IsZero() && allowed.Before(next) {
				next = allowed
			}
			continue
		case <-timer.C:
		}

		event := EventNone
		if completedPending {
			event = EventCompleted
		}
		resp, sent, logged, err := a.announceTier(ctx, t, event)
		if ctx.Err() != nil {
			a.sendStopped(ctx, t)
			return
		}
		now := time.Now()
		if err != nil {
			failures++
			next = now.Add(a.retryDelay(failures, interval))
			// Trackers that could not be reached are logged by the
			// Client, once per outage (health.go); any other failure
			// once per run of failures of this tier.
			lvl := slog.LevelDebug
			if failures == 1 && !logged {
				lvl = slog.LevelWarn
			}
			a.log.Log(ctx, lvl, "tracker announce failed", "tier", t.index, "err", err, "retry_in", next.Sub(now).Round(time.Second))
		} else {
			failures = 0
			last = now
			if sent == EventCompleted {
				completedPending = false
			}
			interval = resp.Interval
			if interval <= 0 {
				interval = DefaultInterval
			}
			minAllowed = max(resp.MinInterval, a.cfg.MinInterval)
			next = now.Add(max(interval, minAllowed))
			if completedPending {
				next = now // "started" went first; send "completed" right after
			}
		}
		a.setNext(t, next)
	}
}

// retryDelay is the wait after the n-th consecutive failure: base·2^(n-1),
// capped at the tracker's interval (DefaultInterval if unknown).
func (a *Announcer) retryDelay(n int, interval time.Duration) time.Duration {
	base := min(maxRetryDelay, a.cfg.MinInterval)
	if interval <= 0 {
		interval = DefaultInterval
	}
	d := base << min(n-1, 20)
	return max(min(d, interval), base)
}

// announceTier tries the tier's URLs in order until one answers, moves that
// one to the front, reports its peers and returns its answer together with
// the event actually sent (EventStarted to a URL that has not acknowledged
// it yet, event otherwise). On failure, logged reports whether the Client
// accounted for every error as a tracker it could not reach (health.go).
func (a *Announcer) announceTier(ctx context.Context, t *tier, event Event) (_ *AnnounceResponse, _ Event, logged bool, _ error) {
	var errs []error
	logged = true
	for i, ts := range t.urls {
		ev := event
		if !ts.started {
			ev = EventStarted
		}
		a.updateStatus(ts, func(s *TrackerStatus) { s.Status = StatusUpdating })
		actx, cancel := context.WithTimeout(ctx, a.cfg.AnnounceTimeout)
		resp, err := a.cfg.Client.Announce(actx, ts.url, a.request(ev, ts.trackerID))
		cancel()
		now := time.Now()
		known := a.cfg.Client.record(ctx, ts.url, a.cfg.InfoHash, err, a.log)
		if err != nil {
			a.updateStatus(ts, func(s *TrackerStatus) {
				s.Status, s.Error, s.LastAnnounce = StatusError, err.Error(), now
			})
			if ctx.Err() != nil {
				return nil, ev, false, ctx.Err()
			}
			logged = logged && known
			a.log.Debug("tracker announce failed", "tier", t.index, "url", ts.url, "event", ev.String(), "err", err)
			errs = append(errs, err)
			continue
		}
		ts.started = true
		if resp.TrackerID != "" {
			ts.trackerID = resp.TrackerID
		}
		copy(t.urls[1:i+1], t.urls[:i])
		t.urls[0] = ts
		a.updateStatus(ts, func(s *TrackerStatus) {
			s.Status, s.Error, s.LastAnnounce = StatusWorking, "", now
			s.Peers, s.Seeders, s.Leechers = len(resp.Peers), resp.Seeders, resp.Leechers
		})
		if resp.Warning != "" {
			a.log.Warn("tracker warning", "url", redact(ts.url), "warning", resp.Warning)
		}
		a.log.Debug("tracker announce", "tier", t.index, "url", redact(ts.url), "event", ev.String(),
			"peers", len(resp.Peers), "interval", resp.Interval)
		if a.cfg.OnPeers != nil && len(resp.Peers) > 0 {
			a.cfg.OnPeers(resp.Peers)
		}
		return resp, ev, false, nil
	}
	return nil, event, logged, errors.Join(errs...)
}

// sendStopped sends "stopped" to every URL of t that acknowledged "started",
// with a fresh deadline since ctx is already done.
func (a *Announcer) sendStopped(ctx context.Context, t *tier) {
	for _, ts := range t.urls {
		if !ts.started {
			continue
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.StoppedTimeout)
		_, err := a.cfg.Client.Announce(sctx, ts.url, a.request(EventStopped, ts.trackerID))
		cancel()
		if err != nil {
			a.log.Debug("tracker stopped announce failed", "url", redact(ts.url), "err", err)
		}
		ts.started = false
	}
	now := time.Time{}
	for _, ts := range t.urls {
		a.updateStatus(ts, func(s *TrackerStatus) { s.NextAnnounce = now })
	}
}

// request builds the announce request for event.
func (a *Announcer) request(event Event, trackerID string) AnnounceRequest {
	req := AnnounceRequest{
		InfoHash:  a.cfg.InfoHash,
		PeerID:    a.cfg.PeerID,
		Port:      a.cfg.Port,
		Event:     event,
		NumWant:   a.cfg.NumWant,
		Key:       a.key,
		TrackerID: trackerID,
	}
	if event == EventStopped {
		req.NumWant = 0
	}
	if a.cfg.Stats != nil {
		req.Uploaded, req.Downloaded, req.Left = a.cfg.Stats()
	}
	return req
}

func (a *Announcer) updateStatus(ts *trackerState, f func(*TrackerStatus)) {
	a.mu.Lock()
	f(&ts.status)
	a.mu.Unlock()
}

func (a *Announcer) setNext(t *tier, next time.Time) {
	for _, ts := range t.urls {
		a.updateStatus(ts, func(s *TrackerStatus) { s.NextAnnounce = next })
	}
}
