package torrent

import (
	"errors"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/choker"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/picker"
	"github.com/gobit/gobit/internal/ratelimit"
	"github.com/gobit/gobit/internal/storage"
	"github.com/gobit/gobit/internal/tracker"
	"github.com/gobit/gobit/internal/wire"
)

// State is the lifecycle state of a torrent.
type State string

// Torrent states.
const (
	StateMetadata    State = "metadata"
	StateChecking    State = "checking"
	StateDownloading State = "downloading"
	StateSeeding     State = "seeding"
	StatePaused      State = "paused"
	StateError       State = "error"
)

// Defaults for Config fields left zero. The session uses the same values
// for its shared disk pool and half-open limit.
const (
	DefaultMaxPeers    = 50
	DefaultUploadSlots = 8
	DefaultDialTimeout = 10 * time.Second
	// DefaultDiskWorkers is how many disk jobs a DiskPool runs at once.
	DefaultDiskWorkers = 8
	// DefaultHalfOpen bounds concurrent outgoing dials.
	DefaultHalfOpen = 32
	// ClientVersion is sent in the extension handshake.
	ClientVersion = "gobit 0.1"
)

// ErrStopped is returned by commands sent to a torrent that has stopped.
var ErrStopped = errors.New("torrent: stopped")

// Config describes one torrent and the session services it uses.
type Config struct {
	// MetaInfo is the parsed .torrent; nil for a magnet until the metadata
	// has been fetched.
	MetaInfo *metainfo.MetaInfo
	// InfoHash identifies the torrent (required).
	InfoHash metainfo.Hash
	// Name is the display name until the metadata is known.
	Name string
	// Trackers are the announce tiers.
	Trackers [][]string
	// Peers are initial peer addresses (e.g. a magnet's x.pe).
	Peers []netip.AddrPort
	// SaveDir is the directory the torrent's files are created in.
	SaveDir string
	// PeerID is our peer ID.
	PeerID [20]byte
	// Port is our peer listen port, announced to trackers and peers.
	Port uint16
	// Tracker sends announces; nil disables trackers.
	Tracker *tracker.Client
	// AnnounceMinInterval floors the wait between announces (tests lower it).
	AnnounceMinInterval time.Duration
	// HandleIdle is how long the torrent, without peers, goes without disk
	// jobs before its storage closes the descriptors it keeps open between
	// operations (DefaultHandleIdle if zero).
	HandleIdle time.Duration
	// Disk runs disk jobs; a private pool of DefaultDiskWorkers is made if
	// nil.
	Disk *DiskPool
	// Conns is the session-wide connection limit; nil is unlimited.
	Conns *Slots
	// HalfOpen bounds concurrent outgoing dials session-wide; nil makes a
	// private limit of DefaultHalfOpen.
	HalfOpen chan struct{}
	// MaxPeers bounds this torrent's connections.
	MaxPeers int
	// UploadSlots is how many interested peers are unchoked at once
	// (besides the optimistic unchoke); negative means unlimited.
	UploadSlots int
	// UploadLimit and DownloadLimit cap this torrent's payload rates in
	// bytes per second; 0 is unlimited.
	UploadLimit, DownloadLimit int64
	// GlobalUpload and GlobalDownload are the session-wide limiters every
	// connection also waits on; nil is unlimited.
	GlobalUpload, GlobalDownload *ratelimit.Limiter
	// DialTimeout bounds one dial plus handshake.
	DialTimeout time.Duration
	// Encryption is the message stream encryption policy of outgoing
	// connections (the zero value prefers encryption, falling back to a
	// plain handshake).
	Encryption peer.Encryption
	// Dial, when set, opens outgoing peer connections (through a proxy,
	// or bound to an interface) instead of a plain dial.
	Dial peer.DialFunc
	// Blocked, when set, reports whether an address is on the IP
	// blocklist: such addresses are neither recorded nor dialled.
	Blocked func(netip.Addr) bool
	// Paused starts the torrent paused.
	Paused bool
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// PeerConfig tunes each peer connection.
	PeerConfig peer.Config
	// Resume is the torrent's saved state from a previous run, if any.
	Resume *ResumeData
	// NoSync skips the flush of the files to stable storage when the
	// download completes. For sessions that keep no state: nothing records
	// the pieces as verified, so the flush would only delay the end (like
	// cp, the kernel writes the data back on its own).
	NoSync bool
	// Uploaded and Downloaded are the payload totals of previous runs.
	Uploaded, Downloaded int64
	// OnMetadata is called (on the loop; it must not block) when a magnet's
	// info dictionary has been fetched and verified.
	OnMetadata func(infoBytes []byte)
	// OnComplete is called (on the loop; it must not block) when the last
	// piece of a download is verified.
	OnComplete func()
	// OnChecked is called (on the loop; it must not block) when a check
	// of the data (or of the resume data) has finished, with the pieces
	// found and the torrent's piece count. The torrent logs the result at
	// debug level only: the caller sums checks up (thousands finish
	// together at a start).
	OnChecked func(have, pieces int)
	// OnFileComplete is called (on the loop; it must not block) when a file
	// of the torrent has all its pieces verified, before the last one.
	OnFileComplete func()
	// DHTPort, when non-zero, is our DHT node's UDP port: the handshake sets
	// the DHT bit and peers that set it get a PORT message (BEP 5).
	DHTPort uint16
	// OnDHTPort receives DHT nodes from peers' PORT messages; it must not
	// block.
	OnDHTPort func(netip.AddrPort)
	// AllowAddr, when set, decides which peer addresses are kept and
	// dialled, whatever their source (the session's IP version choice).
	AllowAddr func(netip.Addr) bool
	// OwnIPv6 returns our global IPv6 address, sent as "ipv6" in the
	// extension handshake (BEP 10) when valid; nil sends none.
	OwnIPv6 func() netip.Addr
	// OnYourIP receives the address a peer says it sees us at ("yourip",
	// BEP 10), with the peer's address; it is called on the loop and must
	// not block.
	OnYourIP func(peer netip.AddrPort, ours netip.Addr)
	// ReadCache caches pieces read for uploading; nil reads blocks directly.
	ReadCache *ReadCache
	// Counters, when set, receives the torrent's bytes and errors as well
	// (shared by a session's torrents, read by its metrics).
	Counters *Counters
	// Storage tunes file handling.
	Storage storage.Options
	// SeedLimits are this torrent's seeding stop conditions.
	SeedLimits SeedLimits
	// GlobalSeedLimits returns the session-wide seeding stop conditions,
	// used where SeedLimits has zeros; nil means none.
	GlobalSeedLimits func() SeedLimits
	// FilePriorities are the files' priorities by file index (as in
	// Stats.Files); files not in it are normal. For a magnet they apply
	// once the metadata is known; indexes beyond the files are ignored.
	FilePriorities map[int]Priority
	// FilePaths are the files' paths, by file index, where they differ
	// from the torrent's own (renamed files): relative to SaveDir, clean
	// and local. For a magnet they apply once the metadata is known;
	// indexes beyond the files are ignored, and a set of paths the
	// storage refuses (two files on one path) is dropped with a warning.
	FilePaths map[int]string
	// OnlyFiles, when not nil, skips every file not listed (and not in
	// FilePriorities); for a magnet it applies once the metadata is known.
	OnlyFiles []int
	// Sequential picks pieces in index order (within a priority).
	Sequential bool
	// FirstLastPieceFirst fetches the first and last piece of each wanted
	// file before the others (for previews).
	FirstLastPieceFirst bool
}

