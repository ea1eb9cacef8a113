package torrent

// streamWindow is the time-critical window of one stream reader: n pieces
// from first on, the nearest most urgent.
type streamWindow struct {
	first, n int
}

// streams holds the windows of the open stream readers, by reader id, and
// the readers waiting for pieces. Loop-owned.
type streams struct {
	nextID  int
	win     map[int]streamWindow
	waiters map[int][]chan struct{}
}

// priority returns how urgent piece i is for the streams: 0 when no window
// holds it, else n - distance from the window's start (the largest of the
// windows holding it), so the piece a reader needs next comes first.
func (s *streams) priority(i int) int {
	best := 0
	for _, w := range s.win {
		if i >= w.first && i < w.first+w.n {
			best = max(best, w.n-(i-w.first))
		}
	}
	return best
}
