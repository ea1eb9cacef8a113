package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gobit/gobit/internal/diskio"
)

// escapeErr is the os package's unexported "path escapes from parent"
// error, captured once by provoking it on a root (see captureEscapeErr).
var (
	escapeOnce sync.Once
	escapeErr  atomic.Pointer[error]
)

// captureEscapeErr records the error os.Root returns for a path that leaves
// the root, so that isEscape can recognise it by identity.
func captureEscapeErr(r *os.Root) {
	escapeOnce.Do(func() {
		_, err := r.Lstat("..")
		var pe *fs.PathError
		if errors.As(err, &pe) {
			escapeErr.Store(&pe.Err)
		}
	})
}

// isEscape reports whether err is, or wraps, os.Root refusing a path that
// leaves it (MkdirAll, for one, nests the refusal in a second PathError).
func isEscape(err error) bool {
	if target := escapeErr.Load(); target != nil {
		return errors.Is(err, *target)
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if pe, ok := e.(*fs.PathError); ok && pe.Err.Error() == "path escapes from parent" {
			return true
		}
	}
	return false
}

// fsError wraps an error from a file operation as
// `storage: <op> "<path>" at <off>: <err>`, adding ErrOutsideDir when the
// root refused to leave the save directory.
func fsError(op, path string, off int64, err error) error {
	return fmt.Errorf("storage: %s %q at %d: %w", op, path, off, classify(err))
}

// classify adds ErrOutsideDir to err's chain when err is os.Root refusing
// to leave the save directory.
func classify(err error) error {
	if isEscape(err) && !errors.Is(err, ErrOutsideDir) {
		return fmt.Errorf("%w: %w", ErrOutsideDir, err)
	}
	return err
}

// getRoot returns the root handle of the save directory, opening it when
// none is open, and a function the caller must call once done with it
// (ReleaseHandles closes the root only while nobody uses it). With create,
// the save directory is created if missing; without it a missing directory
// yields an error wrapping fs.ErrNotExist. On error, done is a no-op.
func (s *Storage) getRoot(create bool) (root *os.Root, done func(), err error) {
	s.rootMu.Lock()
	defer s.rootMu.Unlock()
	if s.rootClosed {
		return nil, func() {}, ErrClosed
	}
	if s.root == nil {
		if create {
			if err := os.MkdirAll(s.dir, 0o777); err != nil {
				return nil, func() {}, fmt.Errorf("create save directory: %w", err)
			}
		}
		r, err := os.OpenRoot(s.dir)
		if err != nil {
			return nil, func() {}, fmt.Errorf("open save directory: %w", err)
		}
		captureEscapeErr(r)
		s.root = r
	}
	s.rootUsers++
	return s.root, s.putRoot, nil
}

// putRoot ends a use of the root begun by getRoot.
func (s *Storage) putRoot() {
	s.rootMu.Lock()
	s.rootUsers--
	s.rootMu.Unlock()
}

// closeRoot closes the root handle; later getRoot calls fail with ErrClosed.
// Callers make sure no operation is using it.
func (s *Storage) closeRoot() error {
	s.rootMu.Lock()
	defer s.rootMu.Unlock()
	s.rootClosed = true
	if s.root == nil {
		return nil
	}
	err := s.root.Close()
	s.root = nil
	return err
}

// ReleaseHandles closes the descriptors the storage keeps open between
// operations: the file handles no operation is using and the save
// directory's root when no operation is opening a file through it. The
// next operation opens what it needs again. A torrent that has seen no
// disk traffic for a while calls it, so that thousands of idle torrents
// hold no descriptors. It returns how many were closed.
func (s *Storage) ReleaseHandles() int {
	n := s.cache.dropIdle()
	if s.direct != nil {
		n += s.direct.dropIdle()
	}
	s.rootMu.Lock()
	defer s.rootMu.Unlock()
	if s.root != nil && s.rootUsers == 0 && !s.rootClosed {
		_ = s.root.Close()
		s.root = nil
		n++
	}
	return n
}

// openFile opens file i of the layout; callers add the file name and
// operation to its errors. Readers get a read-only handle on an
// existing file; writers get O_RDWR|O_CREATE, with parent directories
// created and, with Options.Preallocate, the file's blocks allocated.
func (s *Storage) openFile(i int, write bool) (*os.File, error) {
	f := &s.layout.Files[i]
	path := s.path(i)
	root, done, err := s.getRoot(write)
	if err != nil {
		return nil, err
	}
	defer done()
	if !write {
		return root.OpenFile(path, os.O_RDONLY, 0)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := root.MkdirAll(dir, 0o777); err != nil {
			return nil, err
		}
	}
	fh, err := root.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		fh, err = root.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
		if err == nil {
			// A new directory entry: Sync must flush the directories
			// holding it for the file to survive a crash.
			s.markDirsDirty(path)
		}
	}
	if err != nil {
		return nil, err
	}
	if s.opts.Preallocate && !s.isSkipped(i) {
		if err := diskio.Preallocate(fh, f.Length); err != nil {
			fh.Close()
			return nil, fmt.Errorf("preallocate: %w", err)
		}
	}
	return fh, nil
}

// fileSizes stats every file of the layout and returns their sizes, -1 for
// a file that is missing or cannot be reached inside the save directory.
// Pad files report their full length. It fails only on a closed Storage.
func (s *Storage) fileSizes() ([]int64, error) {
	sizes := make([]int64, len(s.layout.Files))
	paths := s.Paths()
	root, done, err := s.getRoot(false)
	if errors.Is(err, ErrClosed) {
		return nil, err
	}
	defer done()
	for i, f := range s.layout.Files {
		switch {
		case f.Pad:
			sizes[i] = f.Length
		case err != nil:
			sizes[i] = -1
		default:
			fi, serr := root.Stat(paths[i])
			if serr != nil || !fi.Mode().IsRegular() {
				sizes[i] = -1
			} else {
				sizes[i] = fi.Size()
			}
		}
	}
	return sizes, nil
}

// syncDir flushes directory d (relative to the save directory). Windows
// cannot fsync a directory; there it is a no-op.
func (s *Storage) syncDir(d string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	root, done, err := s.getRoot(false)
	if err != nil {
		return err
	}
	defer done()
	fh, err := root.Open(d)
	if err != nil {
		return err
	}
	defer fh.Close()
	return fh.Sync()
}
