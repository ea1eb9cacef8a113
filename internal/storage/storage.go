package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/diskio"
)

// DefaultMaxOpenFiles is the file-handle cache size used when
// Options.MaxOpenFiles is zero or negative.
const DefaultMaxOpenFiles = 64

// Options tunes a Storage. The zero value is usable.
type Options struct {
	// MaxOpenFiles bounds the number of open file handles (default 64).
	// Not counted: the save directory's own handle, and one directory
	// handle that Sync opens briefly per directory it flushes.
	MaxOpenFiles int
	// Preallocate allocates each file's full size when it is first opened
	// for writing. By default files are sparse and grow as pieces arrive.
	Preallocate bool
	// BufferedWrites turns off direct I/O (O_DIRECT) for piece writes,
	// which is otherwise used on Linux for aligned spans.
	BufferedWrites bool

	// ioOff lists diskio features to leave off (tests only).
	ioOff diskio.Mode
}

// Storage reads and writes one torrent's data in a save directory. All
// methods are safe for concurrent use; see the package comment.
type Storage struct {
	dir    string // absolute save directory
	layout Layout
	opts   Options
	cache  *fileCache
	// direct holds O_DIRECT write handles (nil when io does not write
	// directly); io reads and writes the files' bytes, chosen at Open.
	direct *fileCache
	io     diskio.IO

	rootMu     sync.Mutex
	root       *os.Root // nil until needed, and again after ReleaseHandles
	rootUsers  int      // operations using root (getRoot to putRoot)
	rootClosed bool

	dirtyMu sync.Mutex
	dirty   map[int]struct{}    // files written since the last Sync
	newDirs map[string]struct{} // directories with entries created since the last Sync

	// onRead, when set (tests only), is called before each read from a file.
	onRead func(file int)

	// skipped marks the files (by layout index) the user skipped (see
	// SetSkipped).
	skipped atomic.Pointer[[]bool]

	// paths holds each file's current path (by layout index): the
	// layout's, or the one Rename gave it. renameMu is held by Rename,
	// and shared by Sync and Stamps, which must not open or stat a file
	// at a path a rename is moving it from.
	paths atomic.Pointer[[]string]
	// top caches the single top-level entry of paths (CheckPresent).
	top      atomic.Pointer[topEntry]
	renameMu sync.RWMutex
}

// Open validates layout and returns a Storage for it rooted at saveDir. It
// creates no file or directory: files are created on first write. Open
// copies layout.Files; layout.Hashes is shared and must not be modified.
//
// Every non-pad path must be a clean local path (filepath.IsLocal, no ".."
// or "." component); anything else fails with ErrOutsideDir. Symlinks are
// checked at each file operation, not here: a path whose resolution leaves
// saveDir fails then with ErrOutsideDir.
func Open(saveDir string, layout Layout, opts Options) (*Storage, error) {
	if saveDir == "" {
		return nil, fmt.Errorf("storage: empty save directory")
	}
	dir, err := filepath.Abs(saveDir)
	if err != nil {
		return nil, fmt.Errorf("storage: save directory %q: %w", saveDir, err)
	}
	if err := layout.validate(); err != nil {
		return nil, err
	}
	if opts.MaxOpenFiles <= 0 {
		opts.MaxOpenFiles = DefaultMaxOpenFiles
	}
	layout.Files = append([]File(nil), layout.Files...)
	s := &Storage{dir: dir, layout: layout, opts: opts, dirty: make(map[int]struct{}), newDirs: make(map[string]struct{})}
	paths := make([]string, len(layout.Files))
	for i, f := range layout.Files {
		paths[i] = f.Path
	}
	s.paths.Store(&paths)
	s.cache = newFileCache(opts.MaxOpenFiles, s.openFile)
	s.io = diskio.Open(diskio.Options{Buffered: opts.BufferedWrites, Off: opts.ioOff}, (*directFiles)(s))
	if s.io.Stats().Mode&diskio.Direct != 0 {
		s.direct = newFileCache(max(2, opts.MaxOpenFiles/4), s.openDirect)
	}
	return s, nil
}

// Layout returns the storage's layout as given to Open (Paths has the
// files' current paths). The caller must not modify it.
func (s *Storage) Layout() *Layout { return &s.layout }

// Dir returns the absolute save directory.
func (s *Storage) Dir() string { return s.dir }

// WritePiece writes a whole piece; len(data) must equal the piece's size.
// The data is split across the files it covers, pad spans are skipped.
func (s *Storage) WritePiece(piece int, data []byte) error {
	return s.WritePieceBlocks(piece, [][]byte{data})
}

