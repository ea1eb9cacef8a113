// Package trackertest runs an in-process BitTorrent tracker for tests: HTTP
// (BEP 3, compact answers per BEP 23 and BEP 7) and UDP (BEP 15) on
// 127.0.0.1, on ports chosen by the system.
//
// The tracker stores the peers announced for each info hash (the address is
// the request's source IP with the port from the request), returns them
// to other announcers, forgets a peer on "stopped" and answers scrapes. Tests
// can make it refuse announces (SetFailure), drop UDP datagrams (DropUDP)
// and inspect what it received (Events, Announces, Connects).
//
// A Tracker's state is guarded by one mutex; its methods are safe for
// concurrent use. The HTTP server and the UDP reader run in their own
// goroutines until Close, which New registers with t.Cleanup.
//
// It deliberately encodes its bencode answers by hand, independently of
// internal/bencode, so client tests do not test an encoder against itself.
package trackertest

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Announce is one announce the tracker received.
type Announce struct {
	// Proto is "http" or "udp".
	Proto string
	// InfoHash is the announced torrent and PeerID the announcer's ID.
	InfoHash, PeerID [20]byte
	// Peer is the announcer's address as the tracker stores it.
	Peer netip.AddrPort
	// Event is "", "started", "completed" or "stopped".
	Event string
	// Uploaded, Downloaded and Left are the announced counters.
	Uploaded, Downloaded, Left int64
	// NumWant is the requested number of peers (-1 if not given).
	NumWant int
	// Key is the announced key; TrackerID the "trackerid" sent (HTTP).
	Key       string
	TrackerID string
	// IPv6 is the "ipv6" parameter sent (HTTP, BEP 7), "" if none.
	IPv6 string
}

// Tracker is a running test tracker.
type Tracker struct {
	httpLn  net.Listener
	httpSrv *http.Server
	udp     *net.UDPConn
	done    chan struct{} // closed when the UDP reader exits

	mu          sync.Mutex
	closed      bool
	swarms      map[[20]byte]map[netip.AddrPort]int64 // peer → left
	completed   map[[20]byte]int
	events      []Announce
	connects    int
	scrapes     int
	failure     string
	dropUDP     int
	interval    time.Duration
	minInterval time.Duration
	trackerID   string
	connIDs     map[uint64]time.Time
}

// New starts a tracker and registers its Close with t.Cleanup.
func New(t testing.TB) *Tracker {
	t.Helper()
	tr, err := Start()
	if err != nil {
		t.Fatalf("trackertest: %v", err)
	}
	t.Cleanup(tr.Close)
	return tr
}

// NewOn starts a tracker listening on host ("::1" for an IPv6 tracker,
// whose UDP announces answer with 18-byte peers, BEP 15) and registers its
// Close with t.Cleanup.
func NewOn(t testing.TB, host string) *Tracker {
	t.Helper()
	tr, err := StartOn(host)
	if err != nil {
		t.Fatalf("trackertest: %v", err)
	}
	t.Cleanup(tr.Close)
	return tr
}

// Start starts a tracker on 127.0.0.1 that the caller must Close.
func Start() (*Tracker, error) { return StartOn("127.0.0.1") }

// StartOn starts a tracker on host that the caller must Close.
func StartOn(host string) (*Tracker, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("listen tcp: %w", err)
	}
	uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host)})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen udp: %w", err)
	}
	tr := &Tracker{
		httpLn:    ln,
		udp:       uc,
		done:      make(chan struct{}),
		swarms:    make(map[[20]byte]map[netip.AddrPort]int64),
		completed: make(map[[20]byte]int),
		connIDs:   make(map[uint64]time.Time),
		interval:  30 * time.Minute,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/announce", tr.handleHTTPAnnounce)
	mux.HandleFunc("/scrape", tr.handleHTTPScrape)
	tr.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go tr.httpSrv.Serve(ln)
	go tr.serveUDP()
	return tr, nil
}

// Close stops the tracker. It is safe to call more than once.
func (tr *Tracker) Close() {
	tr.mu.Lock()
	if tr.closed {
		tr.mu.Unlock()
		return
	}
	tr.closed = true
	tr.mu.Unlock()
	tr.httpSrv.Close()
	tr.udp.Close()
	<-tr.done
}

// HTTPURL returns the HTTP announce URL, "http://127.0.0.1:PORT/announce"
// ("http://[::1]:PORT/announce" on IPv6).
func (tr *Tracker) HTTPURL() string {
	return "http://" + tr.httpLn.Addr().String() + "/announce"
}

// UDPURL returns the UDP announce URL, "udp://127.0.0.1:PORT".
func (tr *Tracker) UDPURL() string {
	return "udp://" + tr.udp.LocalAddr().String()
}

// Peers returns the peers currently stored for infoHash, sorted.
func (tr *Tracker) Peers(infoHash [20]byte) []netip.AddrPort {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []netip.AddrPort
	for p := range tr.swarms[infoHash] {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return out
}

// Announces returns how many announces (HTTP and UDP) the tracker received.
func (tr *Tracker) Announces() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.events)
}

