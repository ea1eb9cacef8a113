package tracker_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker"
)

// TestOpentrackerInterop announces two fake peers (different ports) to the
// real opentracker over HTTP and over UDP: the second gets the first back,
// scrape counts both, and "stopped" removes a peer.
func TestOpentrackerInterop(t *testing.T) {
	ihHTTP, ihUDP := [20]byte{0: 0x11, 19: 0x01}, [20]byte{0: 0x22, 19: 0x02}
	httpURL, udpURL, addHash := testutil.StartOpentracker(t, ihHTTP)
	addHash(ihUDP)
	c := tracker.NewClient(tracker.ClientConfig{UDPTimeout: time.Second, UDPMaxRetries: 2, UserAgent: "gobit-test"})
	defer c.Close()

	for _, tc := range []struct {
		name, url string
		ih        [20]byte
	}{{"http", httpURL, ihHTTP}, {"udp", udpURL, ihUDP}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			req := func(peer byte, port uint16, left int64, ev tracker.Event) tracker.AnnounceRequest {
				return tracker.AnnounceRequest{InfoHash: tc.ih, PeerID: [20]byte{0: peer, 19: peer}, Port: port,
					Left: left, Event: ev, NumWant: 50, Key: uint32(peer)}
			}
			r1, err := c.Announce(ctx, tc.url, req(1, 31001, 0, tracker.EventStarted))
			if err != nil {
				t.Fatal(err)
			}
			if r1.Interval <= 0 {
				t.Errorf("first announce: no interval in %+v", r1)
			}
			r2, err := c.Announce(ctx, tc.url, req(2, 31002, 1000, tracker.EventStarted))
			if err != nil {
				t.Fatal(err)
			}
			want := netip.MustParseAddrPort("127.0.0.1:31001")
			if !slices.Contains(r2.Peers, want) {
				t.Errorf("second announce peers = %v, want %v among them", r2.Peers, want)
			}
			if r2.Seeders != 1 || r2.Leechers != 1 {
				t.Errorf("second announce: seeders=%d leechers=%d, want 1 and 1", r2.Seeders, r2.Leechers)
			}
			sc, err := c.Scrape(ctx, tc.url, [][20]byte{tc.ih})
			if err != nil {
				t.Fatal(err)
			}
			if got := sc[tc.ih]; got.Seeders != 1 || got.Leechers != 1 {
				t.Errorf("scrape = %+v, want 1 seeder and 1 leecher", got)
			}
			if _, err := c.Announce(ctx, tc.url, req(1, 31001, 0, tracker.EventStopped)); err != nil {
				t.Fatal(err)
			}
			r3, err := c.Announce(ctx, tc.url, req(2, 31002, 1000, tracker.EventNone))
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(r3.Peers, want) {
				t.Errorf("stopped peer still returned: %v", r3.Peers)
			}
		})
	}

	// An unlisted hash is refused with a FailureError over HTTP.
	_, err := c.Announce(context.Background(), httpURL, tracker.AnnounceRequest{InfoHash: [20]byte{0: 0x33}, Port: 1, NumWant: -1})
	var fe *tracker.FailureError
	if !errors.As(err, &fe) {
		t.Errorf("unlisted hash: err = %v, want *FailureError", err)
	}
	// Over UDP opentracker answers an unlisted hash with a bare header.
	_, err = c.Announce(context.Background(), udpURL, tracker.AnnounceRequest{InfoHash: [20]byte{0: 0x33}, Port: 1, NumWant: -1})
	if !errors.Is(err, tracker.ErrMalformedResponse) && !errors.As(err, &fe) {
		t.Errorf("unlisted hash over UDP: err = %v, want a refusal", err)
	}
}
