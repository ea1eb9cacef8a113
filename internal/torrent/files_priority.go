package torrent

import (
	"fmt"
	"maps"
	"strings"
	"time"
)

// Priority is a file's download priority. Pieces take the highest priority
// of the files they overlap; the picker fetches higher priorities first,
// rarest first within one, and never fetches a piece whose files are all
// skipped.
type Priority int

// File priorities, lowest first.
const (
	PrioritySkip   Priority = 0 // not downloaded
	PriorityLow    Priority = 1
	PriorityNormal Priority = 2 // the default
	PriorityHigh   Priority = 3
)

// Picker priorities above the file priorities: the first and last piece of
// each wanted file (with FirstLastPieceFirst), and the streaming window
// (see stream.go), whose pieces get streamPriorityBase plus how close they
// are to the read position.
const (
	edgePriority       = 4
	streamPriorityBase = 100
)

// String returns the priority's name: "skip", "low", "normal" or "high".
func (p Priority) String() string {
	switch p {
	case PrioritySkip:
		return "skip"
	case PriorityLow:
		return "low"
	case PriorityNormal:
		return "normal"
	case PriorityHigh:
		return "high"
	}
	return fmt.Sprintf("priority(%d)", int(p))
}

// ParsePriority parses a priority name as String returns it (any case).
func ParsePriority(s string) (Priority, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "skip":
		return PrioritySkip, nil
	case "low":
		return PriorityLow, nil
	case "normal":
		return PriorityNormal, nil
	case "high":
		return PriorityHigh, nil
	}
	return 0, fmt.Errorf("unknown priority %q (want skip, low, normal or high)", s)
}

// Valid reports whether p is one of the four priorities.
func (p Priority) Valid() bool { return p >= PrioritySkip && p <= PriorityHigh }

// ErrFileIndex is returned for a file index the torrent does not have.
var ErrFileIndex = fmt.Errorf("torrent: no such file")

// selection is the loop-owned state of file priorities and piece order.
// File indexes are those of Stats.Files: the torrent's files in order,
// padding files left out.
type selection struct {
	// prio holds the priorities set by the user, by file index; files not
	// in it are normal. Before the metadata is known it is a wish, checked
	// against the files when they are.
	prio map[int]Priority
	// only, when not nil, is an "only these files" wish, folded into prio
	// when the metadata is known.
	only       []int
	sequential bool
	firstLast  bool
	// Derived once the metadata is known, per piece: the highest priority
	// of the files the piece overlaps, and whether it is the first or last
	// piece of a wanted file.
	base []Priority
	edge []bool
	// wantedSize and wantedHave are the bytes of the pieces with a base
	// priority above skip, and of those verified.
	wantedSize, wantedHave int64
	// skipFiles marks the skipped files by index in info.FileEntries, for
	// the storage not to preallocate them.
	skipFiles []bool
	streams   streams
}

// fileEntryIndexes returns, for each file index, the index of the file in
// info.FileEntries (padding files have no file index).
func (t *Torrent) fileEntryIndexes() []int {
	var out []int
	for i, e := range t.info.FileEntries() {
		if !e.Pad {
			out = append(out, i)
		}
	}
	return out
}

// computeSelection derives the per-piece priorities from the file
// priorities; it needs the metadata.
func (t *Torrent) computeSelection() {
	s := &t.sel
	if s.only != nil {
		s.prio = ResolveOnly(s.only, len(t.fileEntryIndexes()), s.prio)
		s.only = nil
	}
	nf := len(t.fileEntryIndexes())
	for i := range s.prio {
		if i >= nf {
			delete(s.prio, i) // a wish made before the metadata was known
		}
	}
	n := t.info.NumPieces()
	s.base = make([]Priority, n)
	s.edge = make([]bool, n)
	touched := make([]bool, n)
	entries := t.info.FileEntries()
	s.skipFiles = make([]bool, len(entries))
	pl := t.info.PieceLength
	for fi, ei := range t.fileEntryIndexes() {
		e := entries[ei]
		p, ok := s.prio[fi]
		if !ok {
			p = PriorityNormal
		}
		s.skipFiles[ei] = p == PrioritySkip
		if e.Length <= 0 {
			continue
		}
		first, last := int(e.Offset/pl), int((e.Offset+e.Length-1)/pl)
		for i := first; i <= last && i < n; i++ {
			touched[i] = true
			s.base[i] = max(s.base[i], p)
		}
		if p > PrioritySkip && last < n {
			s.edge[first], s.edge[last] = true, true
		}
	}
	s.wantedSize, s.wantedHave = 0, 0
	for i := range n {
		if !touched[i] {
			s.base[i] = PriorityNormal // only padding: nothing to choose
		}
		if s.base[i] > PrioritySkip {
			sz := t.info.PieceSize(i)
			s.wantedSize += sz
			if t.have != nil && t.have.Has(i) {
				s.wantedHave += sz
			}
		}
	}
}

