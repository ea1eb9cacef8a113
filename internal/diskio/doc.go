// Package diskio moves a storage's bytes between memory and its files: the
// platform I/O under internal/storage.
//
// # What it owns
//
// An IO, one per storage, chosen once by Open from the platform and the
// storage's options:
//
//   - buffered: writes and reads through os.File and the page cache (where
//     O_DIRECT does not exist, or Options.Buffered).
//   - direct: the aligned runs of each vectored write go through an O_DIRECT
//     handle, bypassing the page cache (about 2 CPU s/GiB saved against
//     filling it, under a memory cgroup); unaligned heads and tails go
//     through os.File. On Linux amd64/arm64 a direct write is queued with
//     native AIO (aio_linux.go: the writer sleeps until the completion,
//     holding no thread and no processor); without AIO, or with its queue
//     full, it is a raw pwritev (direct_linux.go), or an os.File write once
//     a raw one was slow.
//
// Every read first takes what the page cache holds with a raw
// preadv2(RWF_NOWAIT) (cached_linux.go), the rest through os.File.
// Preallocate reserves a file's blocks (fallocate on Linux).
//
// The fallback rules are all in fallback (io.go): the file system refuses
// O_DIRECT (EINVAL) → buffered for good; AIO cannot be set up → synchronous
// direct writes; a raw write took more than rawWriteLimit → synchronous
// direct writes through os.File. Features are only turned off, never back
// on, and each IO keeps its mode in one atomic word (Stats().Mode).
//
// # Imports and rules
//
// diskio is a leaf: it imports only the standard library and
// golang.org/x/sys/unix (system-call numbers, flags, Iovec). It must never
// open a file by path: the storage opens every file inside its save
// directory (os.Root) and lends the handles, the ordinary one per call and
// the O_DIRECT one through Files. It knows nothing of pieces, layouts or
// torrents, and never caches data.
//
// # Concurrency and lock order
//
// IO methods are safe for concurrent use. A direct IO's mode and byte
// count are atomics. direct.aioMu guards the lazily set up AIO context and
// is released before the context's own mutex (aio.mu) is taken; aio.mu is
// a leaf. Files.AcquireDirect is called with no diskio lock held.
// Release and Close wait for the writes in flight, then retire the context
// (tens of milliseconds in the kernel): call them off event loops.
package diskio
