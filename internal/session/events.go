package session

import (
	"errors"
	"sync"
	"time"
)

// The event stream.
//
// A Broker tells subscribers what changes in a list of torrents: which are
// added and removed, which change state, how their progress moves, and the
// totals of the whole list. It keeps its own view of the list (the last
// status it saw of each torrent), so that a new subscriber's first event,
// a snapshot of that view, and the events that follow it always add up to
// the list as the broker sees it.
//
// Adds and removes are told by the session as they happen (Added,
// Removed). State changes and progress are found by comparing snapshots:
// every half second the session hands Update the status of every torrent (an
// atomic load of each torrent's published stats, no call into its loop),
// and Update compares each with the broker's view. Progress events are
// throttled to one per torrent per ProgressInterval; a change held back is
// sent at a later tick, so the last figures always arrive.
//
// Publishing never blocks: each subscriber has a queue of fixed size, and a
// subscriber whose queue is full is dropped (its channel closed, Err
// reporting ErrOverflow). A slow reader therefore costs the publisher
// nothing. The number of subscribers is bounded too.
//
// Lock order: Session.mu, then Broker.mu (the session tells adds while
// registering the torrent, so that no tick can see it first). The broker
// never calls back into the session.

// EventType names an event of the stream; it is the SSE event name.
type EventType string

// Event types.
const (
	// EventSnapshot is every subscription's first event: Data is a
	// Snapshot.
	EventSnapshot EventType = "snapshot"
	// EventAdded tells a new torrent: Data is its Status.
	EventAdded EventType = "torrent-added"
	// EventRemoved tells a removed torrent: Data is a TorrentRemoved.
	EventRemoved EventType = "torrent-removed"
	// EventState tells a torrent's change of state: Data is a StateChange.
	EventState EventType = "torrent-state"
	// EventProgress tells a torrent's new figures: Data is a Progress.
	EventProgress EventType = "torrent-progress"
	// EventStats tells the totals of the session (every second in a
	// session): Data is a SessionStats.
	EventStats EventType = "session-stats"
)

// Event is one event of the stream.
type Event struct {
	// ID numbers the broker's events from 1, in the order they were
	// published (the snapshot takes the number of the last event before
	// it).
	ID   uint64
	Type EventType
	// Data is a Snapshot, a Status, a TorrentRemoved, a StateChange, a
	// Progress or a SessionStats, according to Type.
	Data any
}

// Snapshot is the first event of a subscription: every torrent, in the
// order they were added, and the session's totals.
type Snapshot struct {
	Torrents []Status     `json:"torrents"`
	Stats    SessionStats `json:"stats"`
}

// TorrentRemoved is the data of a torrent-removed event.
type TorrentRemoved struct {
	InfoHash string `json:"info_hash"`
}

// StateChange is the data of a torrent-state event: the torrent's whole
// status and the state it left.
type StateChange struct {
	Status
	PreviousState State `json:"previous_state"`
}

// Progress is the data of a torrent-progress event: the figures of a
// torrent that move while it runs.
type Progress struct {
	InfoHash     string  `json:"info_hash"`
	State        State   `json:"state"`
	Progress     float64 `json:"progress"`
	Completed    int64   `json:"completed"`
	TotalSize    int64   `json:"total_size"`
	Downloaded   int64   `json:"downloaded"`
	Uploaded     int64   `json:"uploaded"`
	DownloadRate int64   `json:"download_rate"`
	UploadRate   int64   `json:"upload_rate"`
	Peers        int     `json:"peers"`
	Seeds        int     `json:"seeds"`
	ETASeconds   int64   `json:"eta"`
	Ratio        float64 `json:"ratio"`
	Finished     bool    `json:"finished"`
}

// SessionStats are the totals over every torrent of the session.
type SessionStats struct {
	Torrents int `json:"torrents"`
	// States counts the torrents in each state; every state is present.
	States       map[State]int `json:"states"`
	DownloadRate int64         `json:"download_rate"` // bytes per second, all torrents
	UploadRate   int64         `json:"upload_rate"`
	Downloaded   int64         `json:"downloaded"` // payload bytes, all torrents (since each was added or restored)
	Uploaded     int64         `json:"uploaded"`
	TotalSize    int64         `json:"total_size"`
	Completed    int64         `json:"completed"` // verified bytes
	Peers        int           `json:"peers"`
}

// Errors of subscriptions.
var (
	// ErrOverflow ends a subscription whose queue was full: its reader was
	// too slow.
	ErrOverflow = errors.New("event subscriber too slow: dropped")
	// ErrTooManySubscribers refuses a subscription beyond the limit.
	ErrTooManySubscribers = errors.New("too many event subscribers")
)

