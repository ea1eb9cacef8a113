package tracker

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// keepAliveTracker is an HTTP tracker that counts the connections it
// accepts and answers every announce with an empty peer list. Its hold
// makes the next n announces wait until all n have arrived (or 10 s
// passed), so that n are in flight at once.
type keepAliveTracker struct {
	url   string
	conns atomic.Int32

	mu      sync.Mutex
	cond    *sync.Cond
	waitFor int // announces of the current burst not arrived yet
}

func newKeepAliveTracker(t *testing.T) *keepAliveTracker {
	t.Helper()
	k := &keepAliveTracker{}
	k.cond = sync.NewCond(&k.mu)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		if k.waitFor > 0 {
			k.waitFor--
			stop := time.AfterFunc(10*time.Second, func() {
				k.mu.Lock()
				k.waitFor = 0
				k.cond.Broadcast()
				k.mu.Unlock()
			})
			for k.waitFor > 0 {
				k.cond.Wait()
			}
			stop.Stop()
			k.cond.Broadcast()
		}
		k.mu.Unlock()
		w.Write([]byte("d8:completei1e10:incompletei0e8:intervali1800e5:peers0:e"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			k.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	k.url = srv.URL + "/announce"
	return k
}

// hold makes the next n announces wait for each other.
func (k *keepAliveTracker) hold(n int) {
	k.mu.Lock()
	k.waitFor = n
	k.mu.Unlock()
}

// TestHTTPAnnouncesReuseConnections: a Client's announces to one tracker
// go over one kept-alive connection, one after another, and over no more
// connections than were in flight at once (the bound of idle ones per
// host is MaxPerHost, not net/http's default of 2).
func TestHTTPAnnouncesReuseConnections(t *testing.T) {
	for _, c := range []struct {
		name   string
		client func(dials *atomic.Int32) *Client
	}{
		{"default", func(*atomic.Int32) *Client { return NewClient(ClientConfig{}) }},
		{"own dialer (proxy, bound interface)", func(dials *atomic.Int32) *Client {
			var d net.Dialer
			dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return d.DialContext(ctx, network, addr)
			}
			return NewClient(ClientConfig{HTTPClient: &http.Client{Transport: NewHTTPTransport(dial)}})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := newKeepAliveTracker(t)
			var dials atomic.Int32
			cl := c.client(&dials)
			defer cl.Close()
			var req AnnounceRequest
			req.InfoHash[0], req.Port = 1, 6881
			for i := range 20 {
				if _, err := cl.Announce(context.Background(), tr.url, req); err != nil {
					t.Fatalf("announce %d: %v", i, err)
				}
			}
			if n := tr.conns.Load(); n != 1 {
				t.Errorf("20 announces one after another opened %d connections, want 1", n)
			}

			// A burst of 16 in flight at once needs 16 connections; a
			// second such burst reuses them all.
			const n = 16
			burst := func() {
				tr.hold(n)
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() {
						if _, err := cl.Announce(context.Background(), tr.url, req); err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
			}
			burst()
			if got := tr.conns.Load(); got != n {
				t.Errorf("after a burst of %d: %d connections in all, want %d", n, got, n)
			}
			burst()
			if got := tr.conns.Load(); got != n {
				t.Errorf("a second burst of %d opened %d new connections, want 0", n, got-n)
			}
			if c.name != "default" && dials.Load() != tr.conns.Load() {
				t.Errorf("the own dialer opened %d connections, the tracker accepted %d", dials.Load(), tr.conns.Load())
			}
		})
	}
}