// Stats is an immutable snapshot of a torrent's state.
type Stats struct {
	InfoHash     metainfo.Hash
	Name         string
	State        State
	Error        string
	HaveInfo     bool
	TotalSize    int64
	PieceLength  int64
	NumPieces    int
	HavePieces   int
	Completed    int64 // verified bytes
	Downloaded   int64 // payload bytes received
	Uploaded     int64 // payload bytes sent
	DownloadRate int64 // bytes per second
	UploadRate   int64
	Peers        int
	Seeds        int
	// Sending counts the peers that unchoke us while we want their
	// pieces (flag D), Receiving those we unchoke while they want ours
	// (flag U).
	Sending, Receiving int
	PeerSources        SourceCounts // Peers by source
	Ratio              float64
	SeedLimits         SeedLimits // the torrent's own limits
	// UploadLimit and DownloadLimit are the torrent's own rate limits
	// (bytes/s, 0 unlimited); UploadSlots its unchoke slots.
	UploadLimit, DownloadLimit int64
	UploadSlots                int
	// Finished is set when seeding stopped because a limit was reached.
	Finished bool
	// WantedSize and WantedCompleted are TotalSize and Completed counted
	// over the pieces that overlap a file not skipped.
	WantedSize, WantedCompleted int64
	// Sequential and FirstLastPieceFirst are the piece order settings.
	Sequential, FirstLastPieceFirst bool
	// Private is set for private torrents (BEP 27).
	Private bool
	SaveDir string
	// Root is the torrent's content relative to SaveDir: the path of its
	// only file, or the top-level folder all its files are in ("" before
	// the metadata is known, and when renames spread its files over
	// several folders).
	Root  string
	Files []FileStats
	// PeerList describes the connected peers (filled by Detail only).
	PeerList []PeerStats
	// Trackers describes each tracker, in tier order (filled by Detail
	// only). Before the first announce, and when no announcer ever ran
	// (a torrent added paused), every tracker is "not contacted".
	Trackers []tracker.TrackerStatus
}

