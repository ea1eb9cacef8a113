// Package session holds all torrents of one gobit process: the peer listen
// socket, the session-wide connection, half-open and disk limits, the read
// cache, the tracker client, the DHT node (dht.go), local service discovery
// (discovery.go), the network's state: IP version, the addresses peers see
// us at, the router port mapping (network.go), persistence in the state
// database (persist.go), the list of torrents, and what organizes it:
// categories and tags (categories.go),
// the queue and its limits (queue.go), the watch directory (watch.go) and
// the on-complete command (oncomplete.go).
//
// Ownership: the torrent map and the session settings are guarded by
// Session.mu, held only for map access and snapshot reads (Torrent.Stats is
// an atomic load), never across I/O, a call into a torrent's loop or the
// store. Each torrent's state belongs to its own event loop (package
// torrent). The accept loop runs in its own goroutine and each incoming
// handshake in a short-lived goroutine bounded by a deadline; the flush
// loop, the DHT announce loop and the LSD loop run until Close.
//
// Persistence: a torrent's record is written on add, pause, resume, limit
// changes, move, metadata and completion; its resume data (verified pieces
// and file stamps) every FlushInterval, on pause, when a file or the
// torrent completes, and at Close. A flush snapshots the bitfield on the
// loop, syncs the files, stats them, then commits, so a recorded piece is
// always on disk; torrents whose pieces and totals did not change since
// their last flush are skipped, and the others are written in one
// transaction. Session.flushMu keeps one flush at a time, so an older
// snapshot never overwrites a newer one.
//
// Lock order: Session.flushMu, then the torrent's loop (Torrent.do) and its
// storage, then the store's transaction. Session.mu is a leaf but for the
// event broker's lock, taken inside it (events.go).
package session

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/lsd"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/portmap"
	"github.com/gobit/gobit/internal/ratelimit"
	"github.com/gobit/gobit/internal/store"
	"github.com/gobit/gobit/internal/torrent"
	"github.com/gobit/gobit/internal/tracker"
	"github.com/gobit/gobit/internal/utp"
)

// Defaults for Config fields left zero. Those a torrent also applies on its
// own are the torrent package's.
const (
	DefaultMaxConns           = 500
	DefaultMaxPeersPerTorrent = torrent.DefaultMaxPeers
	DefaultHalfOpen           = torrent.DefaultHalfOpen
	// DefaultDiskWorkers is the size of the disk pool all torrents share.
	DefaultDiskWorkers   = torrent.DefaultDiskWorkers
	DefaultReadCacheSize = 32 << 20
	// PeerIDPrefix is the BEP 20 Azureus-style prefix of our peer IDs.
	PeerIDPrefix = "-GB0001-"
	// maxTorrentFetch caps a .torrent downloaded from a URL.
	maxTorrentFetch = 10 << 20
)

// Config configures a Session. The zero value of each field means its
// documented default.
type Config struct {
	// DownloadDir is where torrents are saved; a multi-file torrent becomes a
	// folder named after the torrent inside it. Default: the working
	// directory.
	DownloadDir string
	// DataDir holds persistent state (resume data, settings); unused when
	// empty.
	DataDir string
	// ListenAddr is the host the peer listener binds (default all
	// interfaces; tests use 127.0.0.1).
	ListenAddr string
	// Port is the TCP peer listen port; 0 picks a free one. The CLI applies
	// the default 6881. A negative port disables listening.
	Port int
	// MaxConns bounds peer connections over all torrents.
	MaxConns int
	// MaxPeersPerTorrent bounds each torrent's connections.
	MaxPeersPerTorrent int
	// HalfOpen bounds concurrent outgoing connection attempts.
	HalfOpen int
	// HandshakeTimeout bounds an incoming connection's handshake (default
	// peer.DefaultHandshakeTimeout). Until it completes the connection
	// holds one of the MaxConns slots.
	HandshakeTimeout time.Duration
	// Encryption is the message stream encryption (MSE/PE) policy of peer
	// connections in both directions; the zero value is
	// peer.EncryptionPrefer.
	Encryption Encryption
	// UploadSlots is how many peers each torrent uploads to at once
	// (besides one optimistic unchoke).
	UploadSlots int
	// UploadLimit and DownloadLimit cap the session's total payload rates
	// in bytes per second; 0 is unlimited.
	UploadLimit, DownloadLimit int64
	// RatioLimit and SeedTimeLimit stop seeding torrents that have no
	// limits of their own; 0 is none.
	RatioLimit    float64
	SeedTimeLimit time.Duration
	// AnnounceMinInterval floors the wait between announces (tests lower
	// it; default 30 s).
	AnnounceMinInterval time.Duration
	// HandleIdle is how long a torrent without peers or disk jobs keeps
	// its files and save directory open (torrent.DefaultHandleIdle if
	// zero; tests lower it).
	HandleIdle time.Duration
	// ReadCacheSize is the memory, in bytes, of the session's cache of
	// pieces read for uploading (default 32 MiB; negative disables it).
	ReadCacheSize int64
	// LSD turns on local service discovery (BEP 14). LSDGroup is the
	// address announces go to (default the BEP 14 multicast group) and
	// LSDListen the listen address for a unicast group (tests: loopback).
	LSD                 bool
	LSDGroup, LSDListen string
	// DHT turns on the DHT node (BEP 5) on UDP at the peer port;
	// DHTBootstrap lists "host:port" nodes to join through (the CLI
	// defaults to the public routers; tests use loopback nodes).
	DHT          bool
	DHTBootstrap []string
	// UTP turns on uTP (BEP 29) on UDP at the peer port, shared with the
	// DHT: incoming uTP connections are accepted, and outgoing ones try
	// uTP first (utp.go). NoTCP turns TCP off (no listener, no TCP dials):
	// with UTP, peers are reached over uTP only.
	UTP, NoTCP bool
	// FlushInterval is how often resume data is saved (default 30 s).
	FlushInterval time.Duration
	// StreamTimeout bounds how long a stream read waits for its data
	// (default torrent.DefaultStreamTimeout).
	StreamTimeout time.Duration
	// Tracker configures the tracker client.
	Tracker tracker.ClientConfig
	// HTTPClient fetches .torrent files by URL; a client with a 30 s timeout
	// if nil.
	HTTPClient *http.Client
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// MaxActiveDownloads, MaxActiveSeeds and MaxActive are the queue
	// limits (queue.go): how many torrents download, seed, and run in all
	// at once; 0 is unlimited (the default). QueueInterval is how often
	// the queue is re-evaluated (default 2 s) and StallTimeout how long a
	// running torrent may move no payload before it stops holding a slot
	// (default 60 s).
	MaxActiveDownloads, MaxActiveSeeds, MaxActive int
	QueueInterval, StallTimeout                   time.Duration
	// WatchDir, when set, is polled every WatchInterval (default 2 s) for
	// .torrent and .magnet files to add (watch.go).
	WatchDir      string
	WatchInterval time.Duration
	// OnComplete, when set, is a program run (not through a shell) when a
	// torrent completes, with GOBIT_TORRENT_HASH, GOBIT_TORRENT_NAME and
	// GOBIT_TORRENT_DIR in its environment; it is killed after
	// OnCompleteTimeout (default 5 minutes). See oncomplete.go.
	OnComplete        string
	OnCompleteTimeout time.Duration
	// Proxy, when set, is a SOCKS5 proxy URL (socks5://[user:pass@]host:port)
	// that outgoing peer connections, tracker requests (HTTP through
	// CONNECT, UDP through UDP ASSOCIATE), uTP and the DHT (one UDP
	// association, retried with backoff; while it fails they stop) and
	// .torrent fetches go through; LSD is off with it (network.go).
	Proxy string
	// BindInterface, when set, is the interface name or address every
	// socket is bound to; if it goes away traffic stops rather than
	// leaving another way (network.go).
	BindInterface string
	// Blocklist, when set, is the file or http(s) URL of an IP blocklist
	// (blocklist.go); a file is polled every BlocklistPoll (default
	// DefaultBlocklistPoll) and reloaded when it changes.
	Blocklist     string
	BlocklistPoll time.Duration
	// IPVersion limits the listener, dials, the DHT and trackers to IPv4
	// ("4") or IPv6 ("6"); "" or "both" uses both (network.go).
	IPVersion string
	// PortMap, when set, maps the peer port on the router (UPnP IGD or
	// NAT-PMP; its Port is the session's); nil is off (network.go).
	PortMap *portmap.Config
}

