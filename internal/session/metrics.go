package session

import (
	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/torrent"
	"github.com/gobit/gobit/internal/tracker"
)

// MetricsSnapshot is what a monitor (the /metrics endpoint) reads from a
// session: counters since the session started and the current state of
// every torrent. Taking one reads each torrent's published snapshot and a
// few atomic counters; it never waits on a torrent's loop.
type MetricsSnapshot struct {
	// DownloadedBytes and UploadedBytes are the payload bytes received and
	// sent by all torrents since the session started (torrents removed
	// since included).
	DownloadedBytes, UploadedBytes int64
	// HashFailures counts pieces that failed their hash check,
	// ProtocolErrors peers closed for breaking the protocol, DiskErrors
	// failed disk operations (writes, reads, checks, syncs, moves).
	HashFailures, ProtocolErrors, DiskErrors int64
	// PieceWrites is the latency of writing verified pieces to disk.
	PieceWrites torrent.HistogramValues
	// DiskRunning and DiskQueued are the disk jobs running and waiting for
	// a worker of the session's disk pool.
	DiskRunning, DiskQueued int
	// Torrents is every torrent, in the order they were added.
	Torrents []TorrentMetrics
	// Trackers counts the announces sent, by tracker host.
	Trackers []tracker.HostCount
	// DHT is set when the DHT node runs.
	DHT *DHTMetrics
	// BlockedConnections counts connections and peer addresses refused
	// by the IP blocklist (NetPathStatus.BlockedConnections).
	BlockedConnections int64
}

// TorrentMetrics is one torrent's part of a MetricsSnapshot.
type TorrentMetrics struct {
	InfoHash string
	Name     string
	State    State
	// Downloaded and Uploaded are payload bytes over the torrent's life
	// (previous runs included); the rates are bytes per second.
	Downloaded, Uploaded     int64
	DownloadRate, UploadRate int64
	Peers, Seeds             int
	PeerSources              torrent.SourceCounts
	PiecesHave, PiecesTotal  int
	Progress                 float64 // 0..1 of the wanted bytes, as in Status
	// TotalSize is the torrent's size (0 before a magnet's metadata) and
	// CompletedBytes the bytes of its verified pieces.
	TotalSize, CompletedBytes int64
}

// States lists every State a torrent can be in, for monitors that report
// a count per state (zero included).
var States = []State{StateMetadata, StateChecking, StateDownloading, StateSeeding, StatePaused, StateError, StateQueued}

// DHTMetrics is the DHT node's part of a MetricsSnapshot.
type DHTMetrics struct {
	Stats   dht.Stats
	Queries dht.QueryCounts
}

// Metrics returns a MetricsSnapshot of the session.
func (s *Session) Metrics() MetricsSnapshot {
	v := s.counters.Values()
	m := MetricsSnapshot{
		DownloadedBytes: v.DownloadedBytes,
		UploadedBytes:   v.UploadedBytes,
		HashFailures:    v.HashFailures,
		ProtocolErrors:  v.ProtocolErrors,
		DiskErrors:      v.DiskErrors,
		PieceWrites:     v.PieceWrites,
		Trackers:        s.tracker.AnnounceCounts(),

		BlockedConnections: s.block.blocked.Load(),
	}
	m.DiskRunning, m.DiskQueued = s.disk.DiskQueue()
	if s.dht != nil {
		m.DHT = &DHTMetrics{Stats: s.dht.Stats(), Queries: s.dht.QueryCounts()}
	}
	s.mu.Lock()
	entries := make([]*entry, 0, len(s.order))
	for _, h := range s.order {
		entries = append(entries, s.torrents[h])
	}
	s.mu.Unlock()
	m.Torrents = make([]TorrentMetrics, 0, len(entries))
	for _, e := range entries {
		m.Torrents = append(m.Torrents, torrentMetrics(e))
	}
	return m
}

// torrentMetrics reads one torrent's published snapshot.
func torrentMetrics(e *entry) TorrentMetrics {
	st := e.t.Stats()
	tm := TorrentMetrics{
		InfoHash:     st.InfoHash.String(),
		Name:         st.Name,
		State:        State(st.State),
		Downloaded:   st.Downloaded,
		Uploaded:     st.Uploaded,
		DownloadRate: st.DownloadRate,
		UploadRate:   st.UploadRate,
		Peers:        st.Peers,
		Seeds:        st.Seeds,
		PeerSources:  st.PeerSources,
		PiecesHave:   st.HavePieces,
		PiecesTotal:  st.NumPieces,
		TotalSize:    st.TotalSize,

		CompletedBytes: st.Completed,
	}
	if tm.State == StatePaused && e.queued.Load() {
		tm.State = StateQueued
	}
	switch {
	case st.WantedSize > 0:
		tm.Progress = float64(st.WantedCompleted) / float64(st.WantedSize)
	case st.HaveInfo:
		tm.Progress = 1 // every file skipped, as in Status
	}
	return tm
}
