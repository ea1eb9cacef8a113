package tracker

import (
	"container/heap"
	"sync"
	"time"
)

// scheduler runs timed callbacks for every Announcer of a Client: the
// announces of thousands of torrents wait in one heap, watched by one
// goroutine, rather than each in a goroutine and timer of its own. The
// goroutine exists only while something is scheduled; each due callback
// runs in a goroutine of its own that ends with it (an announce is
// network I/O and must not hold up the others).
//
// The scheduler is mechanism only: when each tier announces next is the
// Announcer's policy (announceDelay and friends), the scheduler only keeps
// the appointments.
type scheduler struct {
	mu      sync.Mutex
	items   itemHeap
	running bool          // the loop goroutine exists
	wake    chan struct{} // capacity 1: the earliest appointment changed
}

// schedItem is one appointment: fn runs at when. An item is scheduled at
// most once at a time; index is its place in the heap, -1 when not
// scheduled.
type schedItem struct {
	when  time.Time
	fn    func()
	index int
}

func newScheduler() *scheduler {
	return &scheduler{wake: make(chan struct{}, 1)}
}

// set schedules it at when, moving it if it was already scheduled.
func (s *scheduler) set(it *schedItem, when time.Time) {
	s.mu.Lock()
	it.when = when
	if it.index >= 0 {
		heap.Fix(&s.items, it.index)
	} else {
		heap.Push(&s.items, it)
	}
	first := s.items[0] == it
	if !s.running {
		s.running = true
		go s.loop()
	}
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// cancel unschedules it; it is a no-op when it is not scheduled.
func (s *scheduler) cancel(it *schedItem) {
	s.mu.Lock()
	if it.index >= 0 {
		heap.Remove(&s.items, it.index)
	}
	s.mu.Unlock()
}

// pending returns how many appointments are waiting (for tests).
func (s *scheduler) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// loop starts each item's callback when it is due, and exits when nothing
// is scheduled.
func (s *scheduler) loop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := time.Now()
		for len(s.items) > 0 && !s.items[0].when.After(now) {
			it := heap.Pop(&s.items).(*schedItem)
			go it.fn()
		}
		if len(s.items) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		wait := s.items[0].when.Sub(now)
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.wake:
		}
	}
}

// itemHeap orders appointments by time (container/heap).
type itemHeap []*schedItem

func (h itemHeap) Len() int           { return len(h) }
func (h itemHeap) Less(i, j int) bool { return h[i].when.Before(h[j].when) }
func (h itemHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *itemHeap) Push(x any) {
	it := x.(*schedItem)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *itemHeap) Pop() any {
	old := *h
	n := len(old)
	it := old[n-1]
	old[n-1] = nil
	it.index = -1
	*h = old[:n-1]
	return it
}