// Encryption is the message stream encryption policy of peer connections:
// peer.EncryptionPrefer (the zero value), peer.EncryptionRequire or
// peer.EncryptionDisable.
type Encryption = peer.Encryption

// ParseEncryption parses the policy's name: "prefer", "require" or
// "disable".
func ParseEncryption(s string) (Encryption, error) { return peer.ParseEncryption(s) }

// AddRequest is what a user asks the session to add: exactly one of URI (a
// magnet, or an http(s) URL of a .torrent) and Torrent (.torrent bytes).
type AddRequest struct {
	URI     string
	Torrent []byte
	// DownloadDir overrides Config.DownloadDir for this torrent when set.
	DownloadDir string
	// Paused adds the torrent without starting it.
	Paused bool
	// Category files the torrent under an existing category; without a
	// DownloadDir it is saved in the category's save path.
	Category string
	// Tags are the torrent's initial tags.
	Tags []string
	// Files sets file priorities by file index ("skip", "low", "normal",
	// "high"); Only skips every file not listed (and not in Files). For a
	// magnet both are kept and applied when the metadata arrives.
	Files map[int]string
	Only  []int
	// Sequential and FirstLastPieceFirst set the piece order.
	Sequential, FirstLastPieceFirst bool
}

// Session is a running set of torrents.
type Session struct {
	cfg      Config
	log      *slog.Logger
	peerID   [20]byte
	ln       net.Listener
	port     int
	tracker  *tracker.Client
	disk     *torrent.DiskPool
	conns    *torrent.Slots
	halfOpen chan struct{}
	up, down *ratelimit.Limiter
	cache    *torrent.ReadCache
	counters *torrent.Counters // every torrent's bytes and errors (metrics.go)

	mu       sync.Mutex
	seedLim  torrent.SeedLimits // guarded by mu
	torrents map[metainfo.Hash]*entry
	adding   map[metainfo.Hash]struct{} // being saved by Add; guarded by mu
	order    []metainfo.Hash
	closed   bool
	wg       sync.WaitGroup
	db       *store.Store // nil without a data directory
	lsdMu    sync.Mutex
	lsd      *lsd.LSD // nil when LSD is off (or waits for the bound interface); guarded by lsdMu

	utp        *utp.Socket // nil when uTP is off (utp.go)
	utpStop    func()      // stops accepting uTP connections
	dht        *dht.Server // nil when the DHT is off
	dhtConn    net.PacketConn
	dhtLookups chan struct{}
	dhtLast    map[metainfo.Hash]time.Time // guarded by mu
	closeC     chan struct{}
	// settingsMu serializes UpdateSettings, so settings are saved in the
	// order they are applied.
	settingsMu sync.Mutex
	// labelMu serializes changes of categories and tags (categories.go);
	// cats maps a category's name to its save path (guarded by mu).
	labelMu sync.Mutex
	cats    map[string]string
	// qlim are the queue limits (guarded by mu); queueKick wakes the
	// queue loop; queueMu serializes queue moves (queue.go).
	qlim QueueLimits
	// queueWasLimited is set once limits were set or a torrent started
	// queued (guarded by mu): until then the queue has nothing to do.
	queueWasLimited bool
	queueKick       chan struct{}
	queueMu         sync.Mutex
	// flushMu makes each flush (snapshots, syncs, one write) whole, so
	// that a slow earlier flush cannot overwrite a later one's resume
	// records with older bitfields (persist.go).
	flushMu sync.Mutex
	// onDone bounds the on-complete commands running at once.
	onDone chan struct{}
	events *Broker // the event stream (events.go)
	// checks sums up finished data checks in the log (checklog.go).
	checks checkLog
	// net is how sockets reach the network (proxy, bound interface) and
	// block the IP blocklist (network.go, blocklist.go).
	net   *netPath
	block blockState
	// bound are the sockets that follow the bound interface, and its
	// state (network.go); unused without --bind-interface.
	bound boundSockets
	// votes are the addresses peers see us at; ipv6 our global IPv6
	// address; portmap the router mapping, nil when off (network.go).
	votes   addrVotes
	ipv6    ownIPv6
	portmap *portmap.Mapper
	// dirs remembers download directories recently checked (dirs.go).
	dirs dirChecks
	// discoveryKick wakes the LSD refresh (discovery.go).
	discoveryKick chan struct{}
}

