package tracker

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// eventsFor returns the events tr received from peer port.
func eventsFor(tr *trackertest.Tracker, port uint16) []string {
	var out []string
	for _, e := range tr.Events() {
		if e.Peer.Port() == port {
			out = append(out, e.Event)
		}
	}
	return out
}

// TestAnnouncerEvents runs an Announcer with an HTTP tier and a UDP tier and
// checks that each tier sees started, completed (once) and stopped, that
// peers reach OnPeers and that Status reports both trackers.
func TestAnnouncerEvents(t *testing.T) {
	trHTTP, trUDP := trackertest.New(t), trackertest.New(t)
	c := fastClient(t, time.Second, 2)
	ih := [20]byte{7: 7}
	// Another peer is already in both swarms.
	for _, u := range []string{trHTTP.HTTPURL(), trUDP.UDPURL()} {
		if _, err := c.Announce(context.Background(), u, testReq(ih, 9, 9999)); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu  sync.Mutex
		got []netip.AddrPort
	)
	a := NewAnnouncer(AnnouncerConfig{
		Client:   c,
		Tiers:    [][]string{{trHTTP.HTTPURL()}, {trUDP.UDPURL()}},
		InfoHash: ih, PeerID: [20]byte{0: 1}, Port: 5000, NumWant: 10,
		Stats:       func() (int64, int64, int64) { return 1, 2, 3 },
		OnPeers:     func(p []netip.AddrPort) { mu.Lock(); got = append(got, p...); mu.Unlock() },
		MinInterval: 50 * time.Millisecond,
	})
	for _, s := range a.Status() {
		if s.Status != StatusNotContacted {
			t.Errorf("before Run: %+v", s)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()

	testutil.WaitFor(t, 10*time.Second, "started on both tiers", func() bool {
		return slices.Equal(eventsFor(trHTTP, 5000), []string{"started"}) && slices.Equal(eventsFor(trUDP, 5000), []string{"started"})
	})
	testutil.WaitFor(t, 10*time.Second, "peers", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 })
	if got[0] != ap("127.0.0.1:9999") || got[1] != got[0] {
		t.Errorf("OnPeers got %v", got)
	}
	a.Completed()
	a.Completed()
	testutil.WaitFor(t, 10*time.Second, "completed on both tiers", func() bool {
		st := a.Status()
		return len(eventsFor(trHTTP, 5000)) == 2 && len(eventsFor(trUDP, 5000)) == 2 &&
			st[0].Status == StatusWorking && st[1].Status == StatusWorking
	})
	for _, s := range a.Status() {
		if s.Status != StatusWorking || s.Peers != 1 || s.LastAnnounce.IsZero() || s.NextAnnounce.Before(time.Now().Add(time.Minute)) {
			t.Errorf("status %+v", s)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	for _, tr := range []*trackertest.Tracker{trHTTP, trUDP} {
		if ev := eventsFor(tr, 5000); !slices.Equal(ev, []string{"started", "completed", "stopped"}) {
			t.Errorf("events = %q, want started, completed, stopped", ev)
		}
		if peers := tr.Peers(ih); !slices.Equal(peers, []netip.AddrPort{ap("127.0.0.1:9999")}) {
			t.Errorf("after stop the tracker still has %v", peers)
		}
	}
	e := trHTTP.Events()[1]
	if e.Uploaded != 1 || e.Downloaded != 2 || e.Left != 3 || e.NumWant != 10 || e.PeerID != [20]byte{0: 1} {
		t.Errorf("announce fields: %+v", e)
	}
}

// TestAnnouncerTierFailover puts a failing tracker first in a tier: the
// second is tried, answers, and is promoted to the front.
func TestAnnouncerTierFailover(t *testing.T) {
	bad, good := trackertest.New(t), trackertest.New(t)
	bad.SetFailure("overloaded")
	c := fastClient(t, time.Second, 2)
	a := NewAnnouncer(AnnouncerConfig{Client: c, Tiers: [][]string{{bad.HTTPURL(), good.UDPURL()}}, Port: 1})
	tr := a.tiers[0]
	if tr.urls[0].url != bad.HTTPURL() { // undo the shuffle
		tr.urls[0], tr.urls[1] = tr.urls[1], tr.urls[0]
	}
	ctx := context.Background()
	resp, sent, _, err := a.announceTier(ctx, tr, EventNone)
	if err != nil || sent != EventStarted || resp == nil {
		t.Fatalf("announceTier = %v, %v, %v", resp, sent, err)
	}
	if bad.Announces() != 1 || good.Announces() != 1 {
		t.Fatalf("announces bad=%d good=%d, want 1 and 1", bad.Announces(), good.Announces())
	}
	if tr.urls[0].url != good.UDPURL() {
		t.Errorf("answering tracker not promoted: order %s, %s", tr.urls[0].url, tr.urls[1].url)
	}
	st := a.Status()
	if st[0].Status != StatusError || st[0].Error == "" || st[1].Status != StatusWorking {
		t.Errorf("status = %+v", st)
	}
	if _, sent, _, err = a.announceTier(ctx, tr, EventNone); err != nil || sent != EventNone {
		t.Fatalf("second announceTier: %v, %v", sent, err)
	}
	if bad.Announces() != 1 || good.Announces() != 2 {
		t.Errorf("second round went to the failing tracker: bad=%d good=%d", bad.Announces(), good.Announces())
	}

	// All trackers failing: an error, and nothing promoted.
	good.SetFailure("down too")
	if _, _, _, err := a.announceTier(ctx, tr, EventNone); err == nil {
		t.Error("announceTier succeeded with every tracker failing")
	}
}

// TestAnnouncerIntervalRetryReannounce checks re-announcing at the
// tracker's interval, retrying after failures and Reannounce.
func TestAnnouncerIntervalRetryReannounce(t *testing.T) {
	tr := trackertest.New(t)
	tr.SetInterval(time.Second, 0)
	tr.SetFailure("try later")
	c := fastClient(t, time.Second, 2)
	a := NewAnnouncer(AnnouncerConfig{Client: c, Tiers: [][]string{{tr.HTTPURL()}}, Port: 2, MinInterval: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	testutil.WaitFor(t, 10*time.Second, "retries after failure", func() bool { return tr.Announces() >= 3 })
	if s := a.Status()[0]; s.Status != StatusError && s.Status != StatusUpdating {
		t.Errorf("status while failing = %+v", s)
	}
	tr.SetFailure("")
	testutil.WaitFor(t, 10*time.Second, "success", func() bool { return a.Status()[0].Status == StatusWorking })
	n := tr.Announces()
	testutil.WaitFor(t, 10*time.Second, "re-announce at the 1 s interval", func() bool { return tr.Announces() > n })
	ev := eventsFor(tr, 2)
	// Every announce until the first success carries "started".
	first := slices.Index(ev, "")
	for i, e := range ev[:first] {
		if e != "started" {
			t.Errorf("event %d = %q in %q, want started", i, e, ev)
		}
	}
	if first < 4 {
		t.Errorf("events = %q, want >= 3 failed and 1 successful started first", ev)
	}

	tr.SetInterval(time.Hour, 0)
	n = tr.Announces()
	testutil.WaitFor(t, 10*time.Second, "interval announce", func() bool { return tr.Announces() > n })
	n = tr.Announces()
	a.Reannounce()
	testutil.WaitFor(t, 10*time.Second, "Reannounce", func() bool { return tr.Announces() > n })
}

// TestAnnouncerCancelWhileHung checks that Run returns promptly when ctx is
// canceled while a tracker does not answer, and sends no "stopped" to a
// tracker that never acknowledged "started".
func TestAnnouncerCancelWhileHung(t *testing.T) {
	var mu sync.Mutex
	received := 0
	srv := fakeUDP(t, "127.0.0.1:0", func(*net.UDPConn, []byte, netip.AddrPort) { mu.Lock(); received++; mu.Unlock() })
	c := fastClient(t, time.Hour, 0)
	a := NewAnnouncer(AnnouncerConfig{Client: c, Tiers: [][]string{{"udp://" + srv.LocalAddr().String()}}, Port: 3})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	testutil.WaitFor(t, 10*time.Second, "the connect request", func() bool { mu.Lock(); defer mu.Unlock(); return received == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	mu.Lock()
	defer mu.Unlock()
	if received != 1 {
		t.Errorf("tracker received %d datagrams, want only the first connect", received)
	}
}

func TestNewAnnouncerTiers(t *testing.T) {
	a := NewAnnouncer(AnnouncerConfig{Tiers: [][]string{{"http://a/announce", "http://b/announce", "http://a/announce"}, {}, {"http://b/announce"}, {"udp://c:1"}}})
	if len(a.tiers) != 2 || len(a.tiers[0].urls) != 2 || a.tiers[1].urls[0].url != "udp://c:1" {
		t.Errorf("tiers not deduplicated: %d tiers", len(a.tiers))
	}
	st := a.Status()
	if len(st) != 3 || st[0].URL != "http://a/announce" || st[2].Tier != 1 {
		t.Errorf("status = %+v", st)
	}
	// Run with no tiers returns at once.
	NewAnnouncer(AnnouncerConfig{}).Run(context.Background())
}

// TestAnnouncersShareScheduler starts 300 announcers on one Client: once
// their "started" announces are answered, they wait for their next
// announce without a goroutine each (the Client's scheduler holds one
// appointment per tier), and Stop sends every "stopped".
func TestAnnouncersShareScheduler(t *testing.T) {
	tr := trackertest.New(t)
	tr.SetInterval(time.Hour, 0)
	c := fastClient(t, time.Second, 2)
	before := runtime.NumGoroutine()
	const n = 300
	var as []*Announcer
	for i := range n {
		a := NewAnnouncer(AnnouncerConfig{Client: c, Tiers: [][]string{{tr.HTTPURL()}}, InfoHash: [20]byte{0: byte(i), 1: byte(i >> 8)}, Port: 4000})
		a.Start()
		as = append(as, a)
	}
	testutil.WaitFor(t, 30*time.Second, "every started announce answered", func() bool {
		for _, a := range as {
			if a.Status()[0].Status != StatusWorking {
				return false
			}
		}
		return true
	})
	testutil.WaitFor(t, 10*time.Second, "announce goroutines to end", func() bool {
		c.http.CloseIdleConnections() // kept-alive connections have goroutines of their own
		return runtime.NumGoroutine() < before+n/10
	})
	if p := c.sched.pending(); p != n {
		t.Errorf("scheduler holds %d appointments, want %d", p, n)
	}
	for _, a := range as {
		a.Stop()
	}
	for _, a := range as {
		select {
		case <-a.Stop():
		case <-time.After(20 * time.Second):
			t.Fatal("Stop did not finish")
		}
	}
	if p := c.sched.pending(); p != 0 {
		t.Errorf("%d appointments left after Stop", p)
	}
	stopped := 0
	for _, e := range tr.Events() {
		if e.Event == "stopped" {
			stopped++
		}
	}
	if stopped != n {
		t.Errorf("%d stopped announces, want %d", stopped, n)
	}
}

// TestSchedulerOrder checks that appointments run in time order, that a
// moved appointment runs at its new time, that a cancelled one never runs
// and that the scheduler's goroutine ends when nothing is left.
func TestSchedulerOrder(t *testing.T) {
	s := newScheduler()
	var mu sync.Mutex
	var got []int
	items := make([]*schedItem, 4)
	for i := range items {
		items[i] = &schedItem{index: -1, fn: func() { mu.Lock(); got = append(got, i); mu.Unlock() }}
	}
	now := time.Now()
	s.set(items[0], now.Add(300*time.Millisecond))
	s.set(items[1], now.Add(100*time.Millisecond))
	s.set(items[2], now.Add(200*time.Millisecond))
	s.set(items[3], now.Add(50*time.Millisecond))
	s.set(items[0], now.Add(10*time.Millisecond)) // moved first
	s.cancel(items[2])
	testutil.WaitFor(t, 10*time.Second, "three callbacks", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, []int{0, 3, 1}) {
		t.Errorf("ran %v, want [0 3 1]", got)
	}
	testutil.WaitFor(t, 10*time.Second, "the loop to exit", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return !s.running })
}

// TestAnnouncesPerHostBounded: announces to one tracker host wait their
// turn beyond MaxPerHost in flight, and all get through.
func TestAnnouncesPerHostBounded(t *testing.T) {
	var mu sync.Mutex
	inFlight, peak := 0, 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		_, _ = w.Write([]byte("d8:intervali60e5:peers0:e"))
	}))
	defer srv.Close()
	c := NewClient(ClientConfig{})
	const n = 3 * MaxPerHost
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := c.Announce(context.Background(), srv.URL+"/announce", testReq([20]byte{0: byte(i)}, 1, 1000))
			errs <- err
		})
	}
	testutil.WaitFor(t, 10*time.Second, "the first announces to arrive", func() bool { mu.Lock(); defer mu.Unlock(); return inFlight == MaxPerHost })
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if peak != MaxPerHost {
		t.Errorf("%d announces in flight to one host at most, want %d", peak, MaxPerHost)
	}
	// A waiter gives up at its deadline.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Announce(ctx, srv.URL+"/announce", testReq([20]byte{}, 1, 1000)); err == nil {
		t.Error("announce with a done context succeeded")
	}
}

// TestHostLimitForgetsIdleHosts: a host's slots are dropped once nobody
// holds or waits for them.
func TestHostLimitForgetsIdleHosts(t *testing.T) {
	var h hostLimit
	rel1, err := h.acquire(context.Background(), "A.example")
	if err != nil {
		t.Fatal(err)
	}
	rel2, _ := h.acquire(context.Background(), "a.example")
	rel1()
	if len(h.hosts) != 1 {
		t.Errorf("%d hosts while one slot is held", len(h.hosts))
	}
	rel2()
	if len(h.hosts) != 0 {
		t.Errorf("%d hosts kept after every slot was released", len(h.hosts))
	}
}
