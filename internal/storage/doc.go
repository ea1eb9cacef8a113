// Package storage maps a torrent's pieces onto the files of its layout and
// performs the disk I/O for them: piece writes split across files, block
// reads for serving peers, SHA-1 verification and a full-torrent check.
//
// The storage owns the file layout (pieces onto files, spans, pad files),
// the file handles and their cache, path safety (os.Root), Sync and the
// resume stamps. How bytes move between memory and a file is
// internal/diskio's: an IO chosen once at Open (buffered, or O_DIRECT with
// Linux AIO and raw pwritev as the platform allows), with its fallback
// rules in one place. storage imports bitfield and diskio; it must not
// issue system calls itself.
//
// # Ownership and concurrency
//
// A *Storage is owned by one torrent but its methods are called concurrently
// from a bounded pool of disk worker goroutines; every method is safe for
// concurrent use. The only shared mutable state is the two file-handle
// caches (mutex-protected LRUs, one of them for the O_DIRECT write handles
// it lends the IO), the set of files and directories written since the
// last Sync, the lazily opened root directory handle, the files' current
// paths (an atomically replaced slice: Rename swaps in a new one), and the
// IO's own state (its mode and AIO context, see internal/diskio). Data is read and
// written with positioned calls, so no seek offset is shared between
// goroutines: verified pieces go out as vectored writes, with O_DIRECT
// where aligned; reads take what the page cache holds with a raw
// preadv2(RWF_NOWAIT) first and the rest through os.File. Callers must not
// write and read the same byte range at the same time (the torrent loop
// never does: a piece is read only once it is written and verified).
//
// # Invariants
//
//   - The layout is validated by Open: files are contiguous and sorted by
//     offset, their lengths sum to TotalLength, and every non-pad path is a
//     clean, local, relative path without "..". Rename keeps it so: the
//     layout with the new paths is validated the same way before any file
//     moves, and a failed rename moves back what it moved.
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
// Storage.renameMu is taken first: exclusively by Rename, shared by Sync
// and Stamps (so that neither opens or stats a file at the path a rename
// is moving it from). Storage.rootMu and
// fileCache.mu are never held together: the cache drops its mutex before it
// opens a file. The IO is called with no storage lock
// held; it takes a direct handle (fileCache.mu, briefly) with none of its
// own held. Storage.dirtyMu is a leaf.
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