type entry struct {
	t *torrent.Torrent
	// hash is the info hash in hex, made once: a list of 10,000 would
	// otherwise make 10,000 strings.
	hash    string
	added   time.Time
	saveDir string
	rec     store.Torrent // database record; guarded by Session.mu
	// flushed is what the last flush wrote (guarded by Session.flushMu).
	flushed flushed
	// opMu serializes the torrent's state changes with the commits of its
	// record (durable.go); removed, guarded by it, is set once the record
	// is deleted, after which nothing writes it again.
	opMu    sync.Mutex
	removed bool
	// lab is the torrent's category and tags, for status reads.
	lab atomic.Pointer[labels]
	// queued is set while the queue holds the torrent paused; forced
	// mirrors the record's Forced; pos is its 1-based queue position; q
	// is the queue's stall bookkeeping (guarded by Session.mu).
	queued atomic.Bool
	forced atomic.Bool
	// name is the display name the user gave the torrent, nil for none.
	name atomic.Pointer[string]
	pos  atomic.Int32
	q    queueState
	// memo is the torrent's last built Status and what it was built from
	// (sharedStatus).
	memo atomic.Pointer[statusMemo]
}

// New starts a session: it binds the peer listener and starts accepting.
func New(cfg Config) (*Session, error) {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxPeersPerTorrent <= 0 {
		cfg.MaxPeersPerTorrent = DefaultMaxPeersPerTorrent
	}
	if cfg.HalfOpen <= 0 {
		cfg.HalfOpen = DefaultHalfOpen
	}
	if cfg.ReadCacheSize == 0 {
		cfg.ReadCacheSize = DefaultReadCacheSize
	}
	if cfg.DownloadDir == "" {
		cfg.DownloadDir = "."
	}
	if abs, err := filepath.Abs(cfg.DownloadDir); err == nil {
		cfg.DownloadDir = abs // fixed now, whatever the working directory becomes
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	np, err := newNetPath(cfg, log)
	if err != nil {
		return nil, err
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = np.httpClient(30 * time.Second)
	}
	if np.peerDial() != nil && cfg.Tracker.HTTPClient == nil {
		// Through the proxy or the bound interface, with the tracker
		// client's own keep-alive settings.
		cfg.Tracker.HTTPClient = &http.Client{Timeout: tracker.DefaultHTTPTimeout, Transport: tracker.NewHTTPTransport(np.dial)}
	}
	if cfg.Tracker.Net == nil {
		cfg.Tracker.Net = np.trackerNet()
	}
	if np.proxy != nil && cfg.LSD {
		log.Warn("local service discovery off: its multicast would bypass the proxy", "proxy", np.proxy.String())
		cfg.LSD = false
	}
	if err := validIPVersion(cfg.IPVersion); err != nil {
		return nil, err
	}
	lookup6 := func() netip.Addr {
		if cfg.IPVersion == IPVersion4 {
			return netip.Addr{}
		}
		return globalIPv6(cfg.ListenAddr)
	}
	cfg.Tracker.IPVersion = cfg.IPVersion
	if cfg.Tracker.Logger == nil {
		cfg.Tracker.Logger = log // a tracker's outages, once each
	}
	s := &Session{
		cfg:           cfg,
		log:           log,
		peerID:        NewPeerID(),
		tracker:       tracker.NewClient(cfg.Tracker),
		disk:          torrent.NewDiskPool(DefaultDiskWorkers),
		conns:         torrent.NewSlots(cfg.MaxConns),
		halfOpen:      make(chan struct{}, cfg.HalfOpen),
		torrents:      make(map[metainfo.Hash]*entry),
		cache:         torrent.NewReadCache(cfg.ReadCacheSize),
		counters:      new(torrent.Counters),
		up:            ratelimit.New(cfg.UploadLimit),
		down:          ratelimit.New(cfg.DownloadLimit),
		seedLim:       torrent.SeedLimits{RatioLimit: cfg.RatioLimit, SeedTimeLimit: cfg.SeedTimeLimit},
		closeC:        make(chan struct{}),
		discoveryKick: make(chan struct{}, 1),
		events:        NewBroker(BrokerConfig{}),
		checks:        checkLog{log: log, window: checkLogWindow},
		net:           np,
	}
	s.block.src = cfg.Blocklist
	s.ipv6.lookup = lookup6
	s.tracker.SetIPv6Source(s.ipv6.get)
	s.initQueue()
	// The state database is opened first: a data directory in use by
	// another gobit is the likeliest start-up failure, and it must be
	// reported before any port is bound. From here on every failure
	// closes what was started before it (Close stops whatever is running).
	if cfg.DataDir != "" {
		if err := s.openStore(); err != nil {
			s.Close()
			return nil, err
		}
	}
	if cfg.Port >= 0 && !(cfg.NoTCP && cfg.UTP) {
		ln, err := s.listenPeers(ipNetwork(cfg.IPVersion, "tcp"), cfg.ListenAddr, cfg.Port)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("session: listen for peers: %w", err)
		}
		s.ln = ln
		s.port = ln.Addr().(*net.TCPAddr).Port
		s.wg.Add(1)
		go s.acceptLoop(ln)
		log.Info("listening for peers", "addr", ln.Addr().String())
	}
	if err := s.startBlocklist(); err != nil {
		s.Close()
		return nil, err
	}
	if cfg.Port >= 0 {
		s.startUTP()
	}
	s.startPortMap()
	if s.startLSD() {
		s.wg.Add(1)
		go s.discoveryLoop()
	}
	if s.db != nil {
		if err := s.restoreAll(); err != nil {
			s.Close()
			return nil, err
		}
		s.wg.Add(1)
		go s.flushLoop()
	}
	s.startDHT()
	if s.net.bind != nil {
		// After every socket it re-opens exists.
		s.bound.identity = s.net.bind.Identity()
		s.wg.Add(1)
		go s.networkLoop()
	}
	s.wg.Add(1)
	go s.queueLoop()
	if err := s.startWatch(); err != nil {
		s.Close()
		return nil, err
	}
	s.startEvents()
	return s, nil
}

