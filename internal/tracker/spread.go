package tracker

import (
	"sync"
	"time"
)

// Spreading first announces.
//
// A daemon that starts with thousands of torrents would otherwise send
// every torrent's "started" at once: a burst of 10,000 announces that a
// tracker answers slowly or not at all (and rate-limits), after which the
// re-announces stay bunched at the same interval for ever. Instead the
// Client hands each tier's first announce a slot: slots are at least
// 1/AnnounceRate apart, so N torrents started together announce over
// N/AnnounceRate seconds, and, since each tier then waits its tracker's
// interval from its own slot, their re-announces stay spread too. A torrent
// added to an idle daemon gets a slot at once.
//
// There are two lanes with a schedule each: torrents that want peers
// (downloading, or a magnet fetching its metadata) and background ones
// (seeds, marked AnnouncerConfig.Background), so a restart with thousands
// of seeds queued does not delay the first announce of a download. Only
// first announces take slots: a re-announce follows its tracker's interval,
// and a retry its backoff.

// DefaultAnnounceRate is the most first announces per second a Client
// starts in each lane when ClientConfig.AnnounceRate is zero: 10,000
// torrents restored at once announce over about 8 minutes.
const DefaultAnnounceRate = 20

// spreader hands out announce slots; it is safe for concurrent use.
type spreader struct {
	gap  time.Duration // 0: no spreading
	mu   sync.Mutex
	last [2]time.Time // the slot handed out last, by lane
}

// newSpreader returns a spreader for rate first announces per second
// (DefaultAnnounceRate if zero, no spreading if negative).
func newSpreader(rate float64) *spreader {
	if rate == 0 {
		rate = DefaultAnnounceRate
	}
	s := &spreader{}
	if rate > 0 {
		s.gap = max(time.Duration(float64(time.Second)/rate), time.Microsecond)
	}
	return s
}

// reserve returns the time at which a first announce asked for at now may
// be sent, and takes that slot.
func (s *spreader) reserve(now time.Time, background bool) time.Time {
	if s == nil || s.gap <= 0 {
		return now
	}
	lane := 0
	if background {
		lane = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	slot := nextSlot(now, s.last[lane], s.gap)
	s.last[lane] = slot
	return slot
}

// nextSlot is the spreading policy: the slot after last that is at least
// gap later, or now when the lane has been quiet for that long.
func nextSlot(now, last time.Time, gap time.Duration) time.Time {
	if t := last.Add(gap); t.After(now) {
		return t
	}
	return now
}