// WritePieceBlocks writes a whole piece given as consecutive buffers (the
// blocks it was received in), without joining them: the blocks go to the
// disk as they are, with vectored writes. Their lengths must add up to the
// piece's size.
func (s *Storage) WritePieceBlocks(piece int, blocks [][]byte) error {
	size := s.layout.PieceSize(piece)
	if size == 0 {
		return fmt.Errorf("%w: piece %d of %d", ErrOutOfRange, piece, s.layout.NumPieces())
	}
	var n int64
	for _, b := range blocks {
		n += int64(len(b))
	}
	if n != size {
		return fmt.Errorf("%w: piece %d: %d bytes, piece size %d", ErrOutOfRange, piece, n, size)
	}
	return s.writeAt(blocks, int64(piece)*s.layout.PieceLength)
}

// WriteAt writes p at the torrent-global offset off, across files as
// needed. Pad spans are skipped.
func (s *Storage) WriteAt(p []byte, off int64) error {
	if err := s.layout.checkRange(off, len(p)); err != nil {
		return err
	}
	return s.writeAt([][]byte{p}, off)
}

// writeAt writes the concatenation of bufs at the torrent-global offset
// off, one file's span after another, through s.io (aligned runs directly
// where it writes directly, the rest buffered).
func (s *Storage) writeAt(bufs [][]byte, off int64) error {
	var total int64
	for _, b := range bufs {
		total += int64(len(b))
	}
	return s.layout.forSpans(off, total, func(sp span) error {
		f := &s.layout.Files[sp.file]
		if f.Pad {
			return nil
		}
		h, err := s.cache.acquire(sp.file, true) // also creates the file
		if err != nil {
			return fsError("write", s.path(sp.file), sp.fileOff, err)
		}
		err = s.io.WriteAt(h.f, sp.file, subSlices(bufs, sp.bufOff, sp.n), sp.fileOff)
		s.cache.release(h)
		s.markDirty(sp.file)
		if err != nil {
			return fsError("write", s.path(sp.file), sp.fileOff, err)
		}
		return nil
	})
}

// subSlices returns the slices of bufs that cover bytes [from, from+n) of
// their concatenation (sharing memory with bufs).
func subSlices(bufs [][]byte, from, n int64) [][]byte {
	out := make([][]byte, 0, len(bufs))
	for _, b := range bufs {
		if n == 0 {
			break
		}
		if from >= int64(len(b)) {
			from -= int64(len(b))
			continue
		}
		b = b[from:]
		from = 0
		if int64(len(b)) > n {
			b = b[:n]
		}
		out = append(out, b)
		n -= int64(len(b))
	}
	return out
}

// ReadBlock reads len(p) bytes at offset begin of piece. A missing file
// fails with an error wrapping fs.ErrNotExist, a short one with
// ErrShortRead; callers treat both as "data not present". Pad spans read as
// zeros.
func (s *Storage) ReadBlock(piece int, begin int, p []byte) error {
	off, err := s.layout.pieceOffset(piece, int64(begin), len(p))
	if err != nil {
		return err
	}
	return s.readAt(p, off)
}

// ReadAt reads len(p) bytes at the torrent-global offset off, with the
// same error conventions as ReadBlock.
func (s *Storage) ReadAt(p []byte, off int64) error {
	if err := s.layout.checkRange(off, len(p)); err != nil {
		return err
	}
	return s.readAt(p, off)
}

func (s *Storage) readAt(p []byte, off int64) error {
	return s.layout.forSpans(off, int64(len(p)), func(sp span) error {
		f := &s.layout.Files[sp.file]
		buf := p[sp.bufOff : sp.bufOff+sp.n]
		if f.Pad {
			clear(buf)
			return nil
		}
		if s.onRead != nil {
			s.onRead(sp.file)
		}
		h, err := s.cache.acquire(sp.file, false)
		if err != nil {
			return fsError("read", s.path(sp.file), sp.fileOff, err)
		}
		n, err := s.io.ReadAt(h.f, buf, sp.fileOff)
		s.cache.release(h)
		if n == len(buf) {
			return nil
		}
		if err == nil || errors.Is(err, io.EOF) {
			return fmt.Errorf("storage: read %q at %d: %w: got %d of %d bytes", s.path(sp.file), sp.fileOff, ErrShortRead, n, len(buf))
		}
		return fsError("read", s.path(sp.file), sp.fileOff, err)
	})
}

func (s *Storage) markDirty(i int) {
	s.dirtyMu.Lock()
	s.dirty[i] = struct{}{}
	s.dirtyMu.Unlock()
}

// markDirsDirty records that path was created: its parent directory, and
// every directory up to the save directory (which MkdirAll may have just
// created), must be flushed by the next Sync.
func (s *Storage) markDirsDirty(path string) {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		s.newDirs[d] = struct{}{}
		if d == "." {
			return
		}
	}
}