// NewPeerID returns a random BEP 20 peer ID with gobit's prefix.
func NewPeerID() [20]byte {
	var id [20]byte
	copy(id[:], PeerIDPrefix)
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var r [12]byte
	rand.Read(r[:])
	for i, b := range r {
		id[len(PeerIDPrefix)+i] = alphabet[int(b)%len(alphabet)]
	}
	return id
}

// Port returns the TCP port peers can connect to (0 when not listening).
func (s *Session) Port() int { return s.port }

// PeerID returns the session's peer ID.
func (s *Session) PeerID() [20]byte { return s.peerID }

// Close stops every torrent and the listener.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closeC)
	s.events.Close()
	entries := make([]*entry, 0, len(s.torrents))
	for _, e := range s.torrents {
		entries = append(entries, e)
	}
	s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.stopUTPAccept()
	// Save every torrent's state (one transaction), then stop them all
	// (announcing "stopped").
	s.flushEntries(entries)
	var wg sync.WaitGroup
	for _, e := range entries {
		wg.Go(func() { e.t.Close(false) })
	}
	wg.Wait()
	s.wg.Wait()
	if s.portmap != nil {
		s.portmap.Close()
	}
	s.stopDHT()
	s.stopUTP()
	s.stopLSD()
	s.checks.flush()
	err := s.tracker.Close()
	if s.db != nil {
		if cerr := s.db.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Add adds a torrent and starts it (AddMany with one request).
func (s *Session) Add(ctx context.Context, req AddRequest) (Status, error) {
	sts, errs := s.AddMany(ctx, []AddRequest{req})
	return sts[0], errs[0]
}

// start creates and registers a torrent. rec is its database record.
// quiet marks a torrent restored at start-up or added in a batch: it is
// logged at debug level (the caller logs the count), not one line each of
// thousands.
func (s *Session) start(tc torrent.Config, saveDir string, paused bool, rec *store.Torrent, quiet bool) (*entry, error) {
	tc.SaveDir = saveDir
	tc.PeerID = s.peerID
	tc.Port = uint16(max(s.port, 0))
	tc.Tracker = s.tracker
	tc.AnnounceMinInterval = s.cfg.AnnounceMinInterval
	tc.HandleIdle = s.cfg.HandleIdle
	tc.Disk = s.disk
	tc.ReadCache = s.cache
	tc.Counters = s.counters
	tc.Conns = s.conns
	tc.HalfOpen = s.halfOpen
	tc.Encryption = s.cfg.Encryption
	tc.Dial = s.dialPeer
	if s.block.src != "" {
		tc.Blocked = s.Blocked
	}
	tc.MaxPeers = s.cfg.MaxPeersPerTorrent
	if tc.UploadSlots == 0 {
		tc.UploadSlots = s.cfg.UploadSlots
	}
	if len(rec.FilePaths) > 0 && tc.FilePaths == nil {
		tc.FilePaths = maps.Clone(rec.FilePaths)
	}
	queued := s.startQueued(paused, rec)
	tc.Paused = paused || queued
	tc.Logger = s.log
	tc.NoSync = s.db == nil // no resume data relies on the flush
	tc.GlobalUpload, tc.GlobalDownload = s.up, s.down
	tc.GlobalSeedLimits = s.globalSeedLimits
	h := tc.InfoHash
	tc.OnMetadata = func(b []byte) { s.onMetadata(h, b) }
	tc.OnComplete = func() { s.onComplete(h) }
	tc.OnFileComplete = func() { s.onFileComplete(h) }
	name := tc.Name
	tc.OnChecked = func(have, pieces int) { s.checks.checked(h, name, have, pieces) }
	tc.AllowAddr = allowAddr(s.cfg.IPVersion)
	tc.OwnIPv6 = s.ipv6.get
	tc.OnYourIP = s.votes.add
	if s.cfg.DHT && s.port > 0 {
		tc.DHTPort = uint16(s.port)
		tc.OnDHTPort = s.onPeerDHTPort
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if _, ok := s.torrents[tc.InfoHash]; ok {
		return nil, &ExistsError{InfoHash: tc.InfoHash.String()}
	}
	added := rec.AddedAt
	if added.IsZero() {
		added = time.Now()
	}
	e := &entry{t: torrent.New(tc), hash: tc.InfoHash.String(), added: added, saveDir: saveDir, rec: *rec}
	e.setLabels(rec)
	e.setName(rec.DisplayName)
	e.queued.Store(queued)
	if queued {
		s.queueWasLimited = true
	}
	e.forced.Store(rec.Forced)
	s.torrents[tc.InfoHash] = e
	s.order = append(s.order, tc.InfoHash)
	e.pos.Store(int32(len(s.order)))
	if s.qlim.limited() { // without limits the queue has nothing to decide
		s.kickQueue()
	}
	s.events.Added(statusOf(e))
	lvl := slog.LevelInfo
	if quiet {
		lvl = slog.LevelDebug
	}
	s.log.Log(context.Background(), lvl, "torrent added", "info_hash", tc.InfoHash.String(), "name", tc.Name, "dir", saveDir, "paused", paused)
	return e, nil
}

// resolve turns an AddRequest into a torrent configuration.
func (s *Session) resolve(ctx context.Context, req AddRequest) (torrent.Config, []byte, error) {
	uri := strings.TrimSpace(req.URI)
	switch {
	case len(req.Torrent) > 0 && uri != "":
		return torrent.Config{}, nil, fmt.Errorf("%w: give either a URI or .torrent data, not both", ErrInvalid)
	case len(req.Torrent) > 0:
		tc, err := configFromTorrent(req.Torrent)
		return tc, req.Torrent, err
	case strings.HasPrefix(strings.ToLower(uri), "magnet:"):
		m, err := metainfo.ParseMagnet(uri)
		if err != nil {
			return torrent.Config{}, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return configFromMagnet(m), nil, nil
	case strings.HasPrefix(uri, "http://") || strings.HasPrefix(uri, "https://"):
		data, err := s.fetch(ctx, uri)
		if err != nil {
			return torrent.Config{}, nil, err
		}
		tc, err := configFromTorrent(data)
		return tc, data, err
	case uri == "":
		return torrent.Config{}, nil, fmt.Errorf("%w: nothing to add: give a magnet, a URL or .torrent data", ErrInvalid)
	default:
		return torrent.Config{}, nil, fmt.Errorf("%w: %q is neither a magnet link nor an http(s) URL", ErrInvalid, truncate(uri, 64))
	}
}

func configFromTorrent(data []byte) (torrent.Config, error) {
	if len(data) == 0 || data[0] != 'd' {
		return torrent.Config{}, fmt.Errorf("%w: not a .torrent file (it does not start with a bencoded dictionary)", ErrInvalid)
	}
	mi, err := metainfo.Parse(data)
	if err != nil {
		return torrent.Config{}, fmt.Errorf("%w: not a valid .torrent file: %w", ErrInvalid, err)
	}
	return torrent.Config{MetaInfo: mi, InfoHash: mi.InfoHash, Name: mi.Info.Name, Trackers: mi.Trackers()}, nil
}

func configFromMagnet(m *metainfo.Magnet) torrent.Config {
	tc := torrent.Config{InfoHash: m.InfoHash, Name: m.Name}
	for _, tr := range m.Trackers {
		tc.Trackers = append(tc.Trackers, []string{tr})
	}
	for _, p := range m.Peers {
		if ap, err := netip.ParseAddrPort(p); err == nil {
			tc.Peers = append(tc.Peers, ap)
		}
	}
	return tc
}

// fetch downloads a .torrent file, bounded in time and size.
func (s *Session) fetch(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: fetch %s: %w", ErrInvalid, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: fetch %s: HTTP %s", ErrInvalid, url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTorrentFetch+1))
	if err != nil {
		return nil, fmt.Errorf("%w: fetch %s: %w", ErrInvalid, url, err)
	}
	if len(data) > maxTorrentFetch {
		return nil, fmt.Errorf("%w: fetch %s: larger than %d bytes", ErrInvalid, url, maxTorrentFetch)
	}
	return data, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (s *Session) lookup(infoHash string) (*entry, error) {
	h, err := metainfo.ParseHash(infoHash)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.torrents[h]
	if e == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, h)
	}
	return e, nil
}

