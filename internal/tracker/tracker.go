package tracker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Event is the announce event. The numbering is BEP 15's, so an Event can be
// written to a UDP announce as is.
type Event int

// The announce events.
const (
	// EventNone is a regular re-announce.
	EventNone Event = iota
	// EventCompleted is sent once when the download finishes.
	EventCompleted
	// EventStarted is sent with the first announce to a tracker.
	EventStarted
	// EventStopped is sent when the torrent stops.
	EventStopped
)

// String returns the event as the HTTP "event" parameter spells it, or the
// empty string for EventNone (which HTTP announces omit).
func (e Event) String() string {
	switch e {
	case EventCompleted:
		return "completed"
	case EventStarted:
		return "started"
	case EventStopped:
		return "stopped"
	case EventNone:
		return ""
	}
	return fmt.Sprintf("Event(%d)", int(e))
}

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrInvalidURL means a tracker URL could not be used.
	ErrInvalidURL = errors.New("tracker: invalid URL")
	// ErrUnsupportedScheme means the tracker URL is neither http, https nor udp.
	ErrUnsupportedScheme = errors.New("tracker: unsupported URL scheme")
	// ErrScrapeUnsupported means the tracker's announce URL does not allow
	// deriving a scrape URL (BEP 48).
	ErrScrapeUnsupported = errors.New("tracker: scrape not supported by this tracker")
	// ErrResponseTooLarge means an HTTP response body exceeded MaxResponseSize.
	ErrResponseTooLarge = errors.New("tracker: response too large")
	// ErrMalformedResponse means a tracker response could not be parsed.
	ErrMalformedResponse = errors.New("tracker: malformed response")
	// ErrTimeout means a UDP tracker did not answer after all retransmissions.
	ErrTimeout = errors.New("tracker: timeout")
	// ErrClosed means the Client was closed.
	ErrClosed = errors.New("tracker: client closed")
)

// FailureError is returned when the tracker answered with an explicit
// failure: "failure reason" over HTTP or an action 3 error packet over UDP.
type FailureError struct {
	// Reason is the tracker's message, as sent.
	Reason string
}

// Error implements error.
func (e *FailureError) Error() string {
	return "tracker failure: " + e.Reason
}

// AnnounceRequest holds the parameters of one announce.
type AnnounceRequest struct {
	// InfoHash is the torrent's v1 info hash and PeerID our peer ID.
	InfoHash, PeerID [20]byte
	// Port is the port peers should connect to.
	Port uint16
	// Uploaded, Downloaded and Left are the byte counters of the torrent.
	Uploaded, Downloaded, Left int64
	// Event is the announce event.
	Event Event
	// NumWant is how many peers we want; negative means the tracker default.
	NumWant int
	// Key is a random value identifying this client across IP changes.
	Key uint32
	// TrackerID is the "tracker id" the tracker returned earlier (HTTP only).
	TrackerID string
}

// AnnounceResponse is a tracker's answer to an announce.
type AnnounceResponse struct {
	// Interval is how long to wait before the next regular announce; zero
	// when the tracker did not say. MinInterval is the minimum wait the
	// tracker allows for any announce; zero when it did not say.
	Interval, MinInterval time.Duration
	// Peers are the peers returned, IPv4 and IPv6, never with port 0.
	Peers []netip.AddrPort
	// Seeders and Leechers are the swarm counts the tracker reported.
	Seeders, Leechers int
	// TrackerID is the tracker id to send back with later announces (HTTP).
	TrackerID string
	// Warning is the tracker's "warning message" (HTTP), if any.
	Warning string
}

// ScrapeResult holds the scrape counts of one torrent.
type ScrapeResult struct {
	// Seeders is the number of complete peers, Completed the number of
	// finished downloads, Leechers the number of incomplete peers.
	Seeders, Completed, Leechers int
}

// ClientConfig configures a Client. The zero value is usable.
type ClientConfig struct {
	// HTTPClient sends HTTP announces and scrapes. If nil, a client with
	// DefaultHTTPTimeout and the default transport is used.
	HTTPClient *http.Client
	// UserAgent is sent with HTTP requests when not empty.
	UserAgent string
	// UDPTimeout is the base of the BEP 15 retransmission timeout
	// (UDPTimeout·2^n); 15 s if zero.
	UDPTimeout time.Duration
	// UDPMaxRetries is the largest n in UDPTimeout·2^n, so a UDP request is
	// sent at most UDPMaxRetries+1 times; 8 (per BEP 15) if zero, and no
	// retransmission at all if negative.
	UDPMaxRetries int
	// MaxResponseSize bounds HTTP response bodies; 1 MiB if zero.
	MaxResponseSize int64
}

