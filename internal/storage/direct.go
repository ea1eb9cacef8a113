package storage

import (
	"os"

	"github.com/gobit/gobit/internal/diskio"
)

// Direct I/O: writes of verified pieces bypass the page cache when the
// platform supports O_DIRECT (Linux) and the span is aligned; how, and the
// fallbacks when the file system or the kernel refuse, are internal/diskio's
// (chosen at Open). The storage lends diskio its O_DIRECT handles, opened
// inside the save directory and kept in their own handle cache.

// openDirect opens file i write-only with O_DIRECT. The file must exist.
func (s *Storage) openDirect(i int, _ bool) (*os.File, error) {
	root, done, err := s.getRoot(true)
	if err != nil {
		return nil, err
	}
	defer done()
	return root.OpenFile(s.path(i), os.O_WRONLY|diskio.DirectFlag, 0)
}

// directFiles lends a Storage's O_DIRECT handles to its diskio.IO.
type directFiles Storage

// AcquireDirect implements diskio.Files.
func (d *directFiles) AcquireDirect(file int) (diskio.Handle, error) {
	if d.direct == nil {
		return nil, ErrClosed // not reached: diskio writes directly only when Open made the cache
	}
	h, err := d.direct.acquire(file, true)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// ReleaseAsyncWriter waits for the asynchronous writes in flight and
// releases the AIO context, which holds kernel memory and a share of the
// system-wide aio-max-nr; a later direct write sets up a new one. Call it
// when no writes are expected for a while, as when a torrent completes
// (seeding only reads). It blocks for the kernel's retirement of the
// context (tens of milliseconds), so call it off the event loop.
func (s *Storage) ReleaseAsyncWriter() { s.io.Release() }
