package session

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
)

// checkLogWindow is how long the checks that finish after a first one are
// gathered into its summary line.
const checkLogWindow = 5 * time.Second

// checkLog sums up finished data checks. At a start thousands of torrents
// confirm their resume data within seconds, and a line each would flood
// the log; each torrent logs its result at debug level, and checkLog
// writes one info line for the checks that finish within window of the
// first: how many, how many complete, or for a lone check its torrent.
type checkLog struct {
	log    *slog.Logger
	window time.Duration

	mu         sync.Mutex
	n, full    int
	first      metainfo.Hash
	firstName  string
	have, size int
	timer      *time.Timer
}

// checked records a finished check of torrent h (name), which found have
// of pieces.
func (c *checkLog) checked(h metainfo.Hash, name string, have, pieces int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if have == pieces {
		c.full++
	}
	if c.n == 1 {
		c.first, c.firstName, c.have, c.size = h, name, have, pieces
		c.timer = time.AfterFunc(c.window, c.flush)
	}
}

// flush writes the summary of the checks gathered, if any.
func (c *checkLog) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	switch {
	case c.n == 0:
		return
	case c.n == 1:
		c.log.Info("data checked", "info_hash", c.first.String(), "name", c.firstName, "have", c.have, "pieces", c.size)
	default:
		c.log.Info("data checked", "torrents", c.n, "complete", c.full, "incomplete", c.n-c.full)
	}
	c.n, c.full = 0, 0
}
