package session

import (
	"fmt"
	"slices"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/store"
	"github.com/gobit/gobit/internal/torrent"
)

// Queueing.
//
// The session's torrents form a queue: the order of List, changed by
// MoveInQueue and saved (setting "queue", a list of info hashes) so that it
// survives restarts. Three limits bound how many torrents run at once:
// downloads, seeds and both together (0: unlimited, the default, which keeps
// every torrent running as before queueing existed). queuePolicy, a pure
// function, decides which torrents run: in queue order, each torrent that
// wants to run takes a slot if one of its kind is free. A torrent that is
// force-started, checking its data, or stalled (running but with no payload
// moved for Config.StallTimeout) runs without holding a slot. The session
// applies the decision every QueueInterval and at once after a change
// (add, resume, a move, new limits, completion): a torrent left without a
// slot is paused and shown "queued"; a queued torrent given one is resumed.
//
// A queued torrent's record keeps Paused false (record() looks at
// entry.queued), so a restart brings it back queued, not paused. The tick
// changes a torrent only under its opMu, after re-reading its record, so a
// user's pause is never undone by a tick that read the state before it.

// Queue defaults.
const (
	// DefaultQueueInterval is how often the queue is re-evaluated.
	DefaultQueueInterval = 2 * time.Second
	// DefaultStallTimeout is how long a running torrent may move no
	// payload before it stops holding a queue slot.
	DefaultStallTimeout = 60 * time.Second
	// MaxQueueLimit bounds the queue limits.
	MaxQueueLimit = 100000
	// queueKey is the setting the queue order is saved under.
	queueKey = "queue"
)

// QueueLimits bound how many torrents run at once; 0 is unlimited.
type QueueLimits struct {
	Downloads int // torrents downloading (or fetching metadata)
	Seeds     int // torrents seeding
	Active    int // both together
}

func (l QueueLimits) limited() bool { return l.Downloads > 0 || l.Seeds > 0 || l.Active > 0 }

// QueueMove is a change of a torrent's place in the queue.
type QueueMove string

// Queue moves.
const (
	QueueTop    QueueMove = "top"
	QueueUp     QueueMove = "up"
	QueueDown   QueueMove = "down"
	QueueBottom QueueMove = "bottom"
)

// queueItem is what the policy knows about one torrent.
type queueItem struct {
	Wants    bool // the user wants it running: not paused, not failed, not finished
	Seeding  bool // it has everything it wants
	Forced   bool // force-started: runs whatever the limits
	Checking bool // verifying data: runs without a slot
	Stalled  bool // running but no payload moved for the stall timeout
}

// queuePolicy decides, for torrents in queue order, which run. It does no
// I/O and reads no clock.
func queuePolicy(items []queueItem, lim QueueLimits) []bool {
	run := make([]bool, len(items))
	var downloads, seeds, active int
	for i, it := range items {
		switch {
		case !it.Wants:
		case it.Forced, it.Checking, it.Stalled:
			run[i] = true
		default:
			limit, n := lim.Downloads, &downloads
			if it.Seeding {
				limit, n = lim.Seeds, &seeds
			}
			if (limit <= 0 || *n < limit) && (lim.Active <= 0 || active < lim.Active) {
				run[i] = true
				*n++
				active++
			}
		}
	}
	return run
}

// queueState is an entry's queue bookkeeping, guarded by Session.mu
// (queued is atomic for status reads).
type queueState struct {
	lastBytes  int64     // payload moved, as of lastActive
	lastActive time.Time // last time payload moved, or the torrent started
}

// initQueue sets the queue limits from the configuration.
func (s *Session) initQueue() {
	s.qlim = QueueLimits{Downloads: s.cfg.MaxActiveDownloads, Seeds: s.cfg.MaxActiveSeeds, Active: s.cfg.MaxActive}
	s.queueKick = make(chan struct{}, 1)
}

