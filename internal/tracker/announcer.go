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
	// DefaultStoppedTimeout bounds the "stopped" announces sent on exit,
	// all of a torrent's at once: a tracker that does not answer by then
	// forgets the peer at its interval anyway, and a daemon with
	// thousands of torrents must stop within seconds (libtorrent's
	// stop_tracker_timeout is 1 s too).
	DefaultStoppedTimeout = time.Second
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
// with NewAnnouncer, then Start and Stop it (or call Run once).
//
// An Announcer owns no goroutine while it waits: each tier's next announce
// is an appointment in its Client's scheduler (schedule.go), and an
// announce runs in a goroutine that ends with it. When a tier announces
// next is decided here (the policy: nextAfter, retryDelay); who runs it is
// the scheduler's business.
type Announcer struct {
	cfg   AnnouncerConfig
	key   uint32
	log   *slog.Logger
	tiers []*tier
	sched *scheduler

	completedOnce sync.Once

	// smu guards the run state below and every tier's schedule fields.
	// It is taken before mu, never after.
	smu      sync.Mutex
	started  bool
	stopped  bool
	ctx      context.Context // cancelled by Stop: in-flight announces end
	cancel   context.CancelFunc
	inflight sync.WaitGroup // tier announces running
	done     chan struct{}  // closed when Stop's "stopped" announces ended

	mu       sync.Mutex      // guards the status field of every trackerState
	statuses []*trackerState // fixed order: tier, then configured order
}

// tier is one BEP 12 tier. urls and the URLs' started and trackerID are
// used by one goroutine at a time: the tier's announce (running) or, after
// Stop, the "stopped" announces. The schedule fields are guarded by
// Announcer.smu.
type tier struct {
	index int
	urls  []*trackerState // shuffled once; the URL that answers moves to the front
	item  schedItem

	running          bool // an announce of this tier is in flight
	completedPending bool
	failures         int
	interval         time.Duration // from the last success; 0 = unknown
	minAllowed       time.Duration
	last, next       time.Time
}

// trackerState is one URL of a tier. started and trackerID belong to the
// tier's announce; status is guarded by Announcer.mu.
type trackerState struct {
	url       string
	started   bool // the tracker acknowledged "started"
	trackerID string
	status    TrackerStatus
}

// NewAnnouncer returns an Announcer for cfg. It sends nothing until Start
// (or Run).
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
	a := &Announcer{cfg: cfg, key: rand.Uint32(), log: cfg.Logger, done: make(chan struct{})}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Client != nil && cfg.Client.sched != nil {
		a.sched = cfg.Client.sched
	} else {
		a.sched = newScheduler()
	}
	seen := make(map[string]bool)
	for _, urls := range cfg.Tiers {
		t := &tier{index: len(a.tiers), minAllowed: cfg.MinInterval}
		t.item.index = -1
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
		t.item.fn = func() { a.fire(t) }
		a.tiers = append(a.tiers, t)
	}
	return a
}

// Start schedules "started" to every tier at once, and re-announces at the
// trackers' intervals until Stop. Only the first call has an effect, and
// none after Stop.
func (a *Announcer) Start() {
	a.smu.Lock()
	defer a.smu.Unlock()
	if a.started || a.stopped {
		return
	}
	a.started = true
	a.ctx, a.cancel = context.WithCancel(context.Background())
	now := time.Now()
	for _, t := range a.tiers {
		// The first announce waits for its slot (spread.go).
		t.next = a.cfg.Client.spread.reserve(now, a.cfg.Background)
		a.sched.set(&t.item, t.next)
	}
}

// Stop ends the announcing: scheduled announces are dropped, one in flight
// is cancelled, then "stopped" goes to every tracker that acknowledged
// "started" (each bounded by StoppedTimeout). The returned channel is
// closed when that is done. Stop may be called more than once, also
// before Start.
func (a *Announcer) Stop() <-chan struct{} {
	a.smu.Lock()
	if a.stopped {
		a.smu.Unlock()
		return a.done
	}
	a.stopped = true
	started := a.started
	if started {
		a.cancel()
		for _, t := range a.tiers {
			a.sched.cancel(&t.item)
		}
	}
	a.smu.Unlock()
	if !started {
		close(a.done)
		return a.done
	}
	go func() {
		defer close(a.done)
		a.inflight.Wait()
		var wg sync.WaitGroup
		for _, t := range a.tiers {
			wg.Go(func() { a.sendStopped(t) })
		}
		wg.Wait()
	}()
	return a.done
}

