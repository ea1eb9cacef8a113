package dht

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultBootstrap lists the public bootstrap routers. Tests never use it.
var DefaultBootstrap = []string{
	"router.bittorrent.com:6881",
	"dht.transmissionbt.com:6881",
	"router.utorrent.com:6881",
}

// Defaults for Config fields left zero.
const (
	// DefaultQueryTimeout is how long a query waits for its answer.
	DefaultQueryTimeout = 2 * time.Second
	// DefaultMaxPeersPerHash caps the peers stored per info hash.
	DefaultMaxPeersPerHash = 200
	// DefaultRateLimit is the incoming queries per second accepted per
	// source.
	DefaultRateLimit = 20
	// MaxOutstanding bounds the queries in flight at once; further queries
	// wait for a slot.
	MaxOutstanding = 256
)

// version is the client version sent in the "v" key.
const version = "GB\x00\x01"

// Sentinel errors.
var (
	// ErrClosed is returned by operations on a closed Server.
	ErrClosed = errors.New("dht: server closed")
	// ErrTimeout is returned when a query got no answer in time.
	ErrTimeout = errors.New("dht: query timed out")
	// ErrNoNodes is returned by Bootstrap when no node answered.
	ErrNoNodes = errors.New("dht: no reachable nodes")
)

// Config configures a Server. Only Conn is required.
type Config struct {
	// Conn is the UDP socket. The Server writes to it and, unless
	// ExternalReader is set, reads from it. Close does not close it: the
	// caller owns the socket.
	Conn net.PacketConn
	// Network, when "udp4" or "udp6", limits the node to that family
	// (an IPv6-only socket on "::" looks dual-stack); otherwise the
	// families are those of Conn's local address.
	Network string
	// ExternalReader means the caller reads Conn (for example to share the
	// socket with uTP) and passes DHT packets to HandlePacket; Start then
	// starts no reader.
	ExternalReader bool
	// ID is our node ID; zero means random.
	ID [20]byte
	// Bootstrap lists "host:port" bootstrap nodes, resolved with a timeout
	// by Bootstrap.
	Bootstrap []string
	// LookupNetIP, when set, resolves the host names of Bootstrap instead
	// of net.DefaultResolver (a proxy's caller refuses, so that no name
	// leaks to the local resolver; a bound interface's resolves through
	// it). IP addresses are never looked up.
	LookupNetIP func(ctx context.Context, host string) ([]netip.Addr, error)
	// Nodes are saved routing table nodes (from Server.Nodes) to start
	// from. They are pinged, not trusted.
	Nodes []NodeInfo
	// Logger receives debug chatter; nil discards it.
	Logger *slog.Logger
	// QueryTimeout is how long a query waits for its answer (default 2 s).
	QueryTimeout time.Duration
	// MaxPeersPerHash caps the peers stored per info hash (default 200).
	MaxPeersPerHash int
	// RateLimit is the number of incoming queries per second accepted per
	// source IP (per IP and port on loopback), with a burst of twice that;
	// excess queries are dropped. 0 means DefaultRateLimit, negative means
	// unlimited.
	RateLimit float64
	// MaintenanceInterval is how often maintenance runs (default 1 min);
	// tests may lower it.
	MaintenanceInterval time.Duration
}

// Stats is a snapshot of a Server's state and counters.
type Stats struct {
	ID              string `json:"id"`   // our node ID, hex
	Addr            string `json:"addr"` // local UDP address
	Nodes           int    `json:"nodes"`
	GoodNodes       int    `json:"good_nodes"`
	Buckets         int    `json:"buckets"`
	InfoHashes      int    `json:"info_hashes"` // info hashes in the peer store
	PeersStored     int    `json:"peers_stored"`
	QueriesIn       int64  `json:"queries_in"`
	QueriesOut      int64  `json:"queries_out"`
	ResponsesIn     int64  `json:"responses_in"`
	Timeouts        int64  `json:"timeouts"`
	ErrorsIn        int64  `json:"errors_in"`        // KRPC errors received
	ErrorsOut       int64  `json:"errors_out"`       // KRPC errors sent
	DroppedRate     int64  `json:"dropped_rate"`     // queries dropped by the rate limit
	DroppedBad      int64  `json:"dropped_bad"`      // undecodable or oversized packets
	AnnouncesStored int64  `json:"announces_stored"` // announce_peer queries accepted
}

