package torrent

import (
	"fmt"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/storage"
)

// ResumeData is what a torrent needs to come back after a restart without
// re-hashing unchanged data: the verified pieces and the stamps of the files
// they live in, taken after those pieces reached the disk.
type ResumeData struct {
	NumPieces int
	Have      []byte // bitfield in wire form
	Stamps    []storage.FileStamp
}

// ResumeData syncs the torrent's files to disk and returns the pieces that
// are now durably verified. ok is false when the torrent has no data yet
// (no metadata, or still checking). It may be called from any goroutine.
func (t *Torrent) ResumeData() (rd ResumeData, ok bool, err error) {
	var st *storage.Storage
	var released bool
	snap := func() {
		if t.store == nil || !t.checked || t.have == nil {
			return
		}
		st = t.store
		released = t.handlesReleased
		rd.NumPieces = t.have.Len()
		rd.Have = append([]byte(nil), t.have.Bytes()...)
	}
	err = t.read(snap) // a parked torrent's snapshot wakes it not
	if err != nil || st == nil {
		return ResumeData{}, false, err
	}
	// Pieces in the snapshot were written before they were marked; the
	// sync makes them durable before anyone records them as verified.
	if err := st.Sync(); err != nil {
		return ResumeData{}, false, fmt.Errorf("sync: %w", err)
	}
	rd.Stamps, err = st.Stamps()
	if released {
		// The torrent had closed its descriptors (it is idle or parked):
		// close again what the sync and the stat opened.
		st.ReleaseHandles()
	}
	if err != nil {
		return ResumeData{}, false, fmt.Errorf("stamps: %w", err)
	}
	return rd, true, nil
}

// resumeBitfield returns the configured resume bitfield if it fits the
// torrent, else nil.
func (t *Torrent) resumeBitfield() *bitfield.Bitfield {
	r := t.cfg.Resume
	if r == nil || t.info == nil || r.NumPieces != t.info.NumPieces() {
		return nil
	}
	bf, err := bitfield.FromBytes(r.Have, r.NumPieces)
	if err != nil {
		return nil
	}
	return bf
}

// resumeComplete reports whether r says every one of numPieces pieces was
// verified, with file stamps to confirm it by.
func resumeComplete(r *ResumeData, numPieces int) bool {
	if r == nil || r.NumPieces != numPieces || len(r.Stamps) == 0 {
		return false
	}
	bf, err := bitfield.FromBytes(r.Have, r.NumPieces)
	return err == nil && bf.Full()
}
