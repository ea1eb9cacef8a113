package tracker

import (
	"context"
	"strings"
	"sync"
)

// MaxPerHost bounds the announces a Client has in flight to one tracker
// host; others wait their turn (bounded by their own deadline). Ten
// thousand torrents announcing "stopped" to one tracker at once would
// otherwise open ten thousand connections, overflow the tracker's accept
// queue and wait for SYN retransmits: the announces are faster one queue
// after another. A host that hangs holds up only its own queue.
const MaxPerHost = 64

// hostLimit is a counting semaphore per tracker host. A host's entry
// exists while someone holds or waits for one of its slots, so the map
// stays as small as the hosts in use.
type hostLimit struct {
	mu    sync.Mutex
	hosts map[string]*hostSlots
}

type hostSlots struct {
	c     chan struct{} // capacity MaxPerHost: one value per slot taken
	users int           // holding or waiting; guarded by hostLimit.mu
}

// acquire takes a slot for host, waiting until one is free or ctx is
// done; release gives it back.
func (h *hostLimit) acquire(ctx context.Context, host string) (release func(), err error) {
	host = strings.ToLower(host)
	h.mu.Lock()
	if h.hosts == nil {
		h.hosts = make(map[string]*hostSlots)
	}
	e := h.hosts[host]
	if e == nil {
		e = &hostSlots{c: make(chan struct{}, MaxPerHost)}
		h.hosts[host] = e
	}
	e.users++
	h.mu.Unlock()
	done := func() {
		h.mu.Lock()
		if e.users--; e.users == 0 {
			delete(h.hosts, host)
		}
		h.mu.Unlock()
	}
	select {
	case e.c <- struct{}{}:
		return func() { <-e.c; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
