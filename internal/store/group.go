package store

import (
	"sync"

	"go.etcd.io/bbolt"
)

// Group commit.
//
// Every write transaction ends in an fsync, and on a busy disk that costs
// milliseconds: adding 10,000 torrents one commit each is bounded by it.
// Writes that arrive while a commit is in progress therefore wait and are
// committed together in the next transaction, one fsync for all of them.
// A write that finds the store idle commits at once, so a lone write waits
// for nothing (unlike bbolt's Batch, which waits for a fixed delay), and
// each caller still returns only once its write is on disk.
//
// If a grouped transaction fails, each of its writes is retried in a
// transaction of its own, so that one bad write (say, a record too large)
// cannot fail the others; the functions must therefore be safe to run more
// than once, as plain puts and deletes are.

// maxGroup bounds the writes of one grouped transaction.
const maxGroup = 256

// groupReq is one write waiting for a grouped commit.
type groupReq struct {
	fn   func(*bbolt.Tx) error
	done chan error // buffered (1)
}

// committer queues writes for the next grouped commit.
type committer struct {
	mu      sync.Mutex
	pending []*groupReq
	running bool
}

// updateGrouped runs fn in a write transaction, possibly shared with other
// writes, and returns once that transaction is committed (or fn failed).
func (s *Store) updateGrouped(fn func(tx *bbolt.Tx) error) error {
	req := &groupReq{fn: fn, done: make(chan error, 1)}
	g := &s.group
	g.mu.Lock()
	g.pending = append(g.pending, req)
	if g.running {
		g.mu.Unlock()
		return <-req.done
	}
	g.running = true
	g.mu.Unlock()
	s.drainGroups()
	return <-req.done
}

// drainGroups commits one group of pending writes (the caller's own among
// them: the store was idle when it queued it) and hands the writes queued
// meanwhile to a new goroutine, so that no caller waits for more than the
// commit before its own and its own. Only one drainGroups runs at a time
// (committer.running).
func (s *Store) drainGroups() {
	g := &s.group
	g.mu.Lock()
	n := min(len(g.pending), maxGroup)
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()
	s.commitGroup(batch)
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pending) == 0 {
		g.pending = nil
		g.running = false
		return
	}
	go s.drainGroups()
}

// commitGroup commits batch in one transaction, or each write alone when
// that fails, and tells every caller its result.
func (s *Store) commitGroup(batch []*groupReq) {
	if len(batch) > 1 {
		err := s.update(func(tx *bbolt.Tx) error {
			for _, r := range batch {
				if err := r.fn(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			for _, r := range batch {
				r.done <- nil
			}
			return
		}
	}
	for _, r := range batch {
		r.done <- s.update(r.fn)
	}
}
