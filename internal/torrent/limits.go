package torrent

import "sync/atomic"

// Slots is a counting limit shared by several torrents, e.g. the session's
// maximum number of peer connections. A nil *Slots is unlimited.
type Slots struct {
	max  int64
	used atomic.Int64
}

// NewSlots returns a limit of max; max <= 0 means unlimited.
func NewSlots(max int) *Slots { return &Slots{max: int64(max)} }

// TryAcquire takes a slot if one is free.
func (s *Slots) TryAcquire() bool {
	if s == nil || s.max <= 0 {
		return true
	}
	for {
		u := s.used.Load()
		if u >= s.max {
			return false
		}
		if s.used.CompareAndSwap(u, u+1) {
			return true
		}
	}
}

// Release returns a slot taken with TryAcquire.
func (s *Slots) Release() {
	if s == nil || s.max <= 0 {
		return
	}
	s.used.Add(-1)
}

// Used returns the number of slots taken.
func (s *Slots) Used() int {
	if s == nil {
		return 0
	}
	return int(s.used.Load())
}