// loadQueue applies saved queue limits (those a client set through the
// API) over the configuration's; called by openStore.
func (s *Session) loadQueue() {
	var saved struct {
		Downloads *int64 `json:"max_active_downloads"`
		Seeds     *int64 `json:"max_active_seeds"`
		Active    *int64 `json:"max_active"`
	}
	if ok, err := s.db.Setting(settingsKey, &saved); err != nil || !ok {
		return
	}
	for _, f := range []struct {
		v   *int64
		dst *int
	}{{saved.Downloads, &s.qlim.Downloads}, {saved.Seeds, &s.qlim.Seeds}, {saved.Active, &s.qlim.Active}} {
		if f.v != nil && *f.v >= 0 && *f.v <= MaxQueueLimit {
			*f.dst = int(*f.v)
		}
	}
}

// queueLimits returns the current limits.
func (s *Session) queueLimits() QueueLimits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.qlim
}

// kickQueue asks the queue loop to re-evaluate now.
func (s *Session) kickQueue() {
	select {
	case s.queueKick <- struct{}{}:
	default:
	}
}

// queueLoop applies the queue policy until the session closes.
func (s *Session) queueLoop() {
	defer s.wg.Done()
	every := s.cfg.QueueInterval
	if every <= 0 {
		every = DefaultQueueInterval
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-s.queueKick:
		case <-s.closeC:
			return
		}
		s.queueTick(time.Now())
	}
}

// queueTick decides which torrents run and starts or queues them.
func (s *Session) queueTick(now time.Time) {
	stall := s.cfg.StallTimeout
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	s.mu.Lock()
	lim := s.qlim
	if lim.limited() {
		s.queueWasLimited = true
	}
	if !s.queueWasLimited {
		// Never limited, so nothing is queued: no need to look at 10,000
		// torrents every QueueInterval.
		s.mu.Unlock()
		return
	}
	es := make([]*entry, 0, len(s.order))
	items := make([]queueItem, 0, len(s.order))
	for _, h := range s.order {
		e := s.torrents[h]
		st := e.t.Stats()
		queued := e.queued.Load()
		running := !queued && st.State != torrent.StatePaused && st.State != torrent.StateError
		moved := st.Downloaded + st.Uploaded
		if !running || moved != e.q.lastBytes || e.q.lastActive.IsZero() {
			e.q.lastBytes, e.q.lastActive = moved, now
		}
		es = append(es, e)
		items = append(items, queueItem{
			Wants:    !e.rec.Paused && st.State != torrent.StateError && !st.Finished,
			Seeding:  st.HaveInfo && st.Completed >= st.TotalSize,
			Forced:   e.rec.Forced,
			Checking: st.State == torrent.StateChecking,
			Stalled:  running && now.Sub(e.q.lastActive) >= stall,
		})
	}
	s.mu.Unlock()
	run := queuePolicy(items, lim)
	for i, e := range es {
		// Only a torrent whose lot changes is touched (and locked).
		if items[i].Wants && run[i] == e.queued.Load() {
			s.queueApply(e, run[i])
		}
	}
}

// queueApply starts (run) or queues one torrent, under its opMu and only if
// the user has not paused it meanwhile.
func (s *Session) queueApply(e *entry, run bool) {
	e.opMu.Lock()
	defer e.opMu.Unlock()
	s.mu.Lock()
	paused := e.rec.Paused
	s.mu.Unlock()
	if e.removed || paused {
		return
	}
	switch {
	case run && e.queued.Load():
		if err := e.t.Resume(); err != nil {
			return
		}
		e.queued.Store(false)
		s.mu.Lock()
		e.q.lastActive = time.Now()
		s.mu.Unlock()
		s.log.Info("torrent started by the queue", "info_hash", e.t.InfoHash().String())
	case !run && !e.queued.Load():
		e.queued.Store(true)
		if err := e.t.Pause(); err != nil {
			e.queued.Store(false)
			return
		}
		s.log.Info("torrent queued", "info_hash", e.t.InfoHash().String())
	}
}

// startQueued reports whether a torrent about to start should start
// queued: only when limits are set, and it is neither paused nor forced.
// The next tick starts it if a slot is free.
func (s *Session) startQueued(paused bool, rec *store.Torrent) bool {
	return !paused && !rec.Forced && s.queueLimits().limited()
}

