package tracker

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// fastClient returns a Client with short UDP timeouts for tests.
func fastClient(t *testing.T, base time.Duration, retries int) *Client {
	t.Helper()
	c := NewClient(ClientConfig{UDPTimeout: base, UDPMaxRetries: retries})
	t.Cleanup(func() { c.Close() })
	return c
}

func testReq(ih [20]byte, peer byte, port uint16) AnnounceRequest {
	return AnnounceRequest{InfoHash: ih, PeerID: [20]byte{0: peer}, Port: port, Left: 100, Event: EventStarted, NumWant: -1, Key: 1}
}

// TestAnnounceBothProtocols announces two peers to the in-process tracker
// over HTTP and over UDP: the second gets the first back, and scrape counts
// both.
func TestAnnounceBothProtocols(t *testing.T) {
	for _, proto := range []string{"http", "udp"} {
		t.Run(proto, func(t *testing.T) {
			tr := trackertest.New(t)
			url := tr.HTTPURL()
			if proto == "udp" {
				url = tr.UDPURL()
			}
			c := fastClient(t, 2*time.Second, 2)
			ctx := context.Background()
			ih := [20]byte{0: 0x42, 19: 0x24}
			r1, err := c.Announce(ctx, url, testReq(ih, 1, 1001))
			if err != nil {
				t.Fatal(err)
			}
			if len(r1.Peers) != 0 || r1.Interval != 30*time.Minute {
				t.Errorf("first announce: %+v", r1)
			}
			req2 := testReq(ih, 2, 1002)
			req2.Left = 0
			r2, err := c.Announce(ctx, url, req2)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r2.Peers, []netip.AddrPort{ap("127.0.0.1:1001")}) || r2.Seeders != 1 || r2.Leechers != 1 {
				t.Errorf("second announce: %+v, want peer 127.0.0.1:1001, 1 seeder, 1 leecher", r2)
			}
			sc, err := c.Scrape(ctx, url, [][20]byte{ih, {9}})
			if err != nil {
				t.Fatal(err)
			}
			if sc[ih] != (ScrapeResult{Seeders: 1, Leechers: 1}) {
				t.Errorf("scrape = %v", sc)
			}
			stop := testReq(ih, 1, 1001)
			stop.Event = EventStopped
			if _, err := c.Announce(ctx, url, stop); err != nil {
				t.Fatal(err)
			}
			if got := tr.Peers(ih); !slices.Equal(got, []netip.AddrPort{ap("127.0.0.1:1002")}) {
				t.Errorf("after stopped, tracker has %v", got)
			}
			tr.SetFailure("torrent banned")
			var fe *FailureError
			if _, err := c.Announce(ctx, url, testReq(ih, 1, 1001)); !errors.As(err, &fe) || fe.Reason != "torrent banned" {
				t.Errorf("failure: err = %v", err)
			}
		})
	}
}