// List returns the status of every torrent, in the order they were added.
func (s *Session) List() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.order))
	for _, h := range s.order {
		out = append(out, *s.torrents[h].sharedStatus())
	}
	return out
}

// ListShared returns the status of every torrent, in the order they were
// added, without copying them: the Status values (and their Tags) are
// shared and must not be changed. A torrent's pointer stays the same while
// its status does (a parked torrent's, for hours), so a caller may keep
// what it derived from a Status, keyed by the pointer: a list of 10,000
// then rebuilds only the rows of the torrents that changed.
func (s *Session) ListShared() []*Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Status, 0, len(s.order))
	for _, h := range s.order {
		out = append(out, s.torrents[h].sharedStatus())
	}
	return out
}

// Parked returns how many torrents are parked: idle, with no goroutine of
// their own until something wakes them (package torrent, park.go).
func (s *Session) Parked() int {
	s.mu.Lock()
	ts := make([]*torrent.Torrent, 0, len(s.torrents))
	for _, e := range s.torrents {
		ts = append(ts, e.t)
	}
	s.mu.Unlock()
	n := 0
	for _, t := range ts {
		if t.Parked() {
			n++
		}
	}
	return n
}

// Get returns one torrent's details by hex info hash. A parked torrent's
// detail is read without waking it.
func (s *Session) Get(infoHash string) (Detail, error) {
	e, err := s.lookup(infoHash)
	if err != nil {
		return Detail{}, err
	}
	st, err := e.t.Detail()
	if err != nil {
		st = e.t.Stats()
	}
	d := Detail{Status: statusFrom(st, e), PieceLength: st.PieceLength, Pieces: st.NumPieces, Magnet: e.t.Magnet()}
	d.Files = make([]FileStatus, 0, len(st.Files))
	for _, f := range st.Files {
		fs := FileStatus{Index: len(d.Files), Path: f.Path, Size: f.Size, Completed: f.Completed, Progress: 1, Priority: f.Priority.String()}
		if f.Size > 0 {
			fs.Progress = float64(f.Completed) / float64(f.Size)
		}
		d.Files = append(d.Files, fs)
	}
	d.PeerList = make([]PeerStatus, 0, len(st.PeerList))
	for _, p := range st.PeerList {
		d.PeerList = append(d.PeerList, PeerStatus{
			Addr: p.Addr, Client: p.Client, Source: string(p.Source), Outgoing: p.Outgoing, Encrypted: p.Encrypted,
			Encryption: p.Encryption, Transport: p.Transport,
			Progress: p.Progress, DownloadRate: p.DownloadRate, UploadRate: p.UploadRate,
			Downloaded: p.Downloaded, Uploaded: p.Uploaded, Flags: p.Flags,
			IPVersion: PeerIPVersion(p.Addr),
		})
	}
	d.Trackers = []TrackerStatus{}
	for _, tr := range st.Trackers {
		d.Trackers = append(d.Trackers, TrackerStatus{
			URL: tr.URL, Tier: tr.Tier, Status: tr.Status, Error: tr.Error,
			Peers: tr.Peers, Seeders: tr.Seeders, Leechers: tr.Leechers,
			LastTime: tr.LastAnnounce, NextTime: tr.NextAnnounce,
		})
	}
	return d, nil
}