// resumeQueued resumes a torrent the user resumed, through the queue when
// limits are set. Called under e.opMu (from change).
func (s *Session) resumeQueued(e *entry) error {
	if s.queueLimits().limited() && !e.rec.Forced {
		// A torrent stopped by a seeding limit is resumed by the torrent
		// itself (which clears the limit's mark); the queue may then hold
		// it back again.
		if st := e.t.Stats(); st.State == torrent.StatePaused && !st.Finished {
			e.queued.Store(true)
			s.kickQueue()
			return nil
		}
	}
	e.queued.Store(false)
	if err := e.t.Resume(); err != nil {
		return err
	}
	s.kickQueue()
	return nil
}

// ForceStart starts a torrent at once, whatever the queue limits; the
// choice is saved. A pause or a plain resume ends it.
func (s *Session) ForceStart(infoHash string) error {
	e, err := s.lookup(infoHash)
	if err != nil {
		return err
	}
	err = s.change(e, "torrent not force-started", func(r *store.Torrent) { r.Paused, r.Forced = false, true }, func() error {
		e.queued.Store(false)
		e.forced.Store(true)
		return e.t.Resume()
	})
	if err != nil {
		return err
	}
	s.updateDiscovery()
	s.kickQueue()
	return nil
}

// MoveInQueue changes a torrent's place in the queue. The new order is
// saved before it is used.
func (s *Session) MoveInQueue(infoHash string, move QueueMove) error {
	switch move {
	case QueueTop, QueueUp, QueueDown, QueueBottom:
	default:
		return fmt.Errorf("%w: queue move %q: want top, up, down or bottom", ErrInvalid, truncate(string(move), 40))
	}
	e, err := s.lookup(infoHash)
	if err != nil {
		return err
	}
	h := e.t.InfoHash()
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	s.mu.Lock()
	order := moveInOrder(slices.Clone(s.order), h, move)
	s.mu.Unlock()
	if s.db != nil {
		hexes := make([]string, len(order))
		for i, x := range order {
			hexes[i] = x.String()
		}
		if err := s.db.PutSetting(queueKey, hexes); err != nil {
			s.log.Error("queue not changed: cannot save it", "err", err)
			return saveErr("queue not changed", err)
		}
	}
	s.mu.Lock()
	if s.torrents[h] == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrNotFound, h)
	}
	// Applied to the current order: a torrent added or removed meanwhile
	// keeps its place, and the move is the same.
	s.order = moveInOrder(s.order, h, move)
	s.renumberLocked()
	s.mu.Unlock()
	s.kickQueue()
	return nil
}

// moveInOrder moves h within order.
func moveInOrder(order []metainfo.Hash, h metainfo.Hash, move QueueMove) []metainfo.Hash {
	i := slices.Index(order, h)
	if i < 0 {
		return order
	}
	switch move {
	case QueueTop:
		order = slices.Insert(slices.Delete(order, i, i+1), 0, h)
	case QueueBottom:
		order = append(slices.Delete(order, i, i+1), h)
	case QueueUp:
		if i > 0 {
			order[i-1], order[i] = order[i], order[i-1]
		}
	case QueueDown:
		if i < len(order)-1 {
			order[i+1], order[i] = order[i], order[i+1]
		}
	}
	return order
}

// renumberLocked sets every entry's queue position from s.order. The caller
// holds s.mu.
func (s *Session) renumberLocked() {
	for i, h := range s.order {
		if e := s.torrents[h]; e != nil {
			e.pos.Store(int32(i + 1))
		}
	}
}

// sortByQueue orders restored records by the saved queue; torrents it does
// not name (added after the last move) follow, oldest first.
func (s *Session) sortByQueue(recs []store.Torrent) []store.Torrent {
	var hexes []string
	if ok, err := s.db.Setting(queueKey, &hexes); err != nil || !ok {
		if err != nil {
			s.log.Warn("ignoring the unreadable saved queue order", "err", err)
		}
		return recs
	}
	rank := make(map[metainfo.Hash]int, len(hexes))
	for i, x := range hexes {
		if h, err := metainfo.ParseHash(x); err == nil {
			if _, dup := rank[h]; !dup {
				rank[h] = i
			}
		}
	}
	slices.SortStableFunc(recs, func(a, b store.Torrent) int {
		ra, oka := rank[metainfo.Hash(a.InfoHash)]
		rb, okb := rank[metainfo.Hash(b.InfoHash)]
		switch {
		case oka && okb:
			return ra - rb
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0 // both unnamed: keep the oldest-first order
	})
	return recs
}
