package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// ErrExists is returned by Rename when something already exists at a new
// path: gobit never renames a file over another.
var ErrExists = errors.New("storage: a file already exists at the new path")

// path returns file i's current path.
func (s *Storage) path(i int) string { return (*s.paths.Load())[i] }

// Paths returns each file's current path, in layout order: the layout's,
// or the one Rename gave it. The slice is the caller's.
func (s *Storage) Paths() []string { return slices.Clone(*s.paths.Load()) }

// Rename gives files of the layout new paths, by layout index, and moves
// those that exist on disk there (inside the save directory, through its
// os.Root, creating the parent directories). A file not written yet only
// changes its mapping: its first write creates it at the new path.
// Directories that the moves leave empty are removed (never the save
// directory), and the directories changed are flushed.
//
// Every new path must be a clean local path, as Open requires
// (ErrOutsideDir otherwise), and the layout with the new paths must stay
// valid: no two files on one path, no file where another's directory is
// (ErrInvalidLayout). A pad file cannot be renamed. Something already
// existing at a new path (a file of another torrent, or one this rename
// moves away in the same call: rename in two steps for that) fails with
// ErrExists, and a symlink on the way that leaves the save directory with
// ErrOutsideDir. On failure the files already moved are moved back and the
// mapping is unchanged.
//
// The caller must keep reads and writes of the renamed files out while
// Rename runs (the torrent quiesces its disk jobs); operations on other
// files may run. Renames are serialized.
func (s *Storage) Rename(renames map[int]string) error {
	s.renameMu.Lock()
	defer s.renameMu.Unlock()
	cur := *s.paths.Load()
	next := slices.Clone(cur)
	for i, p := range renames {
		if i < 0 || i >= len(next) {
			return fmt.Errorf("%w: file %d of %d", ErrOutOfRange, i, len(next))
		}
		if s.layout.Files[i].Pad {
			return fmt.Errorf("%w: file %d is a pad file", ErrInvalidLayout, i)
		}
		next[i] = p
	}
	l := s.layout
	l.Files = slices.Clone(l.Files)
	for i := range l.Files {
		l.Files[i].Path = next[i]
	}
	if err := l.validate(); err != nil {
		return err
	}
	var changed []int
	for i := range next {
		if next[i] != cur[i] {
			changed = append(changed, i)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	root, done, err := s.getRoot(false)
	if errors.Is(err, ErrClosed) {
		return err
	}
	if err != nil {
		// No save directory yet: nothing was written, only the mapping
		// changes.
		s.paths.Store(&next)
		return nil
	}
	defer done()
	for _, i := range changed {
		if _, err := root.Lstat(next[i]); err == nil {
			return fmt.Errorf("%w: %q", ErrExists, next[i])
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fsError("rename to", next[i], 0, err)
		}
	}
	// The handles stay valid across a rename on POSIX systems, but a
	// handle is named by its path: drop them so that every open after
	// this one uses the new path.
	for _, i := range changed {
		s.cache.forget(i)
		if s.direct != nil {
			s.direct.forget(i)
		}
	}
	var moved []int
	undo := func(err error) error {
		for k := len(moved) - 1; k >= 0; k-- {
			i := moved[k]
			_ = root.Rename(next[i], cur[i])
		}
		return err
	}
	dirs := make(map[string]bool)
	for _, i := range changed {
		if _, err := root.Lstat(cur[i]); errors.Is(err, fs.ErrNotExist) {
			continue // not written yet
		} else if err != nil {
			return undo(fsError("rename", cur[i], 0, err))
		}
		if dir := filepath.Dir(next[i]); dir != "." {
			if err := root.MkdirAll(dir, 0o777); err != nil {
				return undo(fsError("rename: create directory", dir, 0, err))
			}
		}
		if err := root.Rename(cur[i], next[i]); err != nil {
			return undo(fsError("rename", cur[i], 0, err))
		}
		moved = append(moved, i)
		for _, p := range []string{cur[i], next[i]} {
			for d := filepath.Dir(p); ; d = filepath.Dir(d) {
				dirs[d] = true
				if d == "." {
					break
				}
			}
		}
	}
	s.paths.Store(&next)
	s.removeEmptyDirs(root, cur, changed)
	s.flushDirs(dirs)
	return nil
}

// removeEmptyDirs removes the directories on the old paths of the renamed
// files that are now empty, deepest first, keeping the save directory and
// every directory still on a current path.
func (s *Storage) removeEmptyDirs(root *os.Root, old []string, changed []int) {
	keep := make(map[string]bool)
	for _, p := range *s.paths.Load() {
		for d := filepath.Dir(p); d != "."; d = filepath.Dir(d) {
			keep[d] = true
		}
	}
	var list []string
	seen := make(map[string]bool)
	for _, i := range changed {
		for d := filepath.Dir(old[i]); d != "."; d = filepath.Dir(d) {
			if !keep[d] && !seen[d] {
				seen[d] = true
				list = append(list, d)
			}
		}
	}
	// A directory removed has nothing left for Sync to flush.
	removeDirsIfEmpty(root, list, func(d string) {
		s.dirtyMu.Lock()
		delete(s.newDirs, d)
		s.dirtyMu.Unlock()
	})
}

// flushDirs flushes the directories whose entries a rename changed, so
// that the new names survive a crash; those that cannot be flushed now (a
// directory removed since, an I/O error) are left to the next Sync.
func (s *Storage) flushDirs(dirs map[string]bool) {
	for d := range dirs {
		if err := s.syncDir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.dirtyMu.Lock()
			s.newDirs[d] = struct{}{}
			s.dirtyMu.Unlock()
		}
	}
}
