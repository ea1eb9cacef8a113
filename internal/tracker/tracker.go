package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
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
	// IPv6 is our global IPv6 address, sent as "ipv6=" to HTTP trackers
	// (BEP 7) so that an IPv4 announce also lists us for IPv6 peers; the
	// Client fills it from ClientConfig.IPv6 when it is zero.
	IPv6 netip.Addr
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
	// Net, when set, is how UDP announces reach the network (a pointer, so
	// ClientConfig stays comparable).
	Net *Net
	// IPVersion limits trackers and the peers they return to IPv4 ("4")
	// or IPv6 ("6"); "" or "both" uses both.
	IPVersion string
	// AnnounceRate is how many first announces per second the Client lets
	// start in each lane (spread.go); DefaultAnnounceRate if zero, no
	// limit if negative.
	AnnounceRate float64
	// Logger receives the state changes of trackers (unreachable, back:
	// health.go); if nil, the announcer's logger that saw the change.
	Logger *slog.Logger
}

// Net is how a Client's UDP announces reach the network. A session sets
// it to bind the socket to an interface or to go through a proxy's UDP
// association.
type Net struct {
	// ListenUDP opens the shared socket of UDP announces for network
	// ("udp4" or "udp6"); an unbound net.ListenUDP if nil. A socket whose
	// writes or reads fail is dropped and opened again for the next
	// request.
	ListenUDP func(network string) (UDPConn, error)
	// LookupNetIP resolves a UDP tracker's host name; the default
	// resolver if nil. Behind a proxy it refuses, so no name leaks to the
	// local resolver.
	LookupNetIP func(ctx context.Context, host string) ([]netip.Addr, error)
}

// UDPConn is the socket UDP announces go through (*net.UDPConn or a
// proxy's association).
type UDPConn interface {
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	Close() error
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
	// ownIPv6 returns our global IPv6 address (SetIPv6Source); nil none.
	ownIPv6 func() netip.Addr
	// spread paces first announces (spread.go); health tracks which
	// trackers are reachable, for the log (health.go).
	spread *spreader
	health health
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
	if cfg.IPVersion == "both" {
		cfg.IPVersion = ""
	}
	hc := cfg.HTTPClient
	if hc == nil {
		var dial func(ctx context.Context, network, addr string) (net.Conn, error)
		if cfg.IPVersion != "" {
			// Connect to trackers over the chosen IP version only.
			var d net.Dialer
			dial = func(ctx context.Context, _, addr string) (net.Conn, error) {
				return d.DialContext(ctx, "tcp"+cfg.IPVersion, addr)
			}
		}
		hc = &http.Client{Timeout: DefaultHTTPTimeout, Transport: NewHTTPTransport(dial)}
	}
	t := newUDPTransport(cfg.UDPTimeout, cfg.UDPMaxRetries, cfg.Net)
	t.family = cfg.IPVersion
	return &Client{cfg: cfg, http: hc, udp: t, sched: newScheduler(),
		spread: newSpreader(cfg.AnnounceRate), health: health{grace: healthGrace}}
}

// HTTPIdleTimeout is how long a connection to an HTTP tracker is kept
// open, unused, for the next announce (NewHTTPTransport). A daemon with
// thousands of torrents announces to a busy tracker every few seconds or
// less, and reuses one connection; a tracker that closes its connections
// after each answer (opentracker does) gets a new one each time anyway.
const HTTPIdleTimeout = 30 * time.Second

// NewHTTPTransport returns the transport a Client's HTTP announces and
// scrapes share: connections to a tracker are kept alive and reused, at
// most MaxPerHost idle per tracker host (as many as announces may be in
// flight to it, so that a burst, every torrent's "stopped" at exit, reuses
// them) and 4·MaxPerHost in all, each closed after HTTPIdleTimeout unused.
// dial, when not nil, opens the connections (through a proxy, or bound to
// an interface); the environment's HTTP proxy is then not used. A session
// that sets ClientConfig.HTTPClient for its proxy or bound interface
// builds it on this transport.
func NewHTTPTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 4 * MaxPerHost
	tr.MaxIdleConnsPerHost = MaxPerHost
	tr.IdleConnTimeout = HTTPIdleTimeout
	if dial != nil {
		tr.DialContext = dial
		tr.Proxy = nil
	}
	return tr
}

// SetIPv6Source sets the function that returns our global IPv6 address,
// sent as "ipv6=" with HTTP announces that do not carry one (an invalid
// address sends none). Call it before the first announce.
func (c *Client) SetIPv6Source(f func() netip.Addr) { c.ownIPv6 = f }

// Announce sends req to the tracker at trackerURL (http, https or udp) and
// returns its answer. A tracker's explicit refusal is a *FailureError.
func (c *Client) Announce(ctx context.Context, trackerURL string, req AnnounceRequest) (*AnnounceResponse, error) {
	u, err := parseTrackerURL(trackerURL)
	if err != nil {
		return nil, err
	}
	if !req.IPv6.IsValid() && c.ownIPv6 != nil && c.cfg.IPVersion != "4" {
		req.IPv6 = c.ownIPv6()
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
	if c.cfg.IPVersion != "" {
		resp.Peers = slices.DeleteFunc(resp.Peers, func(p netip.AddrPort) bool { return !inFamily(p.Addr(), c.cfg.IPVersion) })
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

// inFamily reports whether addr belongs to the IP version ("4", "6", or
// "" for both).
func inFamily(addr netip.Addr, version string) bool {
	switch version {
	case "4":
		return addr.Unmap().Is4()
	case "6":
		return addr.Is6() && !addr.Is4In6()
	}
	return true
}
