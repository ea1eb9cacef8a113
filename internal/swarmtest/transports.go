package swarmtest

import (
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
)

// WatchTransports records the transports ("tcp", "utp") of s's peers of
// the torrent hash, polling every few milliseconds, until the returned
// function is called (or the test ends); that function returns what was
// seen. The transfer watched must last longer than a poll.
func WatchTransports(t testing.TB, s *session.Session, hash string) func() map[string]bool {
	return WatchPeers(t, s, hash, func(p session.PeerStatus) string { return p.Transport })
}

// WatchPeers records key(p) for every peer p of the torrent hash that s
// has, polling every few milliseconds, until the returned function is
// called (or the test ends); that function returns the keys seen.
func WatchPeers(t testing.TB, s *session.Session, hash string, key func(session.PeerStatus) string) func() map[string]bool {
	var mu sync.Mutex
	seen := map[string]bool{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if d, err := s.Get(hash); err == nil {
				mu.Lock()
				for _, p := range d.PeerList {
					seen[key(p)] = true
				}
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	finish := func() map[string]bool {
		once.Do(func() { close(stop); <-done })
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
	t.Cleanup(func() { finish() })
	return finish
}
