package transmission

import (
	"sync"
	"time"

	"github.com/gobit/gobit/internal/session"
)

// Bounds of the registry.
const (
	// recentWindow is how long a change keeps a torrent "recently active",
	// and a removal in the "removed" list (Transmission's 60 s).
	recentWindow = 60 * time.Second
	// maxRemoved bounds the remembered removals.
	maxRemoved = 1000
)

// registry gives torrents their numeric ids and remembers what it observes
// between requests: when each torrent last changed or moved data, when it
// completed and started, and how long it spent downloading and seeding.
// It learns by comparing the session's list at each request.
type registry struct {
	mu      sync.Mutex
	next    int
	gen     uint64 // counts observations; record.gen is the last to list it
	byHash  map[string]*record
	byID    map[int]string
	removed []removal
}

type removal struct {
	id int
	at time.Time
}

// record is what the registry knows of one torrent.
type record struct {
	id int
	// last is the status at the last observation (shared: read only), and
	// seen its time; gen is that observation's registry.gen.
	last *session.Status
	seen time.Time
	gen  uint64
	// changed is when any visible value last changed; active when payload
	// last moved; done when the wanted data was last seen to complete;
	// started when the torrent was last seen to start.
	changed, active, done, started     time.Time
	secondsDownloading, secondsSeeding float64
}

func newRegistry() *registry {
	return &registry{next: 1, byHash: map[string]*record{}, byID: map[int]string{}}
}

func running(s session.State) bool {
	switch s {
	case session.StateDownloading, session.StateSeeding, session.StateMetadata, session.StateChecking:
		return true
	}
	return false
}

// observe brings the registry up to date with the session's list and
// returns each listed torrent's record (copies), in the list's order.
func (g *registry) observe(list []*session.Status, now time.Time) []record {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gen++
	out := make([]record, len(list))
	for i, st := range list {
		r := g.byHash[st.InfoHash]
		if r == nil {
			r = &record{id: g.next, changed: now, last: st, seen: now, gen: g.gen}
			g.next++
			g.byHash[st.InfoHash] = r
			g.byID[r.id] = st.InfoHash
			if running(st.State) {
				r.started = now
			}
			if st.DownloadRate > 0 || st.UploadRate > 0 {
				r.active = now
			}
			out[i] = *r
			continue
		}
		dt := now.Sub(r.seen).Seconds()
		switch r.last.State {
		case session.StateDownloading, session.StateMetadata:
			r.secondsDownloading += dt
		case session.StateSeeding:
			r.secondsSeeding += dt
		}
		if st.DownloadRate > 0 || st.UploadRate > 0 || st.Downloaded != r.last.Downloaded || st.Uploaded != r.last.Uploaded {
			r.active = now
		}
		// The same shared Status is the same status: nothing else changed.
		if st != r.last {
			if running(st.State) && !running(r.last.State) {
				r.started = now
			}
			if st.Progress >= 1 && r.last.Progress < 1 && st.WantedSize > 0 {
				r.done = now
			}
			if visibleChange(r.last, st) {
				r.changed = now
			}
		}
		r.last, r.seen, r.gen = st, now, g.gen
		out[i] = *r
	}
	if len(g.byHash) > len(list) {
		for h, r := range g.byHash {
			if r.gen != g.gen {
				delete(g.byHash, h)
				delete(g.byID, r.id)
				g.removed = append(g.removed, removal{id: r.id, at: now})
			}
		}
	}
	g.pruneRemoved(now)
	return out
}

func (g *registry) pruneRemoved(now time.Time) {
	i := 0
	for i < len(g.removed) && (now.Sub(g.removed[i].at) > recentWindow || len(g.removed)-i > maxRemoved) {
		i++
	}
	g.removed = append(g.removed[:0], g.removed[i:]...)
}

// recentlyRemoved returns the ids of torrents removed in the last
// recentWindow.
func (g *registry) recentlyRemoved(now time.Time) []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pruneRemoved(now)
	ids := make([]int, 0, len(g.removed))
	for _, r := range g.removed {
		ids = append(ids, r.id)
	}
	return ids
}

// visibleChange reports whether a client would see a difference.
func visibleChange(a, b *session.Status) bool {
	return a.State != b.State || a.Name != b.Name || a.Error != b.Error || a.Completed != b.Completed ||
		a.Downloaded != b.Downloaded || a.Uploaded != b.Uploaded || a.DownloadRate != b.DownloadRate ||
		a.UploadRate != b.UploadRate || a.Peers != b.Peers || a.SaveDir != b.SaveDir ||
		a.QueuePosition != b.QueuePosition || a.TotalSize != b.TotalSize || a.WantedSize != b.WantedSize ||
		a.UploadLimit != b.UploadLimit || a.DownloadLimit != b.DownloadLimit || a.RatioLimit != b.RatioLimit ||
		a.Sequential != b.Sequential || !equalStrings(a.Tags, b.Tags) || a.Category != b.Category
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
