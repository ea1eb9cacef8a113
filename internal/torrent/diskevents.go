package torrent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/storage"
)

// A diskResult is what a disk job (or the file mover) reports to the loop
// on diskC: one of the types below, each handled by a handleXxx method
// (see handleDiskResult). Results are plain values: nothing that comes
// back from a disk job runs code on the loop other than its handler.
type diskResult interface{ diskResult() }

// pieceVerified reports that a complete piece was hashed and, when its
// hash matched (ok), written.
type pieceVerified struct {
	// store is the storage the job wrote to; a result from a storage the
	// loop has since closed (a recheck, a move) says nothing about the
	// current one.
	store *storage.Storage
	index int
	ok    bool          // the hash matched
	err   error         // writing the piece failed
	wrote time.Duration // how long the write took (0 when not written)
}

// dataChecked reports the pieces found valid by the data check that
// setInfo starts.
type dataChecked struct {
	store *storage.Storage // the storage checked; see pieceVerified
	have  *bitfield.Bitfield
	err   error
}

// resumeRejected reports that the files changed since the resume data
// was saved (resumeJob): the data must be checked.
type resumeRejected struct {
	store *storage.Storage // the storage whose stamps differed; see pieceVerified
}

// dataSynced reports that flushing the torrent's files to disk failed.
// A sync that succeeds reports nothing.
type dataSynced struct{ err error }

// pieceLoaded reports that a piece was loaded into the read cache for the
// requests waiting for it (t.loading).
type pieceLoaded struct {
	index int
	err   error
}

// blockRead carries a block read from disk for a peer's request. p is only
// carried back, never used by the job.
type blockRead struct {
	p       *peerState
	k       reqKey
	buf     []byte
	release func() // gives buf back to the read cache; the handler calls it
	err     error
}

// filesMoved reports the end of Move's work off the loop: the files were
// moved from one save directory to the other (err == nil) or left where
// they were. result is Move's caller waiting for the outcome.
type filesMoved struct {
	from, to string
	resume   *ResumeData         // what the loop knew before the move, or nil
	stamps   []storage.FileStamp // of the closed storage, taken before the move
	hadStore bool                // a storage was open (and is now closed)
	err      error
	result   chan<- error
}

func (pieceVerified) diskResult()  {}
func (dataChecked) diskResult()    {}
func (dataSynced) diskResult()     {}
func (resumeRejected) diskResult() {}
func (pieceLoaded) diskResult()    {}
func (blockRead) diskResult()      {}
func (filesMoved) diskResult()     {}

// handleDiskResult hands a disk job's result to its handler; it runs on
// the loop.
func (t *Torrent) handleDiskResult(r diskResult) {
	t.cfg.Counters.diskResult(r)
	switch r := r.(type) {
	case pieceVerified:
		if r.ok {
			t.cfg.Counters.pieceWritten(r.wrote)
		}
		t.handlePieceVerified(r.index, r.ok, r.err, r.store != t.store)
	case dataChecked:
		if r.store != t.store {
			t.log.Debug("data check of a closed storage ignored")
			return
		}
		t.handleChecked(r.have, r.err)
	case resumeRejected:
		if r.store != t.store {
			return
		}
		t.handleResumeRejected()
	case dataSynced:
		t.handleSynced(r.err)
	case pieceLoaded:
		t.handlePieceLoaded(r.index, r.err)
	case blockRead:
		t.handleBlockRead(r.p, r.k, r.buf, r.release, r.err)
	case filesMoved:
		t.handleFilesMoved(r)
	case filesRenamed:
		t.handleFilesRenamed(r)
	default: // unreachable: the types above are all there are
		t.log.Error("unknown disk result", "type", fmt.Sprintf("%T", r))
	}
}

// A diskJob runs on the DiskPool, off the loop, and returns its result for
// the loop, or nil when there is nothing to report.
//
// Invariant: a job never reads or writes loop-owned state. The job
// constructors below are plain functions, not methods of Torrent, so a job
// reaches only what its constructor was given; the loop copies what the
// job needs (the storage, indexes, hashes) when it builds the job, and
// hands over what the job then owns (a complete piece's buffer).
type diskJob func() diskResult

// postDisk runs job on the disk pool, holding ioMu shared, and delivers
// its result to the loop on diskC. It runs on the loop.
func (t *Torrent) postDisk(job diskJob) {
	t.lastDiskJob = time.Now()
	t.handlesReleased = false
	t.diskJobs.Add(1)
	t.diskInflight.Add(1)
	t.cfg.Disk.Go(func() {
		defer t.diskJobs.Done()
		defer t.diskInflight.Add(-1) // after the result is in diskC (park.go)
		t.ioMu.RLock()
		res := job()
		t.ioMu.RUnlock()
		if res == nil {
			return
		}
		select {
		case t.diskC <- res:
		case <-t.doneC:
		}
	})
}