// TestUDPRetransmit drops the first datagram (the connect): the client must
// retransmit after the base timeout and succeed.
func TestUDPRetransmit(t *testing.T) {
	tr := trackertest.New(t)
	tr.DropUDP(1)
	c := fastClient(t, 200*time.Millisecond, 3)
	start := time.Now()
	if _, err := c.Announce(context.Background(), tr.UDPURL(), testReq([20]byte{1}, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("answered after %v, before the first timeout: the dropped packet was not the one retried", d)
	}
	if tr.Connects() != 1 || tr.Announces() != 1 {
		t.Errorf("connects=%d announces=%d, want 1 and 1", tr.Connects(), tr.Announces())
	}

	// Dropping the announce (not the connect) also recovers.
	tr.DropUDP(1)
	if _, err := c.Announce(context.Background(), tr.UDPURL(), testReq([20]byte{1}, 2, 2)); err != nil {
		t.Fatal(err)
	}
}

// TestUDPTimeout checks that a tracker that never answers fails with
// ErrTimeout after base·(2^0+…+2^n).
func TestUDPTimeout(t *testing.T) {
	tr := trackertest.New(t)
	tr.DropUDP(1 << 30)
	c := fastClient(t, 50*time.Millisecond, 2)
	start := time.Now()
	_, err := c.Announce(context.Background(), tr.UDPURL(), testReq([20]byte{1}, 1, 1))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 350*time.Millisecond {
		t.Errorf("gave up after %v, want >= 50+100+200 ms", d)
	}
}

// TestUDPConnectionIDReuse checks that the connection ID is reused within
// its lifetime and renewed after it.
func TestUDPConnectionIDReuse(t *testing.T) {
	tr := trackertest.New(t)
	c := fastClient(t, time.Second, 2)
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.Announce(ctx, tr.UDPURL(), testReq([20]byte{1}, byte(i), uint16(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Scrape(ctx, tr.UDPURL(), [][20]byte{{1}}); err != nil {
		t.Fatal(err)
	}
	if n := tr.Connects(); n != 1 {
		t.Errorf("connects = %d after 4 requests within a minute, want 1", n)
	}
	// Age the cached ID past its lifetime.
	c.udp.mu.Lock()
	for k, e := range c.udp.conns {
		e.expires = time.Now().Add(-time.Second)
		c.udp.conns[k] = e
	}
	c.udp.mu.Unlock()
	if _, err := c.Announce(ctx, tr.UDPURL(), testReq([20]byte{1}, 9, 9)); err != nil {
		t.Fatal(err)
	}
	if n := tr.Connects(); n != 2 {
		t.Errorf("connects = %d after expiry, want 2", n)
	}
}

// TestUDPScrapeManyHashes checks that scrapes of more than 74 hashes are
// split into several requests whose results are merged.
func TestUDPScrapeManyHashes(t *testing.T) {
	tr := trackertest.New(t)
	c := fastClient(t, time.Second, 2)
	ctx := context.Background()
	hashes := make([][20]byte, 200)
	for i := range hashes {
		hashes[i] = [20]byte{byte(i), byte(i >> 8), 7}
	}
	if _, err := c.Announce(ctx, tr.UDPURL(), testReq(hashes[150], 1, 1)); err != nil {
		t.Fatal(err)
	}
	res, err := c.Scrape(ctx, tr.UDPURL(), hashes)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 200 || res[hashes[150]].Leechers != 1 || res[hashes[0]].Leechers != 0 {
		t.Errorf("got %d results, hash 150 = %+v", len(res), res[hashes[150]])
	}
	if tr.Scrapes() != 3 {
		t.Errorf("scrapes = %d, want 3 (74+74+52)", tr.Scrapes())
	}
}

// fakeUDP runs handle for every datagram arriving at a socket on addr.
func fakeUDP(t *testing.T, addr string, handle func(conn *net.UDPConn, p []byte, from netip.AddrPort)) *net.UDPConn {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { conn.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			handle(conn, slices.Clone(buf[:n]), from)
		}
	}()
	return conn
}

func tidOf(p []byte) uint32 { return binary.BigEndian.Uint32(p[12:]) }

// TestUDPIgnoresForeignDatagrams sends, before every real answer, one with a
// wrong transaction ID, a short garbage one, and one with the right
// transaction ID from another address. The client must ignore all three.
func TestUDPIgnoresForeignDatagrams(t *testing.T) {
	const realConnID, fakeConnID = 0x1111, 0x2222
	spoofer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer spoofer.Close()
	srv := fakeUDP(t, "127.0.0.1:0", func(conn *net.UDPConn, p []byte, from netip.AddrPort) {
		if len(p) < 16 {
			return
		}
		tid := tidOf(p)
		action := binary.BigEndian.Uint32(p[8:])
		var answer []byte
		switch {
		case action == actionConnect:
			answer = pkt(actionConnect, tid, binary.BigEndian.AppendUint64(nil, realConnID))
			spoofer.WriteToUDPAddrPort(pkt(actionConnect, tid, binary.BigEndian.AppendUint64(nil, fakeConnID)), from)
		case action == actionAnnounce && binary.BigEndian.Uint64(p) == realConnID:
			answer = pkt(actionAnnounce, tid, u32(60, 0, 1), []byte{10, 0, 0, 1, 0, 99})
			spoofer.WriteToUDPAddrPort(pkt(actionAnnounce, tid, u32(60, 0, 1)), from)
		default:
			answer = pkt(actionError, tid, []byte("bad connection id"))
		}
		conn.WriteToUDPAddrPort(pkt(action, tid+1, make([]byte, 16)), from) // wrong tid
		conn.WriteToUDPAddrPort([]byte{1, 2, 3}, from)                      // garbage
		// Let the spoofed answer arrive first. A sleep, because nothing
		// tells this fake tracker that the client has read it.
		time.Sleep(20 * time.Millisecond)
		conn.WriteToUDPAddrPort(answer, from)
	})
	c := fastClient(t, 5*time.Second, 0)
	resp, err := c.Announce(context.Background(), "udp://"+srv.LocalAddr().String(), testReq([20]byte{1}, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(resp.Peers, []netip.AddrPort{ap("10.0.0.1:99")}) {
		t.Errorf("peers = %v, want the real answer's 10.0.0.1:99", resp.Peers)
	}
}

// TestUDPIPv6Tracker checks that a tracker reached over IPv6 is read with
// 18-byte peer entries.
func TestUDPIPv6Tracker(t *testing.T) {
	peer := append(netip.MustParseAddr("2001:db8::1").AsSlice(), 0x1a, 0xe1)
	srv := fakeUDP(t, "[::1]:0", func(conn *net.UDPConn, p []byte, from netip.AddrPort) {
		switch binary.BigEndian.Uint32(p[8:]) {
		case actionConnect:
			conn.WriteToUDPAddrPort(pkt(actionConnect, tidOf(p), make([]byte, 8)), from)
		case actionAnnounce:
			conn.WriteToUDPAddrPort(pkt(actionAnnounce, tidOf(p), u32(60, 1, 0), peer), from)
		}
	})
	c := fastClient(t, 5*time.Second, 0)
	resp, err := c.Announce(context.Background(), "udp://"+srv.LocalAddr().String(), testReq([20]byte{1}, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(resp.Peers, []netip.AddrPort{ap("[2001:db8::1]:6881")}) || resp.Leechers != 1 {
		t.Errorf("resp = %+v", resp)
	}
}

// TestUDPCancelAndClose checks that a canceled context and Close both end a
// wait at once, long before the (one hour) retransmission timeout.
func TestUDPCancelAndClose(t *testing.T) {
	var received atomic.Int32 // requests the silent tracker got
	srv := fakeUDP(t, "127.0.0.1:0", func(*net.UDPConn, []byte, netip.AddrPort) { received.Add(1) })
	url := "udp://" + srv.LocalAddr().String()
	c := fastClient(t, time.Hour, 0)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if _, err := c.Announce(ctx, url, testReq([20]byte{1}, 1, 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %v", d)
	}

	errC := make(chan error, 1)
	before := received.Load()
	go func() {
		_, err := c.Announce(context.Background(), url, testReq([20]byte{1}, 1, 1))
		errC <- err
	}()
	// Close while the announce waits for an answer, not before it starts.
	testutil.WaitFor(t, 10*time.Second, "the second announce to reach the tracker", func() bool { return received.Load() > before })
	c.Close()
	select {
	case err := <-errC:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("after Close: err = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the wait")
	}
	if _, err := c.Announce(context.Background(), url, testReq([20]byte{1}, 1, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("announce after Close: err = %v, want ErrClosed", err)
	}
}

func TestUDPBadURLs(t *testing.T) {
	c := fastClient(t, time.Second, 0)
	for _, u := range []string{"udp://127.0.0.1", "udp://127.0.0.1:0", "udp://127.0.0.1:notaport", "udp://"} {
		if _, err := c.Announce(context.Background(), u, AnnounceRequest{}); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("%s: err = %v, want ErrInvalidURL", u, err)
		}
	}
}
