package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gobit/gobit/internal/bitfield"
)

// FileStamp is what fast resume remembers of a file: its size and
// modification time. A file whose stamp still matches was not changed since
// the stamp was taken.
type FileStamp struct {
	Size    int64 `json:"size"`
	ModTime int64 `json:"mtime"` // UnixNano; 0 for a missing file
}

// Stamps returns the current stamp of every file of the layout, in layout
// order. Missing files (and pad files) get a zero stamp with Size -1.
func (s *Storage) Stamps() ([]FileStamp, error) {
	s.renameMu.RLock()
	defer s.renameMu.RUnlock()
	root, done, err := s.getRoot(false)
	if errors.Is(err, ErrClosed) {
		return nil, err
	}
	defer done()
	out := make([]FileStamp, len(s.layout.Files))
	paths := s.Paths()
	for i, f := range s.layout.Files {
		out[i] = FileStamp{Size: -1}
		if f.Pad || err != nil {
			continue
		}
		if fi, serr := root.Stat(paths[i]); serr == nil && fi.Mode().IsRegular() {
			out[i] = FileStamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
		}
	}
	return out, nil
}

// StampsMatch reports whether every (non-pad) file still has the stamp in
// stamps: nothing changed the files since the stamps were taken, so the
// pieces verified then are still there. It stats the files and reads
// nothing; a stamps list of the wrong length, a missing file or a closed
// Storage is no match.
func (s *Storage) StampsMatch(stamps []FileStamp) bool {
	if len(stamps) != len(s.layout.Files) {
		return false
	}
	now, err := s.Stamps()
	if err != nil {
		return false
	}
	for i, f := range s.layout.Files {
		if !f.Pad && (now[i].Size < 0 || now[i] != stamps[i]) {
			return false
		}
	}
	return true
}

// CheckResume is Check for a torrent with resume data: pieces marked in have
// whose every (non-pad) file still matches its stamp in stamps are trusted
// without hashing; all other pieces on disk are hashed. A nil have or a
// stamps list of the wrong length trusts nothing.
func (s *Storage) CheckResume(ctx context.Context, workers int, have *bitfield.Bitfield, stamps []FileStamp, progress func(checked int)) (*bitfield.Bitfield, error) {
	if have == nil || have.Len() != s.layout.NumPieces() || len(stamps) != len(s.layout.Files) {
		return s.Check(ctx, workers, progress)
	}
	now, err := s.Stamps()
	if err != nil {
		return nil, err
	}
	same := make([]bool, len(now))
	for i := range now {
		same[i] = s.layout.Files[i].Pad || (now[i].Size >= 0 && now[i] == stamps[i])
	}
	trusted := func(piece int) bool {
		if !have.Has(piece) {
			return false
		}
		ok := true
		off := int64(piece) * s.layout.PieceLength
		_ = s.layout.forSpans(off, s.layout.PieceSize(piece), func(sp span) error {
			if !same[sp.file] {
				ok = false
				return errStop
			}
			return nil
		})
		return ok
	}
	return s.check(ctx, workers, trusted, progress)
}

// ErrVanished means files the torrent wrote are no longer where they were:
// the save directory or the torrent's top folder was deleted or moved
// behind gobit's back. Writes through handles opened before would land in
// unlinked files, so the caller must stop rather than report them done.
var ErrVanished = errors.New("storage: data vanished from the save directory")

// CheckPresent reports ErrVanished when a top-level entry of the
// torrent's files (the single file, or the torrent's folder; after files
// were renamed, each first component of their paths) that should hold
// data does not exist: one holding a file with a piece set in have, or
// every one when have is nil. Call it only when data should be there (some
// piece verified). It costs one lstat per such entry, one for a torrent
// whose files were never renamed.
func (s *Storage) CheckPresent(have *bitfield.Bitfield) error {
	pp := s.paths.Load()
	paths := *pp // read only
	// The usual case, run every tick of every torrent: one top-level
	// entry, one lstat, nothing allocated.
	te := s.top.Load()
	if te == nil || te.paths != pp {
		top, one := s.oneTop(paths)
		te = &topEntry{paths: pp, one: one}
		if one && top != "" {
			te.path = filepath.Join(s.dir, top)
		}
		s.top.Store(te)
	}
	if te.one {
		if te.path == "" {
			return nil
		}
		if _, err := os.Lstat(te.path); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrVanished, te.path, err)
		}
		return nil
	}
	var order []string
	files := make(map[string][]int, 1) // top → its files
	for i, p := range paths {
		if s.layout.Files[i].Pad {
			continue
		}
		top := p
		if k := strings.IndexRune(top, filepath.Separator); k >= 0 {
			top = top[:k]
		}
		if _, ok := files[top]; !ok {
			order = append(order, top)
		}
		files[top] = append(files[top], i)
	}
	for _, top := range order {
		// With one top-level entry (never renamed), the caller's verified
		// piece is in it: no need to look for one.
		must := have == nil || len(order) == 1
		for _, i := range files[top] {
			if must {
				break
			}
			must = s.fileHasPiece(i, have)
		}
		if !must {
			continue
		}
		if _, err := os.Lstat(filepath.Join(s.dir, top)); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrVanished, filepath.Join(s.dir, top), err)
		}
	}
	return nil
}

// topEntry is the top-level entry of a torrent's files at one mapping of
// their paths, when they have one.
type topEntry struct {
	paths *[]string // the mapping it was worked out for
	one   bool      // the files have one top-level entry (or none)
	path  string    // its absolute path ("" when there is none)
}

// oneTop returns the top-level entry of every file of paths that is not
// padding ("" if there is none), and false when they have more than one.
func (s *Storage) oneTop(paths []string) (string, bool) {
	top := ""
	for i, p := range paths {
		if s.layout.Files[i].Pad {
			continue
		}
		if k := strings.IndexRune(p, filepath.Separator); k >= 0 {
			p = p[:k]
		}
		if top == "" {
			top = p
		} else if p != top {
			return "", false
		}
	}
	return top, true
}

// fileHasPiece reports whether a piece overlapping file i is set in have.
func (s *Storage) fileHasPiece(i int, have *bitfield.Bitfield) bool {
	f := &s.layout.Files[i]
	if f.Length == 0 {
		return false
	}
	l := &s.layout
	for p := int(f.Offset / l.PieceLength); p <= int((f.Offset+f.Length-1)/l.PieceLength); p++ {
		if have.Has(p) {
			return true
		}
	}
	return false
}