// Sync flushes to stable storage (fsync) every file written since the last
// Sync, then the directories in which files were created, so that both the
// data and the names survive a crash. Entries whose flush fails stay marked
// for the next Sync.
func (s *Storage) Sync() error {
	s.renameMu.RLock()
	defer s.renameMu.RUnlock()
	s.dirtyMu.Lock()
	files := make([]int, 0, len(s.dirty))
	for i := range s.dirty {
		files = append(files, i)
	}
	clear(s.dirty)
	dirs := make([]string, 0, len(s.newDirs))
	for d := range s.newDirs {
		dirs = append(dirs, d)
	}
	clear(s.newDirs)
	s.dirtyMu.Unlock()
	sort.Ints(files)
	sort.Strings(dirs)

	var errs []error
	for _, i := range files {
		path := s.path(i)
		h, err := s.cache.acquire(i, true)
		if err == nil {
			err = h.f.Sync()
			s.cache.release(h)
		}
		if err != nil {
			s.markDirty(i)
			errs = append(errs, fsError("sync", path, 0, err))
		}
	}
	for _, d := range dirs {
		if err := s.syncDir(d); err != nil {
			s.dirtyMu.Lock()
			s.newDirs[d] = struct{}{}
			s.dirtyMu.Unlock()
			errs = append(errs, fsError("sync directory", d, 0, err))
		}
	}
	return errors.Join(errs...)
}

// Close closes every file handle and the save directory handle. It does
// not fsync: call Sync first when durability matters. Handles evicted from
// the cache are closed without fsync too; Sync reopens such files to flush
// them (a close-time write-back error, possible on network file systems,
// is not reported). Operations still
// running finish with the handle they hold; later ones fail with ErrClosed.
func (s *Storage) Close() error {
	s.io.Close()
	s.cache.closeAll()
	if s.direct != nil {
		s.direct.closeAll()
	}
	if err := s.closeRoot(); err != nil {
		return fmt.Errorf("storage: close save directory: %w", err)
	}
	return nil
}

// CreateEmptyFiles creates every zero-length, non-pad file of the layout
// that does not exist yet (they never receive a write). Call it when the
// torrent completes.
func (s *Storage) CreateEmptyFiles() error {
	for i, f := range s.layout.Files {
		if f.Length != 0 || f.Pad || s.isSkipped(i) {
			continue
		}
		h, err := s.cache.acquire(i, true)
		if err != nil {
			return fsError("create", s.path(i), 0, err)
		}
		s.cache.release(h)
	}
	return nil
}

// Remove closes the storage (it may also be called after Close) and deletes the torrent's files, then the
// directories on their paths (below the save directory, never the save
// directory itself) that are left empty. Files that do not exist are not
// an error. Nothing outside the save directory is touched, and a symlink in
// place of a file is removed, not followed.
func (s *Storage) Remove() error {
	s.cache.closeAll()
	if s.direct != nil {
		s.direct.closeAll()
	}
	if err := s.closeRoot(); err != nil {
		return fmt.Errorf("storage: remove: close save directory: %w", err)
	}
	root, err := os.OpenRoot(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: remove: open save directory: %w", err)
	}
	defer root.Close()
	var errs []error
	dirs := make(map[string]bool)
	for i, path := range s.Paths() {
		if s.layout.Files[i].Pad {
			continue
		}
		if err := root.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fsError("remove", path, 0, err))
		}
		for d := filepath.Dir(path); d != "."; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		list = append(list, d)
	}
	removeDirsIfEmpty(root, list, nil)
	return errors.Join(errs...)
}

// removeDirsIfEmpty removes those of dirs (paths inside root) that are
// empty, deepest first, so that a parent is empty when its turn comes once
// its subdirectories are gone; removed, if not nil, is told each one
// removed. A directory that is not empty stays (removing it fails), and a
// path that is missing, a symlink or not a directory is left alone. dirs
// is sorted in place.
func removeDirsIfEmpty(root *os.Root, dirs []string, removed func(dir string)) {
	sort.Slice(dirs, func(i, j int) bool {
		di := strings.Count(dirs[i], string(filepath.Separator))
		dj := strings.Count(dirs[j], string(filepath.Separator))
		if di != dj {
			return di > dj
		}
		return dirs[i] < dirs[j]
	})
	for _, d := range dirs {
		if fi, err := root.Lstat(d); err != nil || !fi.IsDir() {
			continue // missing, a symlink or not ours
		}
		if root.Remove(d) == nil && removed != nil {
			removed(d)
		}
	}
}

// FileCompleted returns, for each file of the layout, the number of its
// bytes covered by pieces set in have.
func (s *Storage) FileCompleted(have *bitfield.Bitfield) []int64 {
	l := &s.layout
	out := make([]int64, len(l.Files))
	if have == nil {
		return out
	}
	for i, f := range l.Files {
		if f.Length == 0 {
			continue
		}
		first := int(f.Offset / l.PieceLength)
		last := int((f.Offset + f.Length - 1) / l.PieceLength)
		for p := first; p <= last; p++ {
			if !have.Has(p) {
				continue
			}
			ps := int64(p) * l.PieceLength
			pe := ps + l.PieceSize(p)
			out[i] += min(pe, f.Offset+f.Length) - max(ps, f.Offset)
		}
	}
	return out
}
