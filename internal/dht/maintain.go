package dht

import (
	"context"
	"crypto/rand"
	"time"
)

// Maintenance parameters.
const (
	// RefreshInterval: a bucket unchanged for this long is refreshed with a
	// lookup of a random ID in its range (BEP 5).
	RefreshInterval = 15 * time.Minute
	// maxRefreshPerRound bounds the bucket refreshes of one round.
	maxRefreshPerRound = 4
	// maxPingsPerRound bounds the questionable nodes pinged per round.
	maxPingsPerRound = 8
)

// maintain runs maintenance every Config.MaintenanceInterval until Close.
func (s *Server) maintain() {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.closeC:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(s.cfg.MaintenanceInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closeC:
			return
		case <-t.C:
			s.maintainOnce(ctx, time.Now())
		}
	}
}

// maintainOnce rotates the token secret, expires stored peers, pings
// questionable nodes, refreshes stale buckets and re-bootstraps an empty
// table.
func (s *Server) maintainOnce(ctx context.Context, now time.Time) {
	s.tokens.maybeRotate(now)
	s.peers.expire(now)
	s.limiter.sweep(now)

	s.mu.Lock()
	qs := s.table.questionable(now, maxPingsPerRound)
	empty := len(s.table.buckets) == 1 && len(s.table.buckets[0].nodes) == 0
	var targets [][20]byte
	for _, i := range s.table.staleBuckets(now, RefreshInterval) {
		if len(targets) == maxRefreshPerRound {
			break
		}
		var rnd [20]byte
		rand.Read(rnd[:])
		targets = append(targets, s.table.randomIDIn(i, rnd))
		s.table.touchBucket(i, now)
	}
	s.mu.Unlock()

	for _, n := range qs {
		s.pingNodeAsync(n)
	}
	if empty {
		if len(s.cfg.Bootstrap) > 0 || len(s.cfg.Nodes) > 0 {
			if err := s.Bootstrap(ctx); err != nil {
				s.log.Debug("dht re-bootstrap", "err", err)
			}
		}
		return
	}
	for _, target := range targets {
		seeds, addrs := s.startNodes(ctx, target)
		s.lookup(ctx, target, "find_node", seeds, addrs)
	}
}
