package torrent

// fileProgress counts, per file, the pieces overlapping it that are not yet
// verified, so the completion of each file is noticed in O(files per
// piece) (the session flushes resume data then).
type fileProgress struct {
	missing []int   // per file entry
	first   []int   // first piece of each file
	last    []int   // last piece of each file (first-1 for empty files)
	offsets []int64 // file start offsets, for the piece → files lookup
}

// initFileProgress sets up per-file counters from the current bitfield.
func (t *Torrent) initFileProgress() {
	entries := t.info.FileEntries()
	fp := fileProgress{
		missing: make([]int, len(entries)),
		first:   make([]int, len(entries)),
		last:    make([]int, len(entries)),
		offsets: make([]int64, len(entries)),
	}
	pl := t.info.PieceLength
	for i, e := range entries {
		fp.offsets[i] = e.Offset
		fp.first[i] = int(e.Offset / pl)
		fp.last[i] = fp.first[i] - 1
		if e.Length > 0 && !e.Pad {
			fp.last[i] = int((e.Offset + e.Length - 1) / pl)
		}
		for p := fp.first[i]; p <= fp.last[i]; p++ {
			if !t.have.Has(p) {
				fp.missing[i]++
			}
		}
	}
	t.files = &fp
}

// pieceVerifiedForFiles updates the counters of the files piece i touches
// and reports whether one of them just became complete.
func (t *Torrent) pieceVerifiedForFiles(i int) bool {
	fp := t.files
	if fp == nil {
		return false
	}
	// Files are in offset order; find the first that may contain piece i.
	start := int64(i) * t.info.PieceLength
	lo, hi := 0, len(fp.offsets)
	for lo < hi {
		m := (lo + hi) / 2
		if fp.last[m] < i && fp.offsets[m] < start {
			lo = m + 1
		} else {
			hi = m
		}
	}
	done := false
	for f := lo; f < len(fp.offsets) && fp.first[f] <= i; f++ {
		if i <= fp.last[f] && fp.missing[f] > 0 {
			fp.missing[f]--
			if fp.missing[f] == 0 {
				done = true
			}
		}
	}
	return done
}