// PeerStats describes one connected peer.
type PeerStats struct {
	Addr      string
	Client    string
	Source    Source
	Outgoing  bool
	Encrypted bool // the stream is RC4-encrypted (MSE)
	// Encryption is peer.CryptoRC4 ("rc4"), peer.CryptoPlaintext
	// ("plaintext": an MSE handshake, then a plain stream) or
	// peer.CryptoNone ("none": a plain handshake).
	Encryption string
	// Transport is "tcp" or "utp".
	Transport    string
	Progress     float64 // fraction of pieces the peer has
	DownloadRate int64   // from the peer to us
	UploadRate   int64
	Downloaded   int64
	Uploaded     int64
	// Flags in the usual notation: D/d we download / are interested but
	// choked, U/u we upload / they are interested but choked, S snubbed,
	// E Fast extension, X extension protocol.
	Flags string
}

// FileStats describes one file's progress.
type FileStats struct {
	Path      string
	Size      int64
	Completed int64
	Priority  Priority
}

// peerEvents is the buffer of a torrent's channel of peer events.
const peerEvents = 64

// Torrent is one running torrent. Create it with New; it runs until Close.
type Torrent struct {
	cfg  Config
	hash metainfo.Hash
	log  *slog.Logger

	// peerEvC carries the peers' events; the loop makes it (with
	// peerEvents of buffer) when its first peer connects, and owns the
	// field.
	peerEvC chan peer.Event
	connC   chan newConn
	// dialC carries failed dials; the loop makes it before its first
	// dial and owns the field.
	dialC    chan dialResult
	addrsC   chan peerAddrs
	diskC    chan diskResult
	cmdC     chan func()
	stopC    chan struct{}
	doneC    chan struct{}
	wakeC    chan struct{} // capacity 1: a parked torrent's timer asks for a tick
	stopOnce sync.Once
	// parkMu guards parked and senders (park.go).
	parkMu  sync.Mutex
	parked  bool
	senders int
	// diskInflight counts disk jobs posted and not yet delivered.
	diskInflight atomic.Int32
	diskJobs     sync.WaitGroup
	// ioMu is held shared by every disk job and exclusively while the
	// torrent's files are moved.
	ioMu sync.RWMutex
	// loading holds the requests waiting for a piece being loaded into the
	// read cache, by piece (see serve).
	loading map[int][]waitingRequest
	// writeMu serializes this torrent's piece writes.
	writeMu   sync.Mutex
	stats     atomic.Pointer[Stats]
	announcer atomic.Pointer[tracker.Announcer]
	// stateC is closed, and replaced, when publish stores a snapshot
	// whose State differs from the one before (see StateChanged).
	stateC atomic.Pointer[chan struct{}]

	// Counters the announcer reads from its own goroutines.
	downloaded atomic.Int64
	uploaded   atomic.Int64
	left       atomic.Int64
	// haveGen changes whenever the verified pieces may have (HaveVersion).
	haveGen atomic.Uint64

	// Loop-owned state.
	picked          []picker.Block // fillRequests' scratch
	state           State
	errMsg          string
	paused          bool
	info            *metainfo.Info
	infoBytes       []byte
	name            string
	pk              *picker.Picker
	store           *storage.Storage
	have            *bitfield.Bitfield
	checked         bool
	activeAt        time.Time           // the loop's last message other than a tick (park.go)
	wakeTimer       *time.Timer         // wakes the torrent while parked
	lastDiskJob     time.Time           // when postDisk last ran a job
	handlesReleased bool                // the storage was told to close its idle descriptors since
	resuming        bool                // a complete torrent's resume data is being confirmed (resumeJob)
	resumeStamps    []storage.FileStamp // the stamps resumeJob compares, for the check if they differ
	pieces          map[int]*pieceBuf
	verifying       map[int]bool
	peers           map[*peer.Conn]*peerState
	byID            map[[20]byte]*peerState
	byNum           map[int]*peerState
	nextPeerID      int
	addrs           map[netip.AddrPort]*addrInfo
	dialing         int
	banned          map[string]bool
	bannedIDs       map[int]bool // numbers of the peers banned (picker.PeerID)
	md              *metadataFetch
	annRunning      bool            // the announcer in t.announcer is started
	annDone         <-chan struct{} // closed when the last stopped announcer's "stopped" announces ended
	rng             *rand.Rand
	rateDown        rate
	rateUp          rate
	lastDown        int64
	lastUp          int64
	completeAt      time.Time
	seedingSince    time.Time
	seedLimits      SeedLimits
	choker          *choker.Choker
	chokeRound      int
	upLimit         *ratelimit.Limiter
	downLimit       *ratelimit.Limiter
	finished        bool   // paused because a seeding limit was reached
	downloading     bool   // the last check found pieces missing
	moving          bool   // files are being moved
	renaming        bool   // files are being renamed (RenameFiles)
	root            string // Stats.Root, set by setRoot
	files           *fileProgress
	lastHungry      time.Time // last reannounce for lack of peers
	pendingWrites   int       // complete pieces being hashed or written
	sel             selection // file priorities, piece order, stream windows
	heldBytes       int64     // piece data in memory: received blocks of partial, verifying and writing pieces
	bdp             int64     // the peers' bandwidth-delay products added up, updated every tick
	fastest         int64     // the highest download rate of a peer, updated every tick
	// fastGiven maps a piece to the peer we serve it to while choking it
	// (an allowed-fast piece, BEP 6): each piece is given away to one
	// choked peer at a time (see fastTaken).
	fastGiven map[uint32]int
}

