// Package storage maps a torrent's pieces onto the files of its layout and
// performs the disk I/O for them: piece writes split across files, block
// reads for serving peers, SHA-1 verification and a full-torrent check.
//
// # Ownership and concurrency
//
// A *Storage is owned by one torrent but its methods are called concurrently
// from a bounded pool of disk worker goroutines; every method is safe for
// concurrent use. The only shared mutable state is the two file-handle
// caches (mutex-protected LRUs, one of them for O_DIRECT write handles),
// the set of files and directories written since the last Sync, the lazily
// opened root directory handle, the lazily set up AIO context, and sticky
// flags that turn direct I/O or raw writes off for good once they fail or
// are slow. Data is read and written with positioned calls, so no seek
// offset is shared between goroutines: verified pieces go out as vectored
// writes, with O_DIRECT where aligned (direct.go) and queued with Linux AIO
// where available (aio_linux.go: the writing goroutine sleeps until the
// completion arrives; without AIO a raw pwritev, or os.File after a slow
// one); reads take what the page cache holds with a raw
// preadv2(RWF_NOWAIT) first (cached_linux.go) and the rest through
// os.File. Callers must not write and read the same byte range at the same
// time (the torrent loop never does: a piece is read only once it is
// written and verified).
//
// # Invariants
//
//   - The layout is validated by Open: files are contiguous and sorted by
//     offset, their lengths sum to TotalLength, and every non-pad path is a
//     clean, local, relative path without "..".
//   - At most Options.MaxOpenFiles file handles are open at any time. An
//     operation holds at most one handle at a time (multi-file operations
//     visit files one after another), so waiting for a free handle cannot
//     deadlock. A handle evicted from the cache is closed only after the
//     last operation using it releases it (reference count).
//   - Files are created (with their parent directories) on first write, never
//     on read. Pad files (BEP 47) are never created; they read as zeros.
//   - No file operation touches anything outside the save directory: all
//     opens, stats, mkdirs and removes go through an os.Root for the save
//     directory, which resolves every path component with openat and refuses
//     "..", absolute symlinks and symlinks whose target leaves the directory
//     (ErrOutsideDir), also when the symlink is planted while the torrent
//     runs. Symlinks that stay inside the save directory are followed.
//
// # Lock ordering
//
// Storage.rootMu and fileCache.mu are never held together: the cache drops
// its mutex before it opens a file. Storage.aioMu is released before the
// AIO context's own mutex is taken, and Storage.dirtyMu is a leaf.
package storage

import "errors"

// ErrOutsideDir is returned when a file path, or a symlink met while
// resolving it, would lead outside the save directory.
var ErrOutsideDir = errors.New("storage: path outside save directory")

// ErrShortRead is returned when a file on disk is shorter than the range
// being read; callers treat the data as not present.
var ErrShortRead = errors.New("storage: short read")

// ErrInvalidLayout is returned by Open when the layout is inconsistent.
var ErrInvalidLayout = errors.New("storage: invalid layout")

// ErrOutOfRange is returned for a piece index, offset or length outside the
// torrent.
var ErrOutOfRange = errors.New("storage: out of range")

// ErrClosed is returned by operations on a closed Storage.
var ErrClosed = errors.New("storage: closed")

// ErrNoHashes is returned by Check when the layout carries no piece hashes.
var ErrNoHashes = errors.New("storage: layout has no piece hashes")