// ResolveOnly turns an "only these files" wish into priorities for a
// torrent of nfiles files: files listed in prio keep theirs, the others in
// only are normal, every other file is skipped. Indexes out of range are
// ignored. prio is not modified.
func ResolveOnly(only []int, nfiles int, prio map[int]Priority) map[int]Priority {
	out := make(map[int]Priority, nfiles)
	for i := range nfiles {
		out[i] = PrioritySkip
	}
	for _, i := range only {
		if i >= 0 && i < nfiles {
			delete(out, i)
		}
	}
	for i, p := range prio {
		if i >= 0 && i < nfiles {
			if p == PriorityNormal {
				delete(out, i)
			} else {
				out[i] = p
			}
		}
	}
	return out
}

// piecePriority is the picker priority of piece i.
func (t *Torrent) piecePriority(i int) int {
	s := &t.sel
	if i < 0 || i >= len(s.base) {
		return 1
	}
	v := int(s.base[i])
	if v > 0 && s.firstLast && s.edge[i] {
		v = edgePriority
	}
	if w := s.streams.priority(i); w > 0 {
		v = max(v, streamPriorityBase+w)
	}
	return v
}

// applySelection recomputes every piece's priority and hands it to the
// picker, then reacts to the change in what is wanted. It runs on the loop
// whenever the priorities or the metadata change.
func (t *Torrent) applySelection() {
	if t.info == nil || t.pk == nil {
		return
	}
	t.computeSelection()
	for i := range t.info.NumPieces() {
		t.pk.SetPriority(i, t.piecePriority(i))
	}
	t.pk.SetSequential(t.sel.sequential)
	if t.store != nil {
		t.store.SetSkipped(t.sel.skipFiles)
	}
	t.wantChanged()
}

// noteHaveWanted counts a newly verified piece in the wanted bytes.
func (t *Torrent) noteHaveWanted(i int) {
	if i >= 0 && i < len(t.sel.base) && t.sel.base[i] > PrioritySkip {
		t.sel.wantedHave += t.info.PieceSize(i)
	}
}

// wantComplete reports whether every wanted piece is verified.
func (t *Torrent) wantComplete() bool {
	return t.pk != nil && t.pk.Done()
}

// wantChanged brings the state in line with what is wanted now: a torrent
// finished with files skipped downloads again when one is wanted, and one
// whose last missing files were skipped finishes.
func (t *Torrent) wantChanged() {
	if !t.checked || t.pk == nil || t.state == StateError {
		return
	}
	switch {
	case t.state == StateSeeding && !t.pk.Done():
		t.state = StateDownloading
		t.downloading = true
		t.finished = false
		for _, a := range t.addrs {
			if a.seed {
				a.nextTry = time.Time{} // dropped for being a seed: useful again
			}
		}
		for _, p := range t.peers {
			t.recountInterest(p)
			t.updateInterest(p)
			t.fillRequests(p)
		}
		t.connectPeers()
	case t.state == StateDownloading:
		for _, p := range t.peers {
			t.updateInterest(p)
			t.fillRequests(p)
		}
		t.maybeComplete()
	}
	t.publish()
}

// SetFilePriorities changes the priorities of the given files (by file
// index, as in Stats.Files). Before the metadata is known the priorities
// are kept and applied when it arrives; indexes beyond the files are then
// ignored. With the metadata known, an index out of range is an error
// (wrapping ErrFileIndex) and nothing is changed.
func (t *Torrent) SetFilePriorities(prio map[int]Priority) error {
	for i, p := range prio {
		if i < 0 || !p.Valid() {
			return fmt.Errorf("%w: file %d, priority %d", ErrFileIndex, i, int(p))
		}
	}
	var err error
	derr := t.do(func() {
		if t.info != nil {
			n := len(t.fileEntryIndexes())
			for i := range prio {
				if i >= n {
					err = fmt.Errorf("%w: file %d of %d", ErrFileIndex, i, n)
					return
				}
			}
		}
		if t.sel.prio == nil {
			t.sel.prio = make(map[int]Priority)
		}
		for i, p := range prio {
			if p == PriorityNormal && t.sel.only == nil {
				delete(t.sel.prio, i)
			} else {
				t.sel.prio[i] = p
			}
		}
		t.applySelection()
	})
	if derr != nil {
		return derr
	}
	return err
}

// SetPieceOrder turns sequential mode and first-and-last-piece priority on
// or off; nil leaves a setting alone.
func (t *Torrent) SetPieceOrder(sequential, firstLast *bool) error {
	return t.do(func() {
		if sequential != nil {
			t.sel.sequential = *sequential
		}
		if firstLast != nil {
			t.sel.firstLast = *firstLast
		}
		t.applySelection()
	})
}

// FilePriorities returns the priorities set by the user, by file index
// (files not in the map are normal).
func (t *Torrent) FilePriorities() map[int]Priority {
	var out map[int]Priority
	_ = t.read(func() { out = maps.Clone(t.sel.prio) })
	return out
}

// PieceBitfield returns the verified pieces in wire form (the first piece
// in the high bit of the first byte) and the number of pieces. Before the
// metadata is known it returns ErrNoMetadata.
func (t *Torrent) PieceBitfield() ([]byte, int, error) {
	var (
		b   []byte
		n   int
		err error
	)
	derr := t.read(func() {
		if t.info == nil || t.have == nil {
			err = ErrNoMetadata
			return
		}
		n = t.have.Len()
		b = append([]byte(nil), t.have.Bytes()...)
	})
	if derr != nil {
		return nil, 0, derr
	}
	return b, n, err
}
