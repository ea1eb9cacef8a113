package tracker

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestAnnounceCountsByHost announces to a tracker that answers, one that
// refuses, and one the caller gives up on, and checks the counts by host.
func TestAnnounceCountsByHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "refuse") {
			fmt.Fprint(w, "d14:failure reason6:go awaye")
			return
		}
		fmt.Fprint(w, "d8:intervali1800e5:peers0:e")
	}))
	defer srv.Close()
	c := NewClient(ClientConfig{})
	defer c.Close()
	ctx := context.Background()
	// The same server under two names: 127.0.0.1 and localhost.
	other := strings.Replace(srv.URL, "127.0.0.1", "LocalHost", 1)
	for range 2 {
		if _, err := c.Announce(ctx, srv.URL+"/announce?passkey=SECRET", AnnounceRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Announce(ctx, other+"/refuse", AnnounceRequest{}); err == nil {
		t.Fatal("a refusing tracker's announce succeeded")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Announce(cctx, other+"/announce", AnnounceRequest{}); err == nil {
		t.Fatal("a cancelled announce succeeded")
	}
	got := c.AnnounceCounts()
	want := []HostCount{{Host: "127.0.0.1", Announces: 2}, {Host: "localhost", Announces: 2, Errors: 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}

// TestAnnounceCountsBounded feeds more hosts than maxCountedHosts: the
// table stops growing and the rest count under OtherHosts.
func TestAnnounceCountsBounded(t *testing.T) {
	var h hostCounts
	ctx := context.Background()
	for i := range maxCountedHosts + 50 {
		h.add(ctx, &url.URL{Scheme: "udp", Host: fmt.Sprintf("t%d.example:80", i)}, nil)
	}
	h.add(ctx, &url.URL{Scheme: "udp", Host: strings.Repeat("\xff", 400) + ":80"}, fmt.Errorf("x"))
	c := &Client{}
	c.counts.m = h.m
	got := c.AnnounceCounts()
	if len(got) != maxCountedHosts+1 {
		t.Fatalf("%d hosts counted, want %d", len(got), maxCountedHosts+1)
	}
	var others HostCount
	for _, hc := range got {
		if hc.Host == OtherHosts {
			others = hc
		}
	}
	if others.Announces != 51 || others.Errors != 1 {
		t.Errorf("other hosts: %+v, want 51 announces, 1 error", others)
	}
	// A hostile host name is cut and made valid UTF-8 (label values must be).
	var h2 hostCounts
	h2.add(ctx, &url.URL{Scheme: "udp", Host: "a" + strings.Repeat("\xff", 400) + ":80"}, nil)
	for k := range h2.m {
		if !utf8.ValidString(k) || len(k) > maxHostLen || !strings.HasPrefix(k, "a") {
			t.Errorf("hostile host counted as %q (%d bytes)", k, len(k))
		}
	}
	// A known host keeps being counted under its name.
	h.add(ctx, &url.URL{Scheme: "udp", Host: "t0.example:80"}, nil)
	if h.m["t0.example"].Announces != 2 {
		t.Errorf("t0.example: %+v", h.m["t0.example"])
	}
}