// Defaults of BrokerConfig.
const (
	DefaultMaxSubscribers   = 64
	DefaultEventQueue       = 256
	DefaultProgressInterval = time.Second
)

// BrokerConfig configures a Broker; zero fields mean their defaults.
type BrokerConfig struct {
	// MaxSubscribers bounds the subscriptions at once.
	MaxSubscribers int
	// QueueSize is how many events a subscriber may fall behind before it
	// is dropped.
	QueueSize int
	// ProgressInterval is the least time between two progress events of
	// one torrent.
	ProgressInterval time.Duration
}

// Broker publishes the events of a list of torrents to its subscribers.
// It is safe for concurrent use.
type Broker struct {
	cfg BrokerConfig

	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	closed bool
	seq    uint64
	order  []string
	view   map[string]*watched
	// stale is set while Run skips its updates for want of subscribers:
	// the view must be refreshed before the next subscriber's snapshot.
	stale bool
}

// watched is the broker's view of one torrent.
type watched struct {
	st     Status
	sent   Progress // the figures last sent
	sentAt time.Time
}

// NewBroker returns a Broker with an empty list.
func NewBroker(cfg BrokerConfig) *Broker {
	if cfg.MaxSubscribers <= 0 {
		cfg.MaxSubscribers = DefaultMaxSubscribers
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultEventQueue
	}
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = DefaultProgressInterval
	}
	return &Broker{cfg: cfg, subs: map[*Subscription]struct{}{}, view: map[string]*watched{}}
}

// Subscription is one subscriber's stream of events.
type Subscription struct {
	b   *Broker
	c   chan Event
	err error // why c was closed; guarded by b.mu
}

// Events returns the channel of events. It is closed when the
// subscription ends; Err then says why.
func (s *Subscription) Events() <-chan Event { return s.c }

// Err returns why the subscription ended: ErrOverflow when the subscriber
// fell too far behind, ErrClosed when the broker closed, nil after Cancel
// or while it runs.
func (s *Subscription) Err() error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.err
}

// Cancel ends the subscription and closes its channel (if it is still
// open). It may be called more than once.
func (s *Subscription) Cancel() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.dropLocked(s, nil)
}

// Subscribe starts a subscription. Its first event, already queued, is a
// snapshot of the list. It fails with ErrTooManySubscribers at the limit
// and ErrClosed once the broker is closed.
func (b *Broker) Subscribe() (*Subscription, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if len(b.subs) >= b.cfg.MaxSubscribers {
		return nil, ErrTooManySubscribers
	}
	s := &Subscription{b: b, c: make(chan Event, b.cfg.QueueSize+1)}
	snap := Snapshot{Torrents: make([]Status, 0, len(b.order)), Stats: b.statsLocked()}
	for _, h := range b.order {
		snap.Torrents = append(snap.Torrents, b.view[h].st)
	}
	s.c <- Event{ID: b.seq, Type: EventSnapshot, Data: snap}
	b.subs[s] = struct{}{}
	return s, nil
}

// Subscribers returns the number of subscriptions running.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Added tells a torrent added to the list; a torrent already in the list
// is ignored.
func (b *Broker) Added(st Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.view[st.InfoHash]; ok || b.closed {
		return
	}
	b.order = append(b.order, st.InfoHash)
	b.view[st.InfoHash] = &watched{st: st, sent: progressOf(st), sentAt: time.Now()}
	b.publishLocked(EventAdded, st)
}

// Removed tells a torrent removed from the list; an unknown one is
// ignored.
func (b *Broker) Removed(infoHash string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.view[infoHash]; !ok || b.closed {
		return
	}
	delete(b.view, infoHash)
	for i, h := range b.order {
		if h == infoHash {
			b.order = append(b.order[:i], b.order[i+1:]...)
			break
		}
	}
	b.publishLocked(EventRemoved, TorrentRemoved{InfoHash: infoHash})
}

// Update compares the current status of the torrents with the broker's
// view: it publishes a torrent-state event for each torrent whose state
// changed and a torrent-progress event for each whose figures changed (at
// most one per ProgressInterval). Torrents
// not in the view (not yet told by Added, or already removed) are ignored,
// and so are torrents of the view missing from list.
func (b *Broker) Update(list []Status) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	for _, st := range list {
		w := b.view[st.InfoHash]
		if w == nil {
			continue
		}
		prev := w.st.State
		w.st = st
		p := progressOf(st)
		switch {
		case st.State != prev:
			b.publishLocked(EventState, StateChange{Status: st, PreviousState: prev})
			w.sent = p
		case p != w.sent && now.Sub(w.sentAt) >= b.cfg.ProgressInterval:
			b.publishLocked(EventProgress, p)
			w.sent, w.sentAt = p, now
		}
	}
}