// StateChanged returns a channel that is closed when the torrent's state
// next changes (it completes, fails, is paused or resumed). Take it before
// reading the state with Get, so that no change falls between the two.
func (s *Session) StateChanged(infoHash string) (<-chan struct{}, error) {
	e, err := s.lookup(infoHash)
	if err != nil {
		return nil, err
	}
	return e.t.StateChanged(), nil
}

// Pause stops a torrent's transfers and announces "stopped".
func (s *Session) Pause(infoHash string) error {
	e, err := s.lookup(infoHash)
	if err != nil {
		return err
	}
	err = s.change(e, "torrent not paused", func(r *store.Torrent) { r.Paused, r.Forced = true, false }, func() error {
		e.queued.Store(false)
		e.forced.Store(false)
		return e.t.Pause()
	})
	if err != nil {
		return err
	}
	s.updateDiscovery()
	s.flush(e)
	return nil
}

// Resume restarts a paused torrent.
func (s *Session) Resume(infoHash string) error {
	e, err := s.lookup(infoHash)
	if err != nil {
		return err
	}
	err = s.change(e, "torrent not resumed", func(r *store.Torrent) { r.Paused, r.Forced = false, false }, func() error {
		e.forced.Store(false)
		return s.resumeQueued(e)
	})
	if err != nil {
		return err
	}
	s.updateDiscovery()
	return nil
}

// Remove removes a torrent, deleting its files when deleteData is set.
func (s *Session) Remove(infoHash string, deleteData bool) error {
	e, err := s.lookup(infoHash)
	if err != nil {
		return err
	}
	h := e.t.InfoHash()
	if err := s.forget(e); err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrNotFound, h)
		}
		return err
	}
	s.mu.Lock()
	if s.torrents[h] != e {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrNotFound, h)
	}
	delete(s.torrents, h)
	for i, x := range s.order {
		if x == h {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	s.renumberLocked()
	s.events.Removed(h.String())
	s.mu.Unlock()
	s.kickQueue()
	s.updateDiscovery()
	s.log.Info("torrent removed", "info_hash", h.String(), "delete_data", deleteData)
	return e.t.Close(deleteData)
}

func (s *Session) globalSeedLimits() torrent.SeedLimits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seedLim
}

// Settings returns the session-wide settings that can change at run time.
func (s *Session) Settings() Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Settings{
		UploadLimit:   s.up.Limit(),
		DownloadLimit: s.down.Limit(),
		RatioLimit:    s.seedLim.RatioLimit,
		SeedTimeLimit: int64(s.seedLim.SeedTimeLimit / time.Second),

		MaxActiveDownloads: int64(s.qlim.Downloads),
		MaxActiveSeeds:     int64(s.qlim.Seeds),
		MaxActive:          int64(s.qlim.Active),
		DownloadDir:        s.cfg.DownloadDir,
		NetPathStatus:      s.netPathStatus(),
	}
}

// UpdateSettings changes session-wide settings; nil fields are left alone.
func (s *Session) UpdateSettings(u SettingsUpdate) (Settings, error) {
	if err := u.validate(); err != nil {
		return Settings{}, err
	}
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	st := s.Settings()
	if u.UploadLimit != nil {
		st.UploadLimit = *u.UploadLimit
	}
	if u.DownloadLimit != nil {
		st.DownloadLimit = *u.DownloadLimit
	}
	if u.RatioLimit != nil {
		st.RatioLimit = *u.RatioLimit
	}
	if u.SeedTimeLimit != nil {
		st.SeedTimeLimit = *u.SeedTimeLimit
	}
	if u.MaxActiveDownloads != nil {
		st.MaxActiveDownloads = *u.MaxActiveDownloads
	}
	if u.MaxActiveSeeds != nil {
		st.MaxActiveSeeds = *u.MaxActiveSeeds
	}
	if u.MaxActive != nil {
		st.MaxActive = *u.MaxActive
	}
	// Saved first: settings that cannot be saved are not applied.
	if err := s.saveSettings(st); err != nil {
		return Settings{}, err
	}
	s.up.SetLimit(st.UploadLimit)
	s.down.SetLimit(st.DownloadLimit)
	s.mu.Lock()
	seedLim := torrent.SeedLimits{RatioLimit: st.RatioLimit, SeedTimeLimit: time.Duration(st.SeedTimeLimit) * time.Second}
	var ts []*torrent.Torrent
	if seedLim != s.seedLim {
		// Parked torrents look at the limits only when they wake: tell
		// them (outside s.mu, which the limits' getter takes).
		s.seedLim = seedLim
		ts = make([]*torrent.Torrent, 0, len(s.torrents))
		for _, e := range s.torrents {
			ts = append(ts, e.t)
		}
	}
	s.qlim = QueueLimits{Downloads: int(st.MaxActiveDownloads), Seeds: int(st.MaxActiveSeeds), Active: int(st.MaxActive)}
	s.mu.Unlock()
	for _, t := range ts {
		t.SessionSeedLimitsChanged()
	}
	s.kickQueue()
	return s.Settings(), nil
}

