package tracker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEscapeBytesAll256(t *testing.T) {
	const unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	for c := 0; c < 256; c++ {
		got := escapeBytes([]byte{byte(c)})
		want := fmt.Sprintf("%%%02X", c)
		if strings.IndexByte(unreserved, byte(c)) >= 0 {
			want = string(rune(c))
		}
		if got != want {
			t.Errorf("escapeBytes(0x%02x) = %q, want %q", c, got, want)
		}
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	esc := escapeBytes(all)
	back, err := url.QueryUnescape(esc)
	if err != nil || back != string(all) {
		t.Fatalf("QueryUnescape(escapeBytes(0..255)) = %q, %v; want the 256 bytes back", back, err)
	}
}

func TestAnnounceURL(t *testing.T) {
	var ih, pid [20]byte
	for i := range ih {
		ih[i] = byte(i * 13)
		pid[i] = "-GB0001-abc~ .%/&=?"[i%19]
	}
	req := AnnounceRequest{
		InfoHash: ih, PeerID: pid, Port: 6881, Uploaded: 1, Downloaded: 2, Left: 3,
		Event: EventStarted, NumWant: 50, Key: 0xdeadbeef, TrackerID: "t id&",
	}
	const params = "info_hash=%00%0D%1A%274AN%5Bhu%82%8F%9C%A9%B6%C3%D0%DD%EA%F7" +
		"&peer_id=-GB0001-abc~%20.%25%2F%26%3D%3F-" +
		"&port=6881&uploaded=1&downloaded=2&left=3&compact=1&event=started&numwant=50&key=DEADBEEF&trackerid=t%20id%26"
	tests := []struct {
		name, announce, want string
		mutate               func(*AnnounceRequest)
	}{
		{"plain", "http://tr.example:80/announce", "http://tr.example:80/announce?" + params, nil},
		{"existing query", "https://tr.example/announce?passkey=abc", "https://tr.example/announce?passkey=abc&" + params, nil},
		{"trailing ampersand", "http://tr.example/a?x=1&", "http://tr.example/a?x=1&" + params, nil},
		{"fragment dropped", "http://tr.example/announce#frag", "http://tr.example/announce?" + params, nil},
		{"no event no numwant no trackerid", "http://tr.example/announce",
			"http://tr.example/announce?" + strings.Replace(strings.Replace(params, "&event=started&numwant=50", "", 1), "&trackerid=t%20id%26", "", 1),
			func(r *AnnounceRequest) { r.Event, r.NumWant, r.TrackerID = EventNone, -1, "" }},
		{"negative counters clamp", "http://tr.example/announce",
			"http://tr.example/announce?" + strings.Replace(params, "uploaded=1&downloaded=2&left=3", "uploaded=0&downloaded=0&left=0", 1),
			func(r *AnnounceRequest) { r.Uploaded, r.Downloaded, r.Left = -1, -5, -9 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := parseTrackerURL(tt.announce)
			if err != nil {
				t.Fatal(err)
			}
			r := req
			if tt.mutate != nil {
				tt.mutate(&r)
			}
			if got := announceURL(u, r); got != tt.want {
				t.Errorf("announceURL:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestEventString(t *testing.T) {
	for ev, want := range map[Event]string{EventNone: "", EventCompleted: "completed", EventStarted: "started", EventStopped: "stopped"} {
		if got := ev.String(); got != want {
			t.Errorf("Event(%d).String() = %q, want %q", ev, got, want)
		}
	}
}

func TestScrapeURL(t *testing.T) {
	h := [20]byte{0: 0xff, 19: 'a'}
	hq := "info_hash=%FF" + strings.Repeat("%00", 18) + "a"
	tests := []struct {
		announce, want string
		err            error
	}{
		{"http://t.example/announce", "http://t.example/scrape?" + hq, nil},
		{"http://t.example/x/announce.php?pk=1", "http://t.example/x/scrape.php?pk=1&" + hq, nil},
		{"http://t.example/pk%2Fx/announce", "http://t.example/pk%2Fx/scrape?" + hq, nil},
		{"http://t.example/a", "", ErrScrapeUnsupported},
		{"http://t.example/announce/x", "", ErrScrapeUnsupported},
		{"http://t.example/x%064announce", "", ErrScrapeUnsupported},
		{"http://t.example", "", ErrScrapeUnsupported},
	}
	for _, tt := range tests {
		u, err := parseTrackerURL(tt.announce)
		if err != nil {
			t.Fatal(err)
		}
		got, err := scrapeURL(u, [][20]byte{h})
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("scrapeURL(%s) = %q, %v; want %q, %v", tt.announce, got, err, tt.want, tt.err)
		}
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestParseHTTPAnnounce(t *testing.T) {
	v6 := "\x20\x01\x0d\xb8" + strings.Repeat("\x00", 11) + "\x01" + "\x1a\xe1"
	tests := []struct {
		name    string
		body    string
		want    *AnnounceResponse
		err     error
		failure string
	}{
		{
			name: "compact",
			body: "d8:completei5e10:incompletei7e8:intervali1800e12:min intervali60e5:peers12:\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50e",
			want: &AnnounceResponse{Interval: 1800 * time.Second, MinInterval: time.Minute, Seeders: 5, Leechers: 7,
				Peers: []netip.AddrPort{ap("127.0.0.1:6881"), ap("10.0.0.2:80")}},
		},
		{
			name: "compact port 0 and unspecified rejected",
			body: "d8:intervali10e5:peers18:\x7f\x00\x00\x01\x00\x00\x00\x00\x00\x00\x1a\xe1\x01\x02\x03\x04\x00\x01e",
			want: &AnnounceResponse{Interval: 10 * time.Second, Peers: []netip.AddrPort{ap("1.2.3.4:1")}},
		},
		{
			name: "dictionary list",
			body: "d8:intervali900e5:peersld2:ip9:127.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881eed2:ip8:::1%eth04:porti1eed2:ip11:example.com4:porti80eed2:ip3:::14:porti0eed2:ip7:1.2.3.44:porti70000eed2:ip3:::14:porti443eei5eee",
			want: &AnnounceResponse{Interval: 900 * time.Second, Peers: []netip.AddrPort{ap("127.0.0.1:6881"), ap("[::1]:443")}},
		},
		{
			name: "peers6 and peers",
			body: "d8:intervali60e5:peers6:\x01\x02\x03\x04\x00\x016:peers618:" + v6 + "e",
			want: &AnnounceResponse{Interval: time.Minute, Peers: []netip.AddrPort{ap("1.2.3.4:1"), ap("[2001:db8::1]:6881")}},
		},
		{
			name: "tracker id and warning",
			body: "d8:intervali60e5:peers0:10:tracker id3:abc15:warning message9:slow\ndowne",
			want: &AnnounceResponse{Interval: time.Minute, Peers: []netip.AddrPort{}, TrackerID: "abc", Warning: "slow down"},
		},
		{
			name: "wrong types ignored",
			body: "d8:interval2:6010:incompletele5:peers0:e",
			want: &AnnounceResponse{Peers: []netip.AddrPort{}},
		},
		{name: "negative interval", body: "d8:intervali-5ee", want: &AnnounceResponse{}},
		{name: "failure", body: "d14:failure reason12:unregisterede", failure: "unregistered"},
		{name: "failure wins over peers", body: "d14:failure reason3:bad5:peers6:\x01\x02\x03\x04\x00\x01e", failure: "bad"},
		{name: "failure non-string", body: "d14:failure reasoni42ee", failure: "42"},
		{name: "compact bad length", body: "d5:peers5:abcdee", err: ErrMalformedResponse},
		{name: "peers6 bad length", body: "d6:peers66:abcdefe", err: ErrMalformedResponse},
		{name: "peers integer", body: "d5:peersi1ee", err: ErrMalformedResponse},
		{name: "not a dict", body: "li1ee", err: ErrMalformedResponse},
		{name: "garbage", body: "<html>nope</html>", err: ErrMalformedResponse},
		{name: "empty", body: "", err: ErrMalformedResponse},
		{name: "trailing data", body: "de5:extra", err: ErrMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHTTPAnnounce([]byte(tt.body))
			if tt.failure != "" {
				var fe *FailureError
				if !errors.As(err, &fe) || fe.Reason != tt.failure {
					t.Fatalf("err = %v, want FailureError %q", err, tt.failure)
				}
				return
			}
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalResponse(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func equalResponse(a, b *AnnounceResponse) bool {
	return a.Interval == b.Interval && a.MinInterval == b.MinInterval && a.Seeders == b.Seeders &&
		a.Leechers == b.Leechers && a.TrackerID == b.TrackerID && a.Warning == b.Warning &&
		slices.Equal(a.Peers, b.Peers)
}

func TestParseHTTPScrape(t *testing.T) {
	h1 := strings.Repeat("\x01", 20)
	h2 := strings.Repeat("\xfe", 20)
	body := "d5:filesd20:" + h1 + "d8:completei3e10:downloadedi9e10:incompletei4ee20:" + h2 +
		"d8:completei1ee5:shortd8:completei1ee" + "20:" + strings.Repeat("x", 20) + "i5eee"
	got, err := parseHTTPScrape([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[[20]byte]ScrapeResult{
		[20]byte([]byte(h1)): {Seeders: 3, Completed: 9, Leechers: 4},
		[20]byte([]byte(h2)): {Seeders: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for h, r := range want {
		if got[h] != r {
			t.Errorf("hash %x: got %+v, want %+v", h[:2], got[h], r)
		}
	}
	var fe *FailureError
	if _, err := parseHTTPScrape([]byte("d14:failure reason4:nopee")); !errors.As(err, &fe) || fe.Reason != "nope" {
		t.Errorf("failure: err = %v", err)
	}
	if _, err := parseHTTPScrape([]byte("d5:filesi1ee")); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("files not a dict: err = %v", err)
	}
}

// TestHTTPClientErrors checks status codes, the size cap, the User-Agent and
// that the passkey of an URL does not leak into errors.
func TestHTTPClientErrors(t *testing.T) {
	var gotUA string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUA = r.UserAgent()
		switch r.URL.Path {
		case "/big/announce":
			w.Write([]byte("d8:intervali60e5:peers"))
			w.Write([]byte(fmt.Sprintf("%d:", 600)))
			w.Write(make([]byte, 600))
			w.Write([]byte("e"))
		case "/exact/announce":
			body := "d8:intervali60e5:peers" + "18:" + strings.Repeat("\x01\x02\x03\x04\x00\x01", 3) + "e"
			w.Write([]byte(body + strings.Repeat(" ", 0)))
		case "/404/announce":
			http.Error(w, "no such tracker\x00\x01", http.StatusNotFound)
		default:
			w.Write([]byte("d8:intervali60e5:peers0:e"))
		}
	}))
	defer srv.Close()
	c := NewClient(ClientConfig{MaxResponseSize: 512, UserAgent: "gobit/test"})
	defer c.Close()
	ctx := context.Background()

	if _, err := c.Announce(ctx, srv.URL+"/big/announce", AnnounceRequest{}); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("oversize: err = %v, want ErrResponseTooLarge", err)
	}
	resp, err := c.Announce(ctx, srv.URL+"/exact/announce", AnnounceRequest{})
	if err != nil || len(resp.Peers) != 3 {
		t.Errorf("under the cap: %+v, %v", resp, err)
	}
	_, err = c.Announce(ctx, srv.URL+"/404/announce?passkey=SECRET", AnnounceRequest{})
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "no such tracker") {
		t.Errorf("404: err = %v, want status and snippet", err)
	}
	if err != nil && strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error leaks the passkey: %v", err)
	}
	if gotUA != "gobit/test" {
		t.Errorf("User-Agent = %q", gotUA)
	}
	if _, err := c.Announce(ctx, "wss://t.example/announce", AnnounceRequest{}); !errors.Is(err, ErrUnsupportedScheme) {
		t.Errorf("wss: err = %v, want ErrUnsupportedScheme", err)
	}
	if _, err := c.Scrape(ctx, srv.URL+"/other", [][20]byte{{1}}); !errors.Is(err, ErrScrapeUnsupported) {
		t.Errorf("scrape without announce path: err = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Announce(cctx, srv.URL+"/announce", AnnounceRequest{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled ctx: err = %v", err)
	}
}