// PublishStats publishes the totals of the broker's view, a
// session-stats event.
func (b *Broker) PublishStats() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.publishLocked(EventStats, b.statsLocked())
	}
}

// Run calls Update with list() every interval, and PublishStats after
// every statsEvery-th Update, until stop is closed.
func (b *Broker) Run(stop <-chan struct{}, interval time.Duration, statsEvery int, list func() []Status) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-stop:
			return
		case <-t.C:
			if !b.watched() {
				continue // nobody to tell: no list of every torrent twice a second
			}
			b.Update(list())
			if statsEvery <= 1 || n%statsEvery == 0 {
				b.PublishStats()
			}
		}
	}
}

// watched reports whether anyone subscribes; when nobody does it marks
// the view stale (Refresh).
func (b *Broker) watched() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.subs) == 0 {
		b.stale = true
		return false
	}
	return true
}

// Stale reports whether the view missed updates while nobody subscribed;
// Refresh it before a subscription's snapshot.
func (b *Broker) Stale() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stale
}

// Refresh sets the view to list without publishing anything: what changed
// while nobody subscribed is no event.
func (b *Broker) Refresh(list []Status) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, st := range list {
		if w := b.view[st.InfoHash]; w != nil {
			w.st, w.sent, w.sentAt = st, progressOf(st), now
		}
	}
	b.stale = false
}

// Close ends every subscription (Err: ErrClosed) and refuses new ones.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		b.dropLocked(s, ErrClosed)
	}
}

func (b *Broker) publishLocked(typ EventType, data any) {
	b.seq++
	ev := Event{ID: b.seq, Type: typ, Data: data}
	for s := range b.subs {
		select {
		case s.c <- ev:
		default:
			b.dropLocked(s, ErrOverflow)
		}
	}
}

// dropLocked ends subscription s with err, once.
func (b *Broker) dropLocked(s *Subscription, err error) {
	if _, ok := b.subs[s]; !ok {
		return
	}
	delete(b.subs, s)
	s.err = err
	close(s.c)
}

func (b *Broker) statsLocked() SessionStats {
	st := SessionStats{States: make(map[State]int, len(eventStates))}
	for _, s := range eventStates {
		st.States[s] = 0
	}
	for _, h := range b.order {
		t := b.view[h].st
		st.Torrents++
		st.States[t.State]++
		st.DownloadRate += t.DownloadRate
		st.UploadRate += t.UploadRate
		st.Downloaded += t.Downloaded
		st.Uploaded += t.Uploaded
		st.TotalSize += t.TotalSize
		st.Completed += t.Completed
		st.Peers += t.Peers
	}
	return st
}

// eventStates are the states SessionStats.States always has a key for:
// every state of the session (the API's tests check them against
// docs/api.md).
var eventStates = []State{StateMetadata, StateChecking, StateDownloading, StateSeeding, StatePaused, StateQueued, StateError}

func progressOf(st Status) Progress {
	return Progress{
		InfoHash: st.InfoHash, State: st.State, Progress: st.Progress,
		Completed: st.Completed, TotalSize: st.TotalSize,
		Downloaded: st.Downloaded, Uploaded: st.Uploaded,
		DownloadRate: st.DownloadRate, UploadRate: st.UploadRate,
		Peers: st.Peers, Seeds: st.Seeds, ETASeconds: st.ETASeconds,
		Ratio: st.Ratio, Finished: st.Finished,
	}
}

// eventInterval is how often the session compares the torrents' stats with
// the event broker's view: half the progress interval, so that a torrent
// that keeps moving sends progress about every second, not every other
// second when a tick comes a little early; and a state change is told
// within half a second. The totals are published every other tick.
const eventInterval = DefaultProgressInterval / 2

// startEvents starts the loop that finds state changes and progress for
// the event stream. It runs until Close.
func (s *Session) startEvents() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.events.Run(s.closeC, eventInterval, 2, s.List)
	}()
}

// Subscribe starts a subscription to the session's events; its first
// event is a snapshot of every torrent. Cancel it when done. It fails with
// ErrTooManySubscribers beyond DefaultMaxSubscribers and ErrClosed once
// the session (or its event stream) is closed.
func (s *Session) Subscribe() (*Subscription, error) {
	if s.events.Stale() {
		s.events.Refresh(s.List()) // List takes s.mu, which is taken before the broker's lock
	}
	return s.events.Subscribe()
}

// CloseEvents ends every event subscription and refuses new ones, so that
// an HTTP server's graceful shutdown need not wait for its event streams.
// Close does it too.
func (s *Session) CloseEvents() { s.events.Close() }