// Server is a DHT node. Create it with New, then call Start.
type Server struct {
	conn     net.PacketConn
	cfg      Config
	self     [20]byte
	log      *slog.Logger
	localV6  bool // the socket can reach IPv6 nodes
	localV4  bool // the socket can reach IPv4 nodes
	tokens   *tokens
	peers    *peerStore
	limiter  *rateLimiter
	slots    chan struct{} // outstanding query slots
	pingSlot chan struct{} // background ping slots

	mu    sync.Mutex // guards table
	table *table

	txMu  sync.Mutex
	txs   map[string]*call
	txSeq uint16

	closeOnce sync.Once
	closeC    chan struct{}
	wg        sync.WaitGroup
	started   atomic.Bool

	queriesIn, queriesOut, responsesIn, timeouts      atomic.Int64
	errorsIn, errorsOut, droppedRate, droppedBad, ann atomic.Int64
	kinds                                             queryCounters // by method (counts.go)
}

// call is one outstanding query.
type call struct {
	addr netip.AddrPort
	resC chan *Msg // buffered, 1
}

// New returns a Server for cfg. It sends nothing until Start.
func New(cfg Config) (*Server, error) {
	if cfg.Conn == nil {
		return nil, errors.New("dht: new server: Config.Conn is nil")
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = DefaultQueryTimeout
	}
	if cfg.MaxPeersPerHash <= 0 {
		cfg.MaxPeersPerHash = DefaultMaxPeersPerHash
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.MaintenanceInterval <= 0 {
		cfg.MaintenanceInterval = time.Minute
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	self := cfg.ID
	if self == ([20]byte{}) {
		rand.Read(self[:])
	}
	now := time.Now()
	s := &Server{
		conn:     cfg.Conn,
		cfg:      cfg,
		self:     self,
		log:      log.With("component", "dht"),
		tokens:   newTokens(now, TokenRotation),
		peers:    newPeerStore(cfg.MaxPeersPerHash),
		limiter:  newRateLimiter(cfg.RateLimit),
		slots:    make(chan struct{}, MaxOutstanding),
		pingSlot: make(chan struct{}, 16),
		table:    newTable(self, now),
		txs:      make(map[string]*call),
		closeC:   make(chan struct{}),
	}
	s.localV4, s.localV6 = true, false
	if ua, ok := cfg.Conn.LocalAddr().(*net.UDPAddr); ok {
		ap := ua.AddrPort()
		ip := ap.Addr()
		switch {
		case ip.Is4() || ip.Is4In6() && !ip.IsUnspecified():
			s.localV4, s.localV6 = true, false
		case ip.IsUnspecified() || !ip.IsValid(): // dual stack
			s.localV4, s.localV6 = true, true
		default:
			s.localV4, s.localV6 = false, true
		}
	}
	switch cfg.Network {
	case "udp4":
		s.localV4, s.localV6 = true, false
	case "udp6":
		s.localV4, s.localV6 = false, true
	}
	return s, nil
}

// ID returns our node ID.
func (s *Server) ID() [20]byte { return s.self }

// Start starts the reader goroutine (unless Config.ExternalReader) and the
// maintenance goroutine, and pings the saved Config.Nodes in the
// background. Call it once.
func (s *Server) Start() {
	if !s.started.CompareAndSwap(false, true) {
		return
	}
	if !s.cfg.ExternalReader {
		s.wg.Add(1)
		go s.readLoop()
	}
	s.wg.Add(1)
	go s.maintain()
	for _, n := range s.cfg.Nodes {
		s.pingAsync(n.Addr)
	}
}

// Close stops the server's goroutines and fails its outstanding queries
// with ErrClosed. It does not close Config.Conn (the caller owns it); to
// stop the reader it sets a past read deadline on the socket, so the caller
// should close the socket after Close. Close is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closeC)
		if !s.cfg.ExternalReader && s.started.Load() {
			s.conn.SetReadDeadline(time.Unix(1, 0))
		}
	})
	s.wg.Wait()
	return nil
}