// Defaults of ClientConfig.
const (
	DefaultUDPTimeout      = 15 * time.Second
	DefaultUDPMaxRetries   = 8
	DefaultMaxResponseSize = 1 << 20
	DefaultHTTPTimeout     = 60 * time.Second
)

// Client announces to and scrapes HTTP and UDP trackers. It is safe for
// concurrent use; a session needs one.
type Client struct {
	cfg  ClientConfig
	http *http.Client
	udp  *udpTransport
	// counts are the announces by host (counts.go).
	counts hostCounts
	// hosts bounds the announces in flight per tracker host (hostlimit.go).
	hosts hostLimit
	// sched keeps the appointments of every Announcer using this Client
	// (schedule.go).
	sched *scheduler
}

// NewClient returns a Client with cfg's zero fields set to their defaults.
func NewClient(cfg ClientConfig) *Client {
	if cfg.UDPTimeout <= 0 {
		cfg.UDPTimeout = DefaultUDPTimeout
	}
	if cfg.UDPMaxRetries == 0 {
		cfg.UDPMaxRetries = DefaultUDPMaxRetries
	} else if cfg.UDPMaxRetries < 0 {
		cfg.UDPMaxRetries = 0
	}
	if cfg.MaxResponseSize <= 0 {
		cfg.MaxResponseSize = DefaultMaxResponseSize
	}
	hc := cfg.HTTPClient
	if hc == nil {
		// Keep as many connections to a tracker as announces may be in
		// flight to it (MaxPerHost), so that a burst (every torrent's
		// "stopped" at exit) reuses them rather than connecting anew
		// for each; idle ones are closed soon.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = MaxPerHost
		tr.IdleConnTimeout = 10 * time.Second
		hc = &http.Client{Timeout: DefaultHTTPTimeout, Transport: tr}
	}
	return &Client{cfg: cfg, http: hc, udp: newUDPTransport(cfg.UDPTimeout, cfg.UDPMaxRetries), sched: newScheduler()}
}

// Announce sends req to the tracker at trackerURL (http, https or udp) and
// returns its answer. A tracker's explicit refusal is a *FailureError.
func (c *Client) Announce(ctx context.Context, trackerURL string, req AnnounceRequest) (*AnnounceResponse, error) {
	u, err := parseTrackerURL(trackerURL)
	if err != nil {
		return nil, err
	}
	release, err := c.hosts.acquire(ctx, u.Host)
	if err != nil {
		c.counts.add(ctx, u, err)
		return nil, fmt.Errorf("tracker %s: announce: waiting for a turn: %w", redact(trackerURL), err)
	}
	defer release()
	var resp *AnnounceResponse
	switch u.Scheme {
	case "http", "https":
		resp, err = c.httpAnnounce(ctx, u, req)
	case "udp":
		resp, err = c.udp.announce(ctx, u, req)
	}
	c.counts.add(ctx, u, err)
	if err != nil {
		return nil, fmt.Errorf("tracker %s: announce: %w", redact(trackerURL), err)
	}
	return resp, nil
}

// Scrape asks the tracker at trackerURL for the counts of hashes. Hashes the
// tracker does not know are missing from the result.
func (c *Client) Scrape(ctx context.Context, trackerURL string, hashes [][20]byte) (map[[20]byte]ScrapeResult, error) {
	u, err := parseTrackerURL(trackerURL)
	if err != nil {
		return nil, err
	}
	var res map[[20]byte]ScrapeResult
	switch u.Scheme {
	case "http", "https":
		res, err = c.httpScrape(ctx, u, hashes)
	case "udp":
		res, err = c.udp.scrape(ctx, u, hashes)
	}
	if err != nil {
		return nil, fmt.Errorf("tracker %s: scrape: %w", redact(trackerURL), err)
	}
	return res, nil
}

// Close releases the Client's UDP sockets; requests still waiting fail with
// ErrClosed. It is safe to call more than once.
func (c *Client) Close() error {
	return c.udp.close()
}

// parseTrackerURL parses and checks a tracker URL.
func parseTrackerURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("tracker %s: %w: %w", redact(s), ErrInvalidURL, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "http", "https", "udp":
	default:
		return nil, fmt.Errorf("tracker %s: %w %q", redact(s), ErrUnsupportedScheme, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("tracker %s: %w: no host", redact(s), ErrInvalidURL)
	}
	return u, nil
}

// redact shortens a tracker URL for error messages: private trackers put a
// passkey in the path or query, which must not end up in logs.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if len(s) > 64 {
			return s[:64] + "…"
		}
		return s
	}
	return u.Scheme + "://" + u.Host
}
