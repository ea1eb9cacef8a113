package session

import (
	"errors"
	"fmt"
	"maps"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/store"
	"github.com/gobit/gobit/internal/torrent"
)

// maxFileIndex bounds the file indexes a request may name (the store's
// bound on a record's files).
const maxFileIndex = 1 << 20

// parsePriorities checks file priorities given by name and returns them in
// the torrent's and the store's forms.
func parsePriorities(in map[int]string) (map[int]torrent.Priority, map[int]int, error) {
	if len(in) == 0 {
		return nil, nil, nil
	}
	tp := make(map[int]torrent.Priority, len(in))
	sp := make(map[int]int, len(in))
	for i, name := range in {
		if i < 0 || i >= maxFileIndex {
			return nil, nil, fmt.Errorf("%w: file index %d out of range", ErrInvalid, i)
		}
		p, err := torrent.ParsePriority(name)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: file %d: %w", ErrInvalid, i, err)
		}
		tp[i], sp[i] = p, int(p)
	}
	return tp, sp, nil
}

// numFiles returns the number of files (padding files left out) of info.
func numFiles(info *metainfo.Info) int {
	n := 0
	for _, e := range info.FileEntries() {
		if !e.Pad {
			n++
		}
	}
	return n
}

// applyAddSelection puts an add request's file priorities and piece order
// into the torrent's configuration and its record. With the metadata known
// the indexes are checked and an "only" list is folded into explicit
// priorities; for a magnet both are kept as a wish (see foldOnly).
func applyAddSelection(tc *torrent.Config, rec *store.Torrent, req AddRequest) error {
	tp, sp, err := parsePriorities(req.Files)
	if err != nil {
		return err
	}
	for _, i := range req.Only {
		if i < 0 || i >= maxFileIndex {
			return fmt.Errorf("%w: file index %d out of range", ErrInvalid, i)
		}
	}
	tc.Sequential, rec.Sequential = req.Sequential, req.Sequential
	tc.FirstLastPieceFirst, rec.FirstLastPieceFirst = req.FirstLastPieceFirst, req.FirstLastPieceFirst
	if tc.MetaInfo == nil {
		tc.FilePriorities, rec.FilePriorities = tp, sp
		if len(req.Only) > 0 {
			tc.OnlyFiles, rec.Only = append([]int(nil), req.Only...), append([]int(nil), req.Only...)
		}
		return nil
	}
	n := numFiles(&tc.MetaInfo.Info)
	for i := range tp {
		if i >= n {
			return fmt.Errorf("%w: file index %d: the torrent has %d files", ErrInvalid, i, n)
		}
	}
	for _, i := range req.Only {
		if i >= n {
			return fmt.Errorf("%w: file index %d: the torrent has %d files", ErrInvalid, i, n)
		}
	}
	if len(req.Only) > 0 {
		tp = torrent.ResolveOnly(req.Only, n, tp)
	}
	tc.FilePriorities = tp
	rec.FilePriorities = storePriorities(tp)
	return nil
}

// storePriorities converts priorities to the store's form, leaving out
// normal ones (the default).
func storePriorities(tp map[int]torrent.Priority) map[int]int {
	var out map[int]int
	for i, p := range tp {
		if p == torrent.PriorityNormal {
			continue
		}
		if out == nil {
			out = make(map[int]int)
		}
		out[i] = int(p)
	}
	return out
}

// torrentPriorities converts the store's priorities to the torrent's form,
// dropping values a damaged record might hold.
func torrentPriorities(sp map[int]int) map[int]torrent.Priority {
	if len(sp) == 0 {
		return nil
	}
	out := make(map[int]torrent.Priority, len(sp))
	for i, v := range sp {
		if p := torrent.Priority(v); p.Valid() && i >= 0 {
			out[i] = p
		}
	}
	return out
}

// selectionConfig sets a restored torrent's file priorities and piece order
// from its record.
func selectionConfig(tc *torrent.Config, rec store.Torrent) {
	tc.FilePriorities = torrentPriorities(rec.FilePriorities)
	if len(rec.Only) > 0 {
		tc.OnlyFiles = append([]int(nil), rec.Only...)
	}
	tc.Sequential, tc.FirstLastPieceFirst = rec.Sequential, rec.FirstLastPieceFirst
}

// foldOnly turns a record's wishes made before the metadata was known into
// explicit priorities for the torrent's files, as the torrent does when the
// metadata arrives. It reports whether the record changed.
func foldOnly(rec *store.Torrent, infoBytes []byte) bool {
	if len(rec.Only) == 0 && len(rec.FilePriorities) == 0 {
		return false
	}
	info, err := metainfo.ParseInfo(infoBytes)
	if err != nil {
		return false
	}
	n := numFiles(info)
	tp := torrentPriorities(rec.FilePriorities)
	for i := range tp {
		if i >= n {
			delete(tp, i)
		}
	}
	if len(rec.Only) > 0 {
		tp = torrent.ResolveOnly(rec.Only, n, tp)
	}
	rec.FilePriorities, rec.Only = storePriorities(tp), nil
	return true
}

// SetFilePriorities changes the priorities of a torrent's files, by file
// index, with the names "skip", "low", "normal" and "high". The change is
// saved first; an index beyond the torrent's files is an ErrInvalid and
// changes nothing. Before the metadata is known the priorities are kept and
// applied when it arrives.
func (s *Session) SetFilePriorities(infoHash string, prio map[int]string) (Detail, error) {
	tp, _, err := parsePriorities(prio)
	if err != nil {
		return Detail{}, err
	}
	if len(tp) == 0 {
		return Detail{}, fmt.Errorf("%w: no file priorities given", ErrInvalid)
	}
	e, err := s.lookup(infoHash)
	if err != nil {
		return Detail{}, err
	}
	edit := func(r *store.Torrent) {
		cur := torrentPriorities(r.FilePriorities)
		if cur == nil {
			cur = make(map[int]torrent.Priority)
		}
		maps.Copy(cur, tp)
		if len(r.Only) == 0 {
			r.FilePriorities = storePriorities(cur)
			return
		}
		// An "only" wish is pending: a normal file must stay listed, or
		// the wish would skip it.
		r.FilePriorities = make(map[int]int, len(cur))
		for i, p := range cur {
			r.FilePriorities[i] = int(p)
		}
	}
	apply := func() error {
		if err := e.t.SetFilePriorities(tp); err != nil {
			if errors.Is(err, torrent.ErrFileIndex) {
				return fmt.Errorf("%w: %w", ErrInvalid, err)
			}
			return err
		}
		return nil
	}
	if err := s.change(e, "file priorities not changed", edit, apply); err != nil {
		return Detail{}, err
	}
	return s.Get(infoHash)
}

// Pieces returns the torrent's verified pieces. Before the metadata is
// known it returns ErrConflict.
func (s *Session) Pieces(infoHash string) (PieceMap, error) {
	e, err := s.lookup(infoHash)
	if err != nil {
		return PieceMap{}, err
	}
	b, n, err := e.t.PieceBitfield()
	if errors.Is(err, torrent.ErrNoMetadata) {
		return PieceMap{}, fmt.Errorf("%w: the torrent's metadata is not known yet", ErrConflict)
	}
	if err != nil {
		return PieceMap{}, err
	}
	return PieceMap{Pieces: n, Have: b}, nil
}
