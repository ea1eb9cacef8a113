package torrent

import (
	"sync/atomic"
	"time"
)

// Counters are cumulative counts that torrents add to and a monitor reads
// (the session's metrics). One Counters is shared by all torrents of a
// session through Config.Counters; every method may be called from any
// goroutine, and on a nil *Counters does nothing (a torrent without one
// counts nothing beyond its own Stats).
type Counters struct {
	downloaded, uploaded atomic.Int64 // payload bytes
	hashFailures         atomic.Int64 // pieces that failed verification
	protocolErrors       atomic.Int64 // peers closed for a malformed or illegal message
	diskErrors           atomic.Int64 // disk jobs that reported an error
	writes               LatencyHistogram
}

// CounterValues is a snapshot of Counters.
type CounterValues struct {
	// DownloadedBytes and UploadedBytes are the payload bytes received and
	// sent by every torrent since the Counters were made.
	DownloadedBytes, UploadedBytes int64
	// HashFailures counts pieces that failed their hash check,
	// ProtocolErrors peers closed because a message broke the protocol,
	// DiskErrors disk jobs (writes, reads, checks, syncs, moves) that
	// failed.
	HashFailures, ProtocolErrors, DiskErrors int64
	// PieceWrites is the latency of writing verified pieces to disk.
	PieceWrites HistogramValues
}

// Values returns the current counts (zero for a nil *Counters).
func (c *Counters) Values() CounterValues {
	if c == nil {
		return CounterValues{PieceWrites: HistogramValues{Bounds: LatencyBuckets, Counts: make([]uint64, len(LatencyBuckets))}}
	}
	return CounterValues{
		DownloadedBytes: c.downloaded.Load(),
		UploadedBytes:   c.uploaded.Load(),
		HashFailures:    c.hashFailures.Load(),
		ProtocolErrors:  c.protocolErrors.Load(),
		DiskErrors:      c.diskErrors.Load(),
		PieceWrites:     c.writes.Values(),
	}
}

func (c *Counters) addDownloaded(n int64) {
	if c != nil {
		c.downloaded.Add(n)
	}
}

func (c *Counters) addUploaded(n int64) {
	if c != nil {
		c.uploaded.Add(n)
	}
}

func (c *Counters) hashFailed() {
	if c != nil {
		c.hashFailures.Add(1)
	}
}

func (c *Counters) protocolError() {
	if c != nil {
		c.protocolErrors.Add(1)
	}
}

// diskResult counts r's error, if it has one.
func (c *Counters) diskResult(r diskResult) {
	if c == nil {
		return
	}
	var err error
	switch r := r.(type) {
	case pieceVerified:
		err = r.err
	case dataChecked:
		err = r.err
	case dataSynced:
		err = r.err
	case pieceLoaded:
		err = r.err
	case blockRead:
		err = r.err
	case filesMoved:
		err = r.err
	}
	if err != nil {
		c.diskErrors.Add(1)
	}
}

func (c *Counters) pieceWritten(d time.Duration) {
	if c != nil {
		c.writes.Observe(d)
	}
}

// LatencyBuckets are the upper bounds, in seconds, of LatencyHistogram's
// buckets: from half a millisecond (a write into the page cache) to ten
// seconds (a disk that is failing or badly overloaded).
var LatencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// LatencyHistogram counts durations into LatencyBuckets with atomic
// adds: no lock, no allocation per observation. The zero value is ready.
type LatencyHistogram struct {
	counts [15]atomic.Uint64 // one per bound, then +Inf
	sumNs  atomic.Int64
}

// Observe counts one duration.
func (h *LatencyHistogram) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(LatencyBuckets) && s > LatencyBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
}

// HistogramValues is a snapshot of a LatencyHistogram in Prometheus'
// shape: Counts[i] is the number of observations at most Bounds[i]
// (cumulative); Count is the number of all observations and Sum their
// total in seconds.
type HistogramValues struct {
	Bounds []float64
	Counts []uint64
	Count  uint64
	Sum    float64
}

// Values returns the histogram's cumulative counts. Observations that land
// while it reads may be counted in Count and not yet in Sum (or the
// reverse); the next read sees them.
func (h *LatencyHistogram) Values() HistogramValues {
	v := HistogramValues{Bounds: LatencyBuckets, Counts: make([]uint64, len(LatencyBuckets))}
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i].Load()
		if i < len(LatencyBuckets) {
			v.Counts[i] = cum
		}
	}
	v.Count = cum
	v.Sum = time.Duration(h.sumNs.Load()).Seconds()
	return v
}

// SourceCounts are connected peers by where their address came from.
type SourceCounts struct {
	Tracker, DHT, PEX, LSD, Incoming, User int
}

// add counts one peer of source src.
func (s *SourceCounts) add(src Source) {
	switch src {
	case SourceTracker:
		s.Tracker++
	case SourceDHT:
		s.DHT++
	case SourcePEX:
		s.PEX++
	case SourceLSD:
		s.LSD++
	case SourceIncoming:
		s.Incoming++
	default:
		s.User++
	}
}

// DiskQueue reports the pool's load: jobs running and jobs waiting for a
// worker.
func (d *DiskPool) DiskQueue() (running, queued int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.workers - len(d.idle), len(d.queue)
}

// addUploaded counts what p's writer sent since the last count.
func (t *Torrent) addUploaded(p *peerState) {
	n := p.conn.Uploaded() - p.lastUp
	t.uploaded.Add(n)
	t.cfg.Counters.addUploaded(n)
}