// UpdateTorrent changes one torrent's limits; nil fields are left alone.
func (s *Session) UpdateTorrent(infoHash string, u TorrentUpdate) (Status, error) {
	if err := u.validate(); err != nil {
		return Status{}, err
	}
	e, err := s.lookup(infoHash)
	if err != nil {
		return Status{}, err
	}
	if u.touchesLabels() {
		s.labelMu.Lock()
		defer s.labelMu.Unlock()
	}
	relabel, err := s.labelEdit(e, u)
	if err != nil {
		return Status{}, err
	}
	edit := func(r *store.Torrent) {
		if relabel != nil {
			relabel(r)
		}
		if u.UploadLimit != nil {
			r.Limits.UploadLimit = *u.UploadLimit
		}
		if u.DownloadLimit != nil {
			r.Limits.DownloadLimit = *u.DownloadLimit
		}
		if u.RatioLimit != nil {
			r.Limits.RatioLimit = *u.RatioLimit
		}
		if u.SeedTimeLimit != nil {
			r.Limits.SeedTimeLimit = *u.SeedTimeLimit
		}
		if u.UploadSlots != nil {
			r.Limits.UploadSlots = *u.UploadSlots
			if r.Limits.UploadSlots == 0 {
				r.Limits.UploadSlots = torrent.DefaultUploadSlots
			}
		}
		if u.Sequential != nil {
			r.Sequential = *u.Sequential
		}
		if u.FirstLastPieceFirst != nil {
			r.FirstLastPieceFirst = *u.FirstLastPieceFirst
		}
		if u.Name != nil {
			r.DisplayName = displayName(*u.Name, e.t.Stats().Name)
		}
	}
	apply := func() error {
		st := e.t.Stats()
		if u.Name != nil {
			e.setName(displayName(*u.Name, st.Name))
		}
		if u.UploadLimit != nil || u.DownloadLimit != nil {
			up, down := st.UploadLimit, st.DownloadLimit
			if u.UploadLimit != nil {
				up = *u.UploadLimit
			}
			if u.DownloadLimit != nil {
				down = *u.DownloadLimit
			}
			e.t.SetRateLimits(up, down)
		}
		if u.RatioLimit != nil || u.SeedTimeLimit != nil {
			l := st.SeedLimits
			if u.RatioLimit != nil {
				l.RatioLimit = *u.RatioLimit
			}
			if u.SeedTimeLimit != nil {
				l.SeedTimeLimit = time.Duration(*u.SeedTimeLimit) * time.Second
			}
			if err := e.t.SetSeedLimits(l); err != nil {
				return err
			}
		}
		if u.UploadSlots != nil {
			if err := e.t.SetUploadSlots(*u.UploadSlots); err != nil {
				return err
			}
		}
		if relabel != nil {
			s.mu.Lock()
			e.setLabels(&e.rec)
			s.mu.Unlock()
		}
		if u.Sequential != nil || u.FirstLastPieceFirst != nil {
			if err := e.t.SetPieceOrder(u.Sequential, u.FirstLastPieceFirst); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.change(e, "limits not changed", edit, apply); err != nil {
		return Status{}, err
	}
	return statusOf(e), nil
}

func statusOf(e *entry) Status { return *e.sharedStatus() }

// statusMemo is a Status built by sharedStatus and everything it was built
// from; it is never changed once stored.
type statusMemo struct {
	st      *Status
	stats   *torrent.Stats
	lab     *labels
	name    *string
	saveDir string
	pos     int32
	forced  bool
	queued  bool
}

// sharedStatus returns the torrent's status, built again only when the
// torrent's published stats, labels, name, save directory or queue place
// changed since the last call: a list of 10,000 mostly parked torrents
// then copies nothing. The Status is shared: callers must not change it.
// The caller holds Session.mu (saveDir).
func (e *entry) sharedStatus() *Status {
	// Read what the status is built from before building it (statusFrom
	// reads them again): the memo is then never newer than what it holds,
	// and a change between the two reads only costs one more build.
	stats, lab, name, saveDir := e.t.SharedStats(), e.lab.Load(), e.name.Load(), e.saveDir
	pos, forced, queued := e.pos.Load(), e.forced.Load(), e.queued.Load()
	if old := e.memo.Load(); old != nil && old.stats == stats && old.lab == lab && old.name == name &&
		old.saveDir == saveDir && old.pos == pos && old.forced == forced && old.queued == queued {
		return old.st
	}
	st := statusFrom(*stats, e)
	m := &statusMemo{stats: stats, lab: lab, name: name, saveDir: saveDir, pos: pos, forced: forced, queued: queued}
	// A running torrent publishes its stats every tick, changed or not
	// (an idle seed until it parks): the same values keep the same Status,
	// so that what callers derived from it stays valid.
	if old := e.memo.Load(); old != nil && sameStatus(&st, old.st) {
		m.st = old.st
	} else {
		m.st = new(Status)
		*m.st = st
	}
	e.memo.Store(m)
	return m.st
}

// sameStatus reports whether a and b hold the same values
// (TestSameStatusCoversEveryField checks that it compares every field).
func sameStatus(a, b *Status) bool {
	return a.InfoHash == b.InfoHash && a.Name == b.Name && a.OriginalName == b.OriginalName && a.State == b.State &&
		a.Error == b.Error && a.Progress == b.Progress && a.TotalSize == b.TotalSize && a.Completed == b.Completed &&
		a.Downloaded == b.Downloaded && a.Uploaded == b.Uploaded && a.DownloadRate == b.DownloadRate &&
		a.UploadRate == b.UploadRate && a.Peers == b.Peers && a.Seeds == b.Seeds && a.ETA == b.ETA &&
		a.ETASeconds == b.ETASeconds && a.SaveDir == b.SaveDir && a.ContentPath == b.ContentPath &&
		a.AddedAt.Equal(b.AddedAt) && a.AddedAt.Location() == b.AddedAt.Location() && a.Ratio == b.Ratio &&
		a.UploadLimit == b.UploadLimit && a.DownloadLimit == b.DownloadLimit && a.RatioLimit == b.RatioLimit &&
		a.SeedTimeLimit == b.SeedTimeLimit && a.UploadSlots == b.UploadSlots && a.Finished == b.Finished &&
		a.Category == b.Category && slices.Equal(a.Tags, b.Tags) && a.QueuePosition == b.QueuePosition &&
		a.Forced == b.Forced && a.WantedSize == b.WantedSize && a.WantedCompleted == b.WantedCompleted &&
		a.Sequential == b.Sequential && a.FirstLastPieceFirst == b.FirstLastPieceFirst &&
		a.PeersSending == b.PeersSending && a.PeersReceiving == b.PeersReceiving
}

func statusFrom(st torrent.Stats, e *entry) Status {
	s := Status{
		InfoHash:       e.hash,
		Name:           st.Name,
		OriginalName:   st.Name,
		State:          State(st.State),
		Error:          st.Error,
		TotalSize:      st.TotalSize,
		Completed:      st.Completed,
		Downloaded:     st.Downloaded,
		Uploaded:       st.Uploaded,
		DownloadRate:   st.DownloadRate,
		UploadRate:     st.UploadRate,
		Peers:          st.Peers,
		Seeds:          st.Seeds,
		PeersSending:   st.Sending,
		PeersReceiving: st.Receiving,
		SaveDir:        e.saveDir,
		ContentPath:    contentPath(e.saveDir, st),
		AddedAt:        e.added,
		ETASeconds:     -1,
		Ratio:          st.Ratio,
		UploadLimit:    st.UploadLimit,
		DownloadLimit:  st.DownloadLimit,
		RatioLimit:     st.SeedLimits.RatioLimit,
		SeedTimeLimit:  int64(st.SeedLimits.SeedTimeLimit / time.Second),
		UploadSlots:    st.UploadSlots,
		Finished:       st.Finished,

		WantedSize:          st.WantedSize,
		WantedCompleted:     st.WantedCompleted,
		Sequential:          st.Sequential,
		FirstLastPieceFirst: st.FirstLastPieceFirst,
	}
	s.Category, s.Tags = e.labelsOf()
	if n := e.name.Load(); n != nil {
		s.Name = *n
	}
	s.QueuePosition, s.Forced = int(e.pos.Load()), e.forced.Load()
	if s.State == StatePaused && e.queued.Load() {
		s.State = StateQueued
	}
	if !st.HaveInfo {
		s.WantedSize, s.WantedCompleted = 0, 0
	}
	if st.WantedSize > 0 {
		s.Progress = float64(st.WantedCompleted) / float64(st.WantedSize)
	} else if st.HaveInfo {
		s.Progress = 1 // every file skipped: nothing left to fetch
	}
	if left := st.WantedSize - st.WantedCompleted; st.HaveInfo && left > 0 && st.DownloadRate > 0 {
		s.ETA = time.Duration(left/st.DownloadRate) * time.Second
		s.ETASeconds = int64(s.ETA / time.Second)
	} else if st.HaveInfo && left == 0 {
		s.ETASeconds = 0
	}
	return s
}

// Recheck hashes a torrent's data again; it also recovers a torrent stopped
// by a disk error once the cause is fixed.
func (s *Session) Recheck(infoHash string) error {
	e, err := s.lookup(infoHash)
	if err != nil {
		return err
	}
	if err := e.t.Recheck(); err != nil {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return nil
}

// Move moves a torrent's files to dir and continues seeding or downloading
// from there.
func (s *Session) Move(infoHash, dir string) error {
	if strings.TrimSpace(dir) == "" {
		return fmt.Errorf("%w: empty path", ErrInvalid)
	}
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("%w: %q is not an absolute path", ErrInvalid, dir)
	}
	e, err := s.lookup(infoHash)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	// The new directory is saved first: a move whose destination cannot be
	// recorded is not started.
	err = s.change(e, "torrent not moved", func(r *store.Torrent) { r.SaveDir = abs }, func() error {
		if err := e.t.Move(abs); err != nil {
			if errors.Is(err, torrent.ErrBusy) || errors.Is(err, torrent.ErrNoMetadata) {
				return fmt.Errorf("%w: %w", ErrConflict, err)
			}
			return err
		}
		s.mu.Lock()
		e.saveDir = abs
		s.mu.Unlock()
		return nil
	})
	return err
}

// AddPeers gives a torrent peer addresses to connect to ("host:port", IP
// literals only), as a user would by hand.
func (s *Session) AddPeers(infoHash string, addrs ...string) error {
	e, err := s.lookup(infoHash)
	if err != nil {
		return err
	}
	var aps []netip.AddrPort
	for _, a := range addrs {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			return fmt.Errorf("%w: peer address %q: %w", ErrInvalid, a, err)
		}
		aps = append(aps, ap)
	}
	e.t.AddPeers(torrent.SourceUser, aps)
	return nil
}

// untilClose returns a context that ends after d or when the session
// closes, whichever comes first, for work the session starts on its own
// (DHT bootstraps and lookups).
func (s *Session) untilClose(d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	go func() {
		select {
		case <-s.closeC:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