type newConn struct {
	nc       net.Conn
	hs       wire.Handshake
	outgoing bool
	addr     netip.AddrPort // the address we dialled (outgoing only)
}

type dialResult struct {
	addr netip.AddrPort
	err  error
}

// New creates a torrent and starts its event loop.
func New(cfg Config) *Torrent {
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = DefaultMaxPeers
	}
	if cfg.UploadSlots == 0 {
		cfg.UploadSlots = DefaultUploadSlots
	}
	if cfg.HandleIdle <= 0 {
		cfg.HandleIdle = DefaultHandleIdle
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.Disk == nil {
		cfg.Disk = NewDiskPool(DefaultDiskWorkers)
	}
	if cfg.HalfOpen == nil {
		cfg.HalfOpen = make(chan struct{}, DefaultHalfOpen)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Torrent{
		cfg:        cfg,
		hash:       cfg.InfoHash,
		log:        log.With("torrent", cfg.InfoHash.String()[:8]),
		connC:      make(chan newConn, 16),
		addrsC:     make(chan peerAddrs, 16),
		diskC:      make(chan diskResult, 64),
		cmdC:       make(chan func(), 16),
		wakeC:      make(chan struct{}, 1),
		stopC:      make(chan struct{}),
		doneC:      make(chan struct{}),
		name:       cfg.Name,
		pieces:     make(map[int]*pieceBuf),
		verifying:  make(map[int]bool),
		loading:    make(map[int][]waitingRequest),
		fastGiven:  make(map[uint32]int),
		peers:      make(map[*peer.Conn]*peerState),
		byID:       make(map[[20]byte]*peerState),
		byNum:      make(map[int]*peerState),
		addrs:      make(map[netip.AddrPort]*addrInfo),
		banned:     make(map[string]bool),
		bannedIDs:  make(map[int]bool),
		rng:        rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		paused:     cfg.Paused,
		seedLimits: cfg.SeedLimits,
	}
	t.sel.prio = maps.Clone(cfg.FilePriorities)
	t.sel.only = slices.Clone(cfg.OnlyFiles)
	t.sel.sequential, t.sel.firstLast = cfg.Sequential, cfg.FirstLastPieceFirst
	if t.name == "" {
		t.name = cfg.InfoHash.String()
	}
	t.choker = choker.New(choker.Config{Slots: cfg.UploadSlots}, nil)
	t.upLimit = ratelimit.New(cfg.UploadLimit)
	t.downLimit = ratelimit.New(cfg.DownloadLimit)
	t.cfg.PeerConfig.Limiter = ratelimit.NewPeerLimiter(
		[]*ratelimit.Limiter{t.downLimit, cfg.GlobalDownload},
		[]*ratelimit.Limiter{t.upLimit, cfg.GlobalUpload})
	t.state = StateMetadata
	if mi := cfg.MetaInfo; mi != nil {
		// What setInfo will say first, so that the snapshot published
		// before the loop runs says it already.
		t.state = StateChecking
		t.resuming = resumeComplete(cfg.Resume, mi.Info.NumPieces())
	}
	t.left.Store(-1)
	t.uploaded.Store(cfg.Uploaded)
	t.downloaded.Store(cfg.Downloaded)
	t.lastUp, t.lastDown = cfg.Uploaded, cfg.Downloaded
	t.publish()
	go t.run()
	return t
}

// InfoHash returns the torrent's info hash.
func (t *Torrent) InfoHash() metainfo.Hash { return t.hash }

// Stats returns the latest published snapshot.
func (t *Torrent) Stats() Stats { return *t.stats.Load() }

// SharedStats returns the last published Stats without copying them; the
// caller must not change them. Stats are never changed once published, only
// replaced, so while the pointer stays the same so do they: a caller may
// keep what it derived from them (a list's rows) until it changes.
func (t *Torrent) SharedStats() *Stats { return t.stats.Load() }

// trackerStatus returns the announcer's view of each tracker, or each
// configured tracker as not contacted when no announcer has run.
func (t *Torrent) trackerStatus() []tracker.TrackerStatus {
	if a := t.announcer.Load(); a != nil {
		return a.Status()
	}
	var out []tracker.TrackerStatus
	seen := make(map[string]bool)
	tier := 0
	for _, urls := range t.cfg.Trackers {
		n := len(out)
		for _, u := range urls {
			if u == "" || seen[u] {
				continue
			}
			seen[u] = true
			out = append(out, tracker.TrackerStatus{Tier: tier, URL: u, Status: tracker.StatusNotContacted})
		}
		if len(out) > n {
			tier++ // numbered as the announcer numbers them: empty tiers skipped
		}
	}
	return out
}

// HaveVersion returns a number that changes whenever the torrent's verified
// pieces may have changed (a piece verified, a check started or ended): a
// caller that saved resume data at one version need not save it again
// while the version stays.
func (t *Torrent) HaveVersion() uint64 { return t.haveGen.Load() }

// Done is closed when the torrent's loop has exited after Close.
func (t *Torrent) Done() <-chan struct{} { return t.doneC }

// StateChanged returns a channel that is closed when the torrent's state
// (Stats.State) next changes: a download completing, an error, a pause.
// Take the channel before reading the state, so that no change falls
// between the two.
func (t *Torrent) StateChanged() <-chan struct{} { return *t.stateC.Load() }

// do runs fn on the loop and waits for it.
func (t *Torrent) do(fn func()) error {
	ran := make(chan struct{})
	t.enter()
	select {
	case t.cmdC <- func() { fn(); close(ran) }:
		t.leave()
	case <-t.doneC:
		t.leave()
		return ErrStopped
	}
	select {
	case <-ran:
		return nil
	case <-t.doneC:
		return ErrStopped
	}
}

// Pause stops transfers and announces "stopped"; the torrent stays loaded.
func (t *Torrent) Pause() error { return t.do(t.pause) }

// Resume restarts a paused torrent (or one stopped by an error).
func (t *Torrent) Resume() error { return t.do(t.resume) }

// Detail returns a fresh snapshot including per-file progress, the
// connected peers and the trackers' status, taken on the loop, or from a
// parked torrent's state without waking it.
func (t *Torrent) Detail() (Stats, error) {
	var s Stats
	fn := func() {
		t.publish()
		s = *t.stats.Load()
		for _, p := range t.peers {
			s.PeerList = append(s.PeerList, t.peerStats(p))
		}
		s.Trackers = t.trackerStatus()
		if t.store != nil && t.have != nil {
			done := t.store.FileCompleted(t.have)
			paths := t.entryPaths()
			fi := 0
			for i, e := range t.info.FileEntries() {
				if e.Pad {
					continue
				}
				fs := FileStats{Path: paths[i], Size: e.Length, Priority: PriorityNormal}
				if p, ok := t.sel.prio[fi]; ok {
					fs.Priority = p
				}
				fi++
				if i < len(done) {
					fs.Completed = done[i]
				}
				s.Files = append(s.Files, fs)
			}
		}
	}
	err := t.read(fn)
	return s, err
}

// Magnet returns a magnet link for the torrent.
func (t *Torrent) Magnet() string {
	m := metainfo.Magnet{InfoHash: t.hash, Name: t.Stats().Name}
	for _, tier := range t.cfg.Trackers {
		m.Trackers = append(m.Trackers, tier...)
	}
	return m.String()
}

// AddConn hands an established incoming connection (handshake done) to the
// torrent. The torrent owns nc afterwards.
func (t *Torrent) AddConn(nc net.Conn, hs wire.Handshake) {
	t.enter()
	defer t.leave()
	select {
	case t.connC <- newConn{nc: nc, hs: hs}:
	case <-t.doneC:
		nc.Close()
	case <-time.After(5 * time.Second):
		nc.Close()
	}
}

// Source says where a peer address came from.
type Source string

// Peer sources, as shown in peer lists.
const (
	SourceTracker  Source = "tracker"
	SourceDHT      Source = "dht"
	SourcePEX      Source = "pex"
	SourceLSD      Source = "lsd"
	SourceIncoming Source = "incoming"
	SourceUser     Source = "user" // given with the torrent (magnet x.pe)
)

type peerAddrs struct {
	src   Source
	addrs []netip.AddrPort
}

// AddPeers adds candidate peer addresses found by src. It never blocks; when
// the torrent is busy the addresses are dropped (they will come again).
// A parked torrent records them without waking, unless it would dial one
// of them (or another known peer) now: a tracker's answer that brings only
// peers it knows, or none it wants (a seed's seeds), starts no loop.
func (t *Torrent) AddPeers(src Source, addrs []netip.AddrPort) {
	dialNow := false
	if t.ownParked(func() {
		for _, a := range addrs {
			t.addAddr(a, src)
		}
		at, ok := t.nextDial()
		dialNow = ok && !at.After(time.Now())
	}) {
		if !dialNow {
			return
		}
		addrs = nil // recorded already; the loop dials them
	}
	t.enter()
	defer t.leave()
	select {
	case t.addrsC <- peerAddrs{src, addrs}:
	case <-t.doneC:
	default:
	}
}

// Handshake returns the handshake we send for this torrent.
func (t *Torrent) Handshake() wire.Handshake {
	hs := wire.Handshake{InfoHash: t.hash, PeerID: t.cfg.PeerID}
	hs.SetExtended()
	hs.SetFast()
	if t.cfg.DHTPort != 0 && !t.Private() {
		hs.SetDHT()
	}
	return hs
}

// Close stops the torrent: announces "stopped", closes its peers, waits for
// pending disk jobs and closes its files. With deleteData the torrent's
// files are removed too.
func (t *Torrent) Close(deleteData bool) error {
	var err error
	t.stopOnce.Do(func() {
		// A parked torrent is stopped without starting its loop again: at
		// shutdown that would be a goroutine and a ticker for each of
		// thousands, only to stop them.
		var done <-chan struct{}
		closed := t.ownParked(func() {
			done = t.stopAll()
			t.parked = false // a later enter finds doneC closed and starts nothing
			close(t.stopC)
			close(t.doneC)
		})
		if closed {
			waitStopped(done)
		} else {
			t.enter() // the loop must not park before it sees stopC
			_ = t.do(func() { t.shutdown() })
			close(t.stopC)
			<-t.doneC
			t.leave()
		}
		if t.wakeTimer != nil {
			t.wakeTimer.Stop() // the loop has exited: no one else uses it
		}
		t.diskJobs.Wait()
		t.cfg.ReadCache.Forget(t.hash)
		if t.store != nil {
			if deleteData {
				err = t.store.Remove()
			}
			if cerr := t.store.Close(); err == nil && cerr != nil && !errors.Is(cerr, storage.ErrClosed) {
				err = cerr
			}
		}
	})
	return err
}

// rateIdleTicks is how many consecutive updates without traffic make a
// rate shown as 0. The smoothed value alone would take half a minute to
// decay from megabytes per second to nothing.
const rateIdleTicks = 5

// rate is an exponentially smoothed bytes-per-second estimate updated once a
// second (once per tick of the loop).
type rate struct {
	v    float64
	last int64 // the bytes of the latest update
	idle int   // consecutive updates that saw no bytes
}

func (r *rate) update(bytes int64) {
	r.last = bytes
	r.v = r.v*0.6 + float64(bytes)*0.4
	if bytes > 0 {
		r.idle = 0
	} else if r.idle < rateIdleTicks {
		r.idle++
	}
}

// get returns the smoothed estimate, which decays slowly after traffic
// stops; the request queue depth and the choker use it.
func (r *rate) get() int64 { return int64(r.v) }

// recent returns the larger of the estimate and the latest second's bytes:
// it follows a rising rate at once (the estimate takes seconds), which a
// request queue sized by rate needs to grow as fast as the link allows.
func (r *rate) recent() int64 { return max(int64(r.v), r.last) }

// shown returns the rate to show to users: the estimate, but 0 once no
// bytes have flowed for rateIdleTicks updates.
func (r *rate) shown() int64 {
	if r.idle >= rateIdleTicks {
		return 0
	}
	return int64(r.v)
}