// closed reports whether Close was called.
func (s *Server) closed() bool {
	select {
	case <-s.closeC:
		return true
	default:
		return false
	}
}

// readLoop reads packets until the server is closed or the socket fails.
func (s *Server) readLoop() {
	defer s.wg.Done()
	buf := make([]byte, MaxPacketSize+1)
	for {
		n, addr, err := s.conn.ReadFrom(buf)
		if err != nil {
			if s.closed() || errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Debug("dht read", "err", err)
			select {
			case <-s.closeC:
				return
			case <-time.After(50 * time.Millisecond): // avoid spinning on a persistent error
			}
			continue
		}
		ua, ok := addr.(*net.UDPAddr)
		if !ok {
			continue
		}
		s.HandlePacket(buf[:n], ua.AddrPort())
	}
}

// HandlePacket processes one received DHT packet from the given source. The
// reader goroutine calls it; with Config.ExternalReader the caller does. It
// does not keep b. Oversized or undecodable packets are dropped, malformed
// queries are answered with a 203 error.
func (s *Server) HandlePacket(b []byte, from netip.AddrPort) {
	if s.closed() {
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if len(b) > MaxPacketSize || !validNodeAddr(from) {
		s.droppedBad.Add(1)
		return
	}
	m, err := DecodeMsg(b)
	if err != nil {
		s.droppedBad.Add(1)
		if t, y, ok := transactionOf(b); ok && y == "q" && s.limiter.allow(from, time.Now()) {
			s.reply(from, errorMsg(t, ErrCodeProtocol, "malformed query"))
		}
		return
	}
	switch m.Y {
	case "q":
		if !s.limiter.allow(from, time.Now()) {
			s.droppedRate.Add(1)
			return
		}
		s.queriesIn.Add(1)
		s.kinds.in[kindIndex(m.Q)].Add(1)
		s.handleQuery(m, from)
	case "r", "e":
		s.handleReply(m, from)
	}
}

// handleReply delivers a response or error to the query waiting for it, if
// it came from the address the query went to.
func (s *Server) handleReply(m *Msg, from netip.AddrPort) {
	s.txMu.Lock()
	c := s.txs[m.T]
	if c == nil || c.addr != from {
		s.txMu.Unlock()
		return
	}
	delete(s.txs, m.T)
	s.txMu.Unlock()
	c.resC <- m
}

// send encodes m and writes it to addr.
func (s *Server) send(addr netip.AddrPort, m *Msg) error {
	b, err := EncodeMsg(m)
	if err != nil {
		return err
	}
	if _, err := s.conn.WriteTo(b, net.UDPAddrFromAddrPort(addr)); err != nil {
		return fmt.Errorf("dht: send %s to %s: %w", m.Y, addr, err)
	}
	return nil
}

// reply sends a response or error, logging failures.
func (s *Server) reply(to netip.AddrPort, m *Msg) {
	if m.Y == "e" {
		s.errorsOut.Add(1)
	}
	m.V = version
	if err := s.send(to, m); err != nil {
		s.log.Debug("dht reply", "to", to, "err", err)
	}
}

// reachable reports whether the socket can send to addr's family.
func (s *Server) reachable(addr netip.AddrPort) bool {
	if addr.Addr().Unmap().Is4() {
		return s.localV4
	}
	return s.localV6
}

// query sends a query to addr and waits for the answer, the query timeout,
// ctx or Close. A KRPC error answer is returned as *Error. A response
// updates the routing table; a timeout counts against the node whose ID is
// id (zero if unknown).
func (s *Server) query(ctx context.Context, addr netip.AddrPort, id [20]byte, method string, a *Args) (*Msg, error) {
	if !validNodeAddr(addr) || !s.reachable(addr) {
		return nil, fmt.Errorf("dht: %s to %s: unusable address", method, addr)
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closeC:
		return nil, ErrClosed
	}
	defer func() { <-s.slots }()

	c := &call{addr: addr, resC: make(chan *Msg, 1)}
	s.txMu.Lock()
	var t string
	for {
		s.txSeq++
		t = string(binary.BigEndian.AppendUint16(nil, s.txSeq))
		if s.txs[t] == nil {
			break
		}
	}
	s.txs[t] = c
	s.txMu.Unlock()
	defer func() {
		s.txMu.Lock()
		if s.txs[t] == c {
			delete(s.txs, t)
		}
		s.txMu.Unlock()
	}()

	a.ID = string(s.self[:])
	if err := s.send(addr, &Msg{T: t, Y: "q", Q: method, A: a, V: version}); err != nil {
		return nil, err
	}
	s.queriesOut.Add(1)
	s.kinds.out[kindIndex(method)].Add(1)
	timer := time.NewTimer(s.cfg.QueryTimeout)
	defer timer.Stop()
	select {
	case m := <-c.resC:
		if m.Y == "e" {
			s.errorsIn.Add(1)
			return nil, fmt.Errorf("dht: %s to %s: %w", method, addr, m.E)
		}
		s.responsesIn.Add(1)
		var rid [20]byte
		copy(rid[:], m.R.ID)
		s.nodeAnswered(NodeInfo{ID: rid, Addr: addr})
		return m, nil
	case <-timer.C:
		s.timeouts.Add(1)
		s.mu.Lock()
		s.table.failed(id, addr, time.Now())
		s.mu.Unlock()
		return nil, fmt.Errorf("dht: %s to %s: %w", method, addr, ErrTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closeC:
		return nil, ErrClosed
	}
}

// nodeAnswered records an answer from n in the table and, if the table asks
// for it, pings a questionable node that n may replace.
func (s *Server) nodeAnswered(n NodeInfo) {
	s.mu.Lock()
	ping := s.table.update(n, time.Now())
	s.mu.Unlock()
	if ping != nil {
		s.pingNodeAsync(*ping)
	}
}

// Ping sends a ping to addr and returns the node's ID. A node that answers
// is added to the routing table if there is room.
func (s *Server) Ping(ctx context.Context, addr netip.AddrPort) ([20]byte, error) {
	m, err := s.query(ctx, addr, [20]byte{}, "ping", &Args{})
	if err != nil {
		return [20]byte{}, err
	}
	var id [20]byte
	copy(id[:], m.R.ID)
	return id, nil
}

// AddNode pings addr in the background and adds the node to the routing
// table if it answers (for example the port of a peer's PORT message).
func (s *Server) AddNode(addr netip.AddrPort) {
	s.pingAsync(addr)
}

// pingAsync pings addr in the background if a ping slot is free.
func (s *Server) pingAsync(addr netip.AddrPort) {
	s.pingNodeAsync(NodeInfo{Addr: addr})
}

// pingNodeAsync pings n in the background if a ping slot is free; the
// answer or timeout updates the table.
func (s *Server) pingNodeAsync(n NodeInfo) {
	if !validNodeAddr(n.Addr) || !s.reachable(n.Addr) || s.closed() {
		return
	}
	select {
	case s.pingSlot <- struct{}{}:
	default:
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.pingSlot }()
		ctx, cancel := context.WithTimeout(context.Background(), 2*s.cfg.QueryTimeout)
		defer cancel()
		s.query(ctx, n.Addr, n.ID, "ping", &Args{})
	}()
}

// Nodes returns the good nodes of the routing table, for persisting and
// passing back as Config.Nodes.
func (s *Server) Nodes() []NodeInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.table.good(time.Now())
}

// Stats returns a snapshot of the server's state and counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	total, good := s.table.counts(time.Now())
	buckets := len(s.table.buckets)
	s.mu.Unlock()
	hashes, peers := s.peers.counts()
	st := Stats{
		ID:              hex.EncodeToString(s.self[:]),
		Nodes:           total,
		GoodNodes:       good,
		Buckets:         buckets,
		InfoHashes:      hashes,
		PeersStored:     peers,
		QueriesIn:       s.queriesIn.Load(),
		QueriesOut:      s.queriesOut.Load(),
		ResponsesIn:     s.responsesIn.Load(),
		Timeouts:        s.timeouts.Load(),
		ErrorsIn:        s.errorsIn.Load(),
		ErrorsOut:       s.errorsOut.Load(),
		DroppedRate:     s.droppedRate.Load(),
		DroppedBad:      s.droppedBad.Load(),
		AnnouncesStored: s.ann.Load(),
	}
	if la := s.conn.LocalAddr(); la != nil {
		st.Addr = la.String()
	}
	return st
}