// verifyJob returns the job that hashes piece i's data and, when the hash
// matches want, writes it to store, one writer at a time (writeMu). The
// job owns pb (the loop has forgotten it) and releases it. Every argument
// is copied from the loop before the job leaves it; the job touches no
// loop state.
func verifyJob(store *storage.Storage, writeMu *sync.Mutex, i int, pb *pieceBuf, want [20]byte) diskJob {
	return func() diskResult {
		if pb.sum() != want {
			pb.release()
			return pieceVerified{store: store, index: i}
		}
		// One writer per torrent: concurrent pwrites to one file contend
		// on its inode lock and burn CPU spinning; hashing stays parallel.
		writeMu.Lock()
		start := time.Now()
		err := store.WritePieceBlocks(i, pb.blocks)
		wrote := time.Since(start)
		writeMu.Unlock()
		pb.release()
		return pieceVerified{store: store, index: i, ok: true, err: err, wrote: wrote}
	}
}

// checkJob returns the job that checks the data in store, trusting resume
// (nil: hash everything) for files whose stamps still match. Its arguments
// are the loop's, copied (or no longer used by the loop) before the job
// leaves it; the job touches no loop state.
func checkJob(store *storage.Storage, resume *bitfield.Bitfield, stamps []storage.FileStamp) diskJob {
	return func() diskResult {
		bf, err := store.CheckResume(context.Background(), 2, resume, stamps, nil)
		// The check opened the directory and every file: close them, or
		// thousands of torrents added together would hold two
		// descriptors each until they idle (peers open them again).
		store.ReleaseHandles()
		return dataChecked{store: store, have: bf, err: err}
	}
}

// DefaultHandleIdle is how long a torrent with no peers goes without disk
// jobs before its storage closes the descriptors it keeps open between
// operations (maybeReleaseHandles).
const DefaultHandleIdle = 30 * time.Second

// maybeReleaseHandles lets the storage of a torrent with no peers and no
// recent disk job, or about to park, close its file handles and save
// directory, so that idle torrents hold no descriptors (they are opened
// again on demand). It runs on the loop; the closing happens on the disk
// pool.
func (t *Torrent) maybeReleaseHandles(now time.Time) {
	if t.store == nil || t.handlesReleased || len(t.peers) > 0 || t.moving {
		return
	}
	if now.Sub(t.lastDiskJob) < t.cfg.HandleIdle && !t.quiet(now) {
		return
	}
	store := t.store
	t.postDisk(func() diskResult {
		store.ReleaseHandles()
		return nil
	})
	t.handlesReleased = true // after postDisk, which clears it
}

// resumeJob returns the job that confirms resume data of a complete
// torrent: when every file still has its stamp, all pieces are had without
// reading any (dataChecked); otherwise it reports resumeRejected and the
// loop starts a check. Its arguments are copied from the loop.
func resumeJob(store *storage.Storage, have *bitfield.Bitfield, stamps []storage.FileStamp) diskJob {
	return func() diskResult {
		if store.StampsMatch(stamps) {
			return dataChecked{store: store, have: have}
		}
		return resumeRejected{store: store}
	}
}

// syncJob returns the job that flushes store's files to disk; it reports
// only a failure. store is copied from the loop; the job touches no loop
// state.
func syncJob(store *storage.Storage) diskJob {
	return func() diskResult {
		if err := store.Sync(); err != nil {
			return dataSynced{err: err}
		}
		return nil
	}
}

// loadJob returns the job that loads a piece of store into the read cache.
// Its arguments are copied from the loop; the job touches no loop state.
func loadJob(cache *ReadCache, store *storage.Storage, hash metainfo.Hash, piece int) diskJob {
	return func() diskResult {
		return pieceLoaded{index: piece, err: cache.Load(store, hash, piece)}
	}
}

// readJob returns the job that reads the block k of store (through the read
// cache) for peer p. Its arguments are copied from the loop; p is only
// carried back in the result, never used by the job.
func readJob(cache *ReadCache, store *storage.Storage, hash metainfo.Hash, p *peerState, k reqKey) diskJob {
	return func() diskResult {
		buf, release, err := cache.ReadBlock(store, hash, int(k.index), int(k.begin), int(k.length))
		return blockRead{p: p, k: k, buf: buf, release: release, err: err}
	}
}