// Events returns a copy of every announce received, in order.
func (tr *Tracker) Events() []Announce {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.events)
}

// Connects returns how many UDP connect requests the tracker answered.
func (tr *Tracker) Connects() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.connects
}

// Scrapes returns how many scrapes (HTTP and UDP) the tracker answered.
func (tr *Tracker) Scrapes() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.scrapes
}

// SetFailure makes every later announce and scrape fail with reason (HTTP
// "failure reason", UDP action 3); the empty string restores normal service.
func (tr *Tracker) SetFailure(reason string) {
	tr.mu.Lock()
	tr.failure = reason
	tr.mu.Unlock()
}

// DropUDP makes the tracker silently drop the next n UDP datagrams it
// receives, whatever they are.
func (tr *Tracker) DropUDP(n int) {
	tr.mu.Lock()
	tr.dropUDP = n
	tr.mu.Unlock()
}

// SetInterval sets the "interval" and "min interval" the tracker returns
// (whole seconds; zero minInterval omits it). The default is 30 minutes.
func (tr *Tracker) SetInterval(interval, minInterval time.Duration) {
	tr.mu.Lock()
	tr.interval, tr.minInterval = interval, minInterval
	tr.mu.Unlock()
}

// SetTrackerID makes HTTP answers carry "tracker id" = id.
func (tr *Tracker) SetTrackerID(id string) {
	tr.mu.Lock()
	tr.trackerID = id
	tr.mu.Unlock()
}

// answer is the tracker's reaction to one announce.
type answer struct {
	failure               string
	interval, minInterval int64
	seeders, leechers     int
	peers4, peers6        []netip.AddrPort
	trackerID             string
}

// announce records a and updates the swarm; it returns what to answer.
func (tr *Tracker) announce(a Announce) answer {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.events = append(tr.events, a)
	if tr.failure != "" {
		return answer{failure: tr.failure}
	}
	swarm := tr.swarms[a.InfoHash]
	if swarm == nil {
		swarm = make(map[netip.AddrPort]int64)
		tr.swarms[a.InfoHash] = swarm
	}
	switch a.Event {
	case "stopped":
		delete(swarm, a.Peer)
	case "completed":
		tr.completed[a.InfoHash]++
		swarm[a.Peer] = a.Left
	default:
		swarm[a.Peer] = a.Left
	}
	ans := answer{
		interval:    int64(tr.interval / time.Second),
		minInterval: int64(tr.minInterval / time.Second),
		trackerID:   tr.trackerID,
	}
	numWant := a.NumWant
	if numWant < 0 {
		numWant = 50
	}
	peers := make([]netip.AddrPort, 0, len(swarm))
	for p, left := range swarm {
		if left == 0 {
			ans.seeders++
		} else {
			ans.leechers++
		}
		if p != a.Peer {
			peers = append(peers, p)
		}
	}
	slices.SortFunc(peers, func(a, b netip.AddrPort) int { return a.Compare(b) })
	for _, p := range peers[:min(len(peers), numWant)] {
		if p.Addr().Is4() {
			ans.peers4 = append(ans.peers4, p)
		} else {
			ans.peers6 = append(ans.peers6, p)
		}
	}
	return ans
}

// scrapeCounts returns seeders, completed and leechers for each hash (all
// known hashes if none is given), or the configured failure.
func (tr *Tracker) scrapeCounts(hashes [][20]byte) (map[[20]byte][3]int, string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.scrapes++
	if tr.failure != "" {
		return nil, tr.failure
	}
	if len(hashes) == 0 {
		for h := range tr.swarms {
			hashes = append(hashes, h)
		}
	}
	out := make(map[[20]byte][3]int, len(hashes))
	for _, h := range hashes {
		var c [3]int
		for _, left := range tr.swarms[h] {
			if left == 0 {
				c[0]++
			} else {
				c[2]++
			}
		}
		c[1] = tr.completed[h]
		out[h] = c
	}
	return out, ""
}

// newConnID issues a UDP connection ID valid for two minutes.
func (tr *Tracker) newConnID() uint64 {
	var b [8]byte
	rand.Read(b[:])
	id := binary.BigEndian.Uint64(b[:])
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.connects++
	for k, exp := range tr.connIDs {
		if now.After(exp) {
			delete(tr.connIDs, k)
		}
	}
	tr.connIDs[id] = now.Add(2 * time.Minute)
	return id
}

func (tr *Tracker) validConnID(id uint64) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	exp, ok := tr.connIDs[id]
	return ok && time.Now().Before(exp)
}

// takeDrop reports whether the next UDP datagram must be dropped.
func (tr *Tracker) takeDrop() bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.dropUDP > 0 {
		tr.dropUDP--
		return true
	}
	return false
}

// errBadRequest marks a request the tracker refuses.
var errBadRequest = errors.New("bad request")

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%w: port %q", errBadRequest, s)
	}
	return uint16(n), nil
}
