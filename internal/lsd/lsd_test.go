package lsd

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// heard is one OnPeer call.
type heard struct {
	hash [20]byte
	addr netip.AddrPort
}

// recorder collects OnPeer calls.
type recorder struct {
	mu     sync.Mutex
	events []heard
}

func (r *recorder) onPeer(h [20]byte, a netip.AddrPort) {
	r.mu.Lock()
	r.events = append(r.events, heard{h, a})
	r.mu.Unlock()
}

// snapshot returns a copy of the calls so far.
func (r *recorder) snapshot() []heard {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]heard(nil), r.events...)
}

// count returns how many calls were for h.
func (r *recorder) count(h [20]byte) int {
	n := 0
	for _, e := range r.snapshot() {
		if e.hash == h {
			n++
		}
	}
	return n
}

// newLoopback starts an instance on 127.0.0.1:0 advertising port; its
// group is a placeholder until pointed somewhere with setGroup.
func newLoopback(t *testing.T, port uint16, interval time.Duration, rec *recorder) *LSD {
	t.Helper()
	cfg := Config{Group: "127.0.0.1:9", Listen: "127.0.0.1:0", Port: port, Interval: interval}
	if rec != nil {
		cfg.OnPeer = rec.onPeer
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// newPair starts two loopback instances announcing to each other.
func newPair(t *testing.T, interval time.Duration) (a, b *LSD, ra, rb *recorder) {
	t.Helper()
	ra, rb = &recorder{}, &recorder{}
	a = newLoopback(t, 6881, interval, ra)
	b = newLoopback(t, 6882, interval, rb)
	a.setGroup(b.Addr())
	b.setGroup(a.Addr())
	return a, b, ra, rb
}

// rawSender returns a UDP socket on loopback for hand-made packets.
func rawSender(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sendRaw writes p from c to dst.
func sendRaw(t *testing.T, c *net.UDPConn, dst netip.AddrPort, p string) {
	t.Helper()
	if _, err := c.WriteToUDPAddrPort([]byte(p), dst); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no port", Config{Group: "127.0.0.1:9", Listen: "127.0.0.1:0"}},
		{"group not an address", Config{Group: "lsd.example:6771", Listen: "127.0.0.1:0", Port: 1}},
		{"group without port", Config{Group: "127.0.0.1", Listen: "127.0.0.1:0", Port: 1}},
		{"group port zero", Config{Group: "127.0.0.1:0", Listen: "127.0.0.1:0", Port: 1}},
		{"group unspecified", Config{Group: "0.0.0.0:6771", Listen: "127.0.0.1:0", Port: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.cfg)
			if err == nil {
				l.Close()
				t.Fatal("New succeeded")
			}
			if !errors.Is(err, ErrBadConfig) {
				t.Fatalf("New err = %v, want ErrBadConfig", err)
			}
		})
	}
}

func TestTwoInstancesHearEachOther(t *testing.T) {
	a, b, ra, rb := newPair(t, time.Hour)
	h1, h2, h3 := hashOf(1), hashOf(2), hashOf(3)

	a.Announce(h1)
	testutil.WaitFor(t, 5*time.Second, "B to hear A", func() bool { return rb.count(h1) == 1 })
	want := heard{h1, netip.MustParseAddrPort("127.0.0.1:6881")}
	if got := rb.snapshot(); len(got) != 1 || got[0] != want {
		t.Fatalf("B heard %v, want [%v]", got, want)
	}

	b.Announce(h2, h3, h2)
	testutil.WaitFor(t, 5*time.Second, "A to hear B", func() bool { return len(ra.snapshot()) >= 2 })
	got := ra.snapshot()
	wantA := []heard{{h2, netip.MustParseAddrPort("127.0.0.1:6882")}, {h3, netip.MustParseAddrPort("127.0.0.1:6882")}}
	if len(got) != 2 || got[0] != wantA[0] || got[1] != wantA[1] {
		t.Fatalf("A heard %v, want %v", got, wantA)
	}
	if n := ra.count(h1); n != 0 {
		t.Fatalf("A heard its own announce %d times", n)
	}
}

func TestOwnAnnouncesIgnored(t *testing.T) {
	rec := &recorder{}
	l := newLoopback(t, 6881, time.Hour, rec)
	l.setGroup(l.Addr()) // everything we send comes straight back
	own, foreign := hashOf(1), hashOf(2)
	l.Announce(own)
	// A foreign announce sent afterwards arrives after ours (loopback keeps
	// order), so once it is heard ours has been read and dropped.
	raw := rawSender(t)
	sendRaw(t, raw, l.Addr(), announce("Host: x", "Port: 7000", "Infohash: "+fmt.Sprintf("%x", foreign), "cookie: other"))
	testutil.WaitFor(t, 5*time.Second, "foreign announce", func() bool { return rec.count(foreign) == 1 })
	if n := rec.count(own); n != 0 {
		t.Fatalf("own announce reported %d times", n)
	}
}

func TestWirePacketsAndBatching(t *testing.T) {
	l := newLoopback(t, 51413, time.Hour, nil)
	sink := rawSender(t)
	l.setGroup(netip.MustParseAddrPort(sink.LocalAddr().String()))
	var hashes [][20]byte
	for i := range 20 {
		hashes = append(hashes, hashOf(byte(i)))
	}
	l.Announce(hashes...)

	var got [][20]byte
	buf := make([]byte, 4096)
	for len(got) < len(hashes) {
		sink.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := sink.Read(buf)
		if err != nil {
			t.Fatalf("read after %d hashes: %v", len(got), err)
		}
		if n > MaxPacketSize {
			t.Fatalf("packet of %d bytes exceeds %d", n, MaxPacketSize)
		}
		m, err := Parse(buf[:n])
		if err != nil {
			t.Fatalf("Parse(sent packet): %v\n%q", err, buf[:n])
		}
		if m.Port != 51413 || m.Cookie != l.cookie || m.Host != sink.LocalAddr().String() {
			t.Fatalf("packet = %+v, want port 51413, our cookie %q, host %s", m, l.cookie, sink.LocalAddr())
		}
		wantN := min(MaxInfoHashes, len(hashes)-len(got))
		if len(m.InfoHashes) != wantN {
			t.Fatalf("packet carries %d hashes, want %d", len(m.InfoHashes), wantN)
		}
		got = append(got, m.InfoHashes...)
	}
	for i := range hashes {
		if got[i] != hashes[i] {
			t.Fatalf("hash %d = %x, want %x", i, got[i], hashes[i])
		}
	}
}

func TestSetTorrentsReannounces(t *testing.T) {
	const interval = 100 * time.Millisecond
	a, _, _, rb := newPair(t, interval)
	h1, h2 := hashOf(1), hashOf(2)

	start := time.Now()
	a.SetTorrents([][20]byte{h1, h2})
	testutil.WaitFor(t, 5*time.Second, "three announces of each", func() bool { return rb.count(h1) >= 3 && rb.count(h2) >= 3 })
	elapsed := time.Since(start)
	// At most one announce per interval, plus the immediate one; wide margin.
	if limit := int(elapsed/interval) + 3; rb.count(h1) > limit {
		t.Fatalf("h1 announced %d times in %v, want at most %d", rb.count(h1), elapsed, limit)
	}

	// h1 leaves the set: it stops being announced while h2 goes on.
	a.SetTorrents([][20]byte{h2})
	time.Sleep(interval) // let an in-flight round land
	n1, n2 := rb.count(h1), rb.count(h2)
	testutil.WaitFor(t, 5*time.Second, "more announces of h2", func() bool { return rb.count(h2) >= n2+3 })
	if got := rb.count(h1); got != n1 {
		t.Fatalf("h1 announced %d more times after leaving the set", got-n1)
	}

	// An empty set stops announcing.
	a.SetTorrents(nil)
	time.Sleep(interval) // let an in-flight round land
	n2 = rb.count(h2)
	// A sleep: the test checks that announces stop, and nothing signals an
	// announce not sent; three rounds would have gone out by now.
	time.Sleep(3 * interval)
	if got := rb.count(h2); got != n2 {
		t.Fatalf("h2 announced %d more times after the set was emptied", got-n2)
	}
}

func TestSetTorrentsRespectsRoundGap(t *testing.T) {
	// With a long interval a newly added torrent waits for the round gap
	// (min(Interval, 1 min)); nothing is sent twice in a burst.
	a, _, _, rb := newPair(t, time.Hour)
	h1, h2 := hashOf(1), hashOf(2)
	a.SetTorrents([][20]byte{h1})
	testutil.WaitFor(t, 5*time.Second, "first announce", func() bool { return rb.count(h1) == 1 })
	a.SetTorrents([][20]byte{h1, h2})
	// A sleep: the test checks that no burst is sent, and nothing signals
	// an announce not sent.
	time.Sleep(200 * time.Millisecond)
	if n1, n2 := rb.count(h1), rb.count(h2); n1 != 1 || n2 != 0 {
		t.Fatalf("after a second SetTorrents within the round gap: h1 %d, h2 %d announces; want 1, 0", n1, n2)
	}
}

func TestHostileInput(t *testing.T) {
	rec := &recorder{}
	l := newLoopback(t, 6881, time.Hour, rec)
	raw := rawSender(t)
	bad := fmt.Sprintf("%x", hashOf(0xee))
	packets := []string{
		announce("Port: 0", "Infohash: "+bad),
		announce("Infohash: " + bad),
		announce("Port: 7000", "Infohash: "+bad[:39]),
		"M-SEARCH * HTTP/1.1\r\nPort: 7000\r\nInfohash: " + bad + "\r\n\r\n\r\n",
		announce("Port: 7000", "Infohash: "+bad, "X-Pad: "+string(make([]byte, 1500))), // oversized
		string(make([]byte, 65000)),                                                    // oversized and binary
		"",
	}
	for _, p := range packets {
		sendRaw(t, raw, l.Addr(), p)
	}
	good := hashOf(0x11)
	sendRaw(t, raw, l.Addr(), announce("Port: 7000", "Infohash: "+fmt.Sprintf("%x", good)))
	testutil.WaitFor(t, 5*time.Second, "the valid announce", func() bool { return rec.count(good) == 1 })
	if got := rec.snapshot(); len(got) != 1 || got[0].addr != netip.MustParseAddrPort("127.0.0.1:7000") {
		t.Fatalf("heard %v, want only the valid announce from 127.0.0.1:7000", got)
	}
}

func TestFloodIsRateLimited(t *testing.T) {
	rec := &recorder{}
	l := newLoopback(t, 6881, time.Hour, rec)
	raw := rawSender(t)
	const flood = 300
	start := time.Now()
	for i := range flood {
		h := hashOf(byte(i))
		h[19] = byte(i >> 8)
		sendRaw(t, raw, l.Addr(), announce("Port: 7000", "Infohash: "+fmt.Sprintf("%x", h)))
	}
	// After the bucket refills one more announce gets through; once it is
	// heard every flood packet before it has been handled.
	time.Sleep(time.Second / perIPRate * 2) // real time for the bucket to refill (real sockets: no synctest)
	marker := hashOf(0xfe)
	sendRaw(t, raw, l.Addr(), announce("Port: 7000", "Infohash: "+fmt.Sprintf("%x", marker)))
	testutil.WaitFor(t, 5*time.Second, "the marker announce", func() bool { return rec.count(marker) == 1 })
	// Tokens earned between the first packet and the marker bound what
	// got through, however slowly the reader drained the socket.
	elapsed := time.Since(start)
	got := len(rec.snapshot()) - 1
	limit := perIPBurst + int(elapsed.Seconds()*perIPRate) + 1
	if got > limit || got < 1 {
		t.Fatalf("%d of %d flood announces handled in %v, want 1..%d", got, flood, elapsed, limit)
	}
}

func TestCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	var all []*LSD
	for range 5 {
		a, b, _, rb := newPair(t, 20*time.Millisecond)
		a.SetTorrents([][20]byte{hashOf(1)})
		testutil.WaitFor(t, 5*time.Second, "an announce", func() bool { return rb.count(hashOf(1)) > 0 })
		all = append(all, a, b)
	}
	// Each instance runs two goroutines; goroutines left over from earlier
	// tests may exit meanwhile, so ask for at least one per instance.
	if n := runtime.NumGoroutine(); n < before+len(all) {
		t.Fatalf("only %d goroutines running with %d instances (had %d)", n, len(all), before)
	}
	for _, l := range all {
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		l.Announce(hashOf(2)) // harmless after Close
		l.SetTorrents([][20]byte{hashOf(2)})
	}
	testutil.WaitFor(t, 5*time.Second, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before+2 })
}

func TestMulticastSocketOpens(t *testing.T) {
	// Opens (and closes) the real multicast receive socket without ever
	// sending: no SetTorrents, no Announce.
	l, err := New(Config{Port: 6881})
	if err != nil {
		t.Skipf("no multicast socket here: %v", err)
	}
	if got := l.Addr().Port(); got != 6771 {
		t.Errorf("Addr port = %d, want 6771", got)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