// Run starts the Announcer, waits for ctx to be done, stops it and returns
// once the "stopped" announces are over. It returns at once if there are
// no trackers.
func (a *Announcer) Run(ctx context.Context) {
	if len(a.tiers) == 0 {
		return
	}
	a.Start()
	<-ctx.Done()
	<-a.Stop()
}

// Completed queues a "completed" announce to every tier. Only the first call
// has an effect.
func (a *Announcer) Completed() {
	a.completedOnce.Do(func() {
		a.smu.Lock()
		defer a.smu.Unlock()
		now := time.Now()
		for _, t := range a.tiers {
			t.completedPending = true
			if !t.last.IsZero() { // else the first announce is due, in its slot
				t.next = now
				a.scheduleLocked(t)
			}
		}
	})
}

// Reannounce asks every tier to announce as soon as the minimum interval
// allows, for example because the torrent needs more peers.
func (a *Announcer) Reannounce() {
	a.smu.Lock()
	defer a.smu.Unlock()
	for _, t := range a.tiers {
		if allowed := t.last.Add(t.minAllowed); !t.last.IsZero() && allowed.Before(t.next) {
			t.next = allowed
			a.scheduleLocked(t)
		}
	}
}

// scheduleLocked puts t's next announce in the scheduler, unless the
// Announcer is not running or t's announce is in flight (it schedules the
// next one when it ends). a.smu is held.
func (a *Announcer) scheduleLocked(t *tier) {
	if !a.started || a.stopped || t.running {
		return
	}
	a.sched.set(&t.item, t.next)
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

// fire runs one announce of tier t when its appointment is due (in a
// goroutine of its own), then makes the next appointment.
func (a *Announcer) fire(t *tier) {
	a.smu.Lock()
	if a.stopped || t.running {
		a.smu.Unlock()
		return
	}
	t.running = true
	event := EventNone
	if t.completedPending {
		event = EventCompleted
	}
	ctx := a.ctx
	a.inflight.Add(1)
	a.smu.Unlock()
	defer a.inflight.Done()

	resp, sent, logged, err := a.announceTier(ctx, t, event)

	a.smu.Lock()
	t.running = false
	if a.stopped {
		a.smu.Unlock()
		return
	}
	now := time.Now()
	if err != nil {
		t.failures++
		t.next = now.Add(a.retryDelay(t.failures, t.interval))
		// Trackers that could not be reached are logged by the Client,
		// once per outage (health.go); any other failure once per run of
		// failures of this tier.
		lvl := slog.LevelDebug
		if t.failures == 1 && !logged {
			lvl = slog.LevelWarn
		}
		a.log.Log(ctx, lvl, "tracker announce failed", "tier", t.index, "err", err, "retry_in", t.next.Sub(now).Round(time.Second))
	} else {
		t.failures = 0
		t.last = now
		if sent == EventCompleted {
			t.completedPending = false
		}
		t.interval = resp.Interval
		if t.interval <= 0 {
			t.interval = DefaultInterval
		}
		t.minAllowed = max(resp.MinInterval, a.cfg.MinInterval)
		t.next = now.Add(max(t.interval, t.minAllowed))
		if t.completedPending {
			t.next = now // "started" went first; send "completed" right after
		}
	}
	next := t.next
	a.scheduleLocked(t)
	a.smu.Unlock()
	a.setNext(t, next)
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

// sendStopped sends "stopped" to every URL of t that acknowledged
// "started", all at once, each bounded by StoppedTimeout. It runs after
// t's last announce ended.
func (a *Announcer) sendStopped(t *tier) {
	var wg sync.WaitGroup
	for _, ts := range t.urls {
		if !ts.started {
			continue
		}
		ts.started = false
		wg.Go(func() {
			sctx, cancel := context.WithTimeout(context.Background(), a.cfg.StoppedTimeout)
			_, err := a.cfg.Client.Announce(sctx, ts.url, a.request(EventStopped, ts.trackerID))
			cancel()
			if err != nil {
				a.log.Debug("tracker stopped announce failed", "url", redact(ts.url), "err", err)
			}
		})
	}
	wg.Wait()
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
