package storage

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// directAlign is the alignment O_DIRECT needs for the buffer address, the
// file offset and the length (the logical block size of common disks).
const directAlign = 4096

// Direct I/O: writes of verified pieces bypass the page cache when the
// platform supports O_DIRECT (Linux) and the span is aligned. Filling the
// page cache costs the writer CPU for page allocation and, under a memory
// cgroup, direct reclaim — about 2 CPU s/GiB measured on the reference
// machine, against 0.15 s/GiB with O_DIRECT. Data written this way is not
// cached; seeding reads go to the disk (or the session's read cache).
// Unaligned heads and tails, and file systems without O_DIRECT support
// (tmpfs: EINVAL), use ordinary buffered writes.

// rawWriteLimit is the longest a raw direct write (pwriteDirect) may take:
// it holds its processor meanwhile, and with few processors that stalls the
// process. After one slower write (a spinning or network disk) the storage
// writes through os.File, which hands the processor over while blocked.
const rawWriteLimit = 20 * time.Millisecond

// openDirect opens file i write-only with O_DIRECT. The file must exist.
func (s *Storage) openDirect(i int, _ bool) (*os.File, error) {
	root, err := s.getRoot(true)
	if err != nil {
		return nil, err
	}
	return root.OpenFile(s.layout.Files[i].Path, os.O_WRONLY|oDirect, 0)
}

// errAIOFull reports that an asynchronous write could not be queued (no
// room, or the context is closed); the caller writes synchronously.
var errAIOFull = errors.New("storage: no room for an asynchronous write")

// maxIovecs bounds the buffers of one vectored write (the kernel's
// IOV_MAX is 1024).
const maxIovecs = 1024

// directPrefix returns the longest prefix of iov that O_DIRECT can write at
// off, and its length in bytes: whole buffers that start aligned and have
// aligned lengths, then the aligned head of one more buffer that starts
// aligned. It is empty when off is not aligned.
func directPrefix(iov [][]byte, off int64) ([][]byte, int) {
	if off%directAlign != 0 {
		return nil, 0
	}
	out := make([][]byte, 0, min(len(iov), maxIovecs))
	n := 0
	for _, b := range iov {
		if len(out) == maxIovecs || len(b) < directAlign || uintptr(unsafe.Pointer(&b[0]))%directAlign != 0 {
			break
		}
		m := len(b) &^ (directAlign - 1)
		out = append(out, b[:m])
		n += m
		if m < len(b) {
			break
		}
	}
	return out, n
}

// writeDirect writes the longest aligned prefix of iov (see directPrefix)
// at off through an O_DIRECT handle and returns how many bytes it wrote (0
// when direct I/O is not possible here); the caller writes the rest
// buffered.
func (s *Storage) writeDirect(file int, iov [][]byte, off int64) (int, error) {
	if s.direct == nil || s.noDirect.Load() {
		return 0, nil
	}
	iov, n := directPrefix(iov, off)
	if n == 0 {
		return 0, nil
	}
	h, err := s.direct.acquire(file, true)
	if err != nil {
		if errors.Is(err, syscall.EINVAL) {
			s.noDirect.Store(true) // the file system does not do O_DIRECT
			return 0, nil
		}
		return 0, err
	}
	done, queued := 0, false
	if a := s.asyncWriter(); a != nil {
		done, err = a.pwrite(h.f.Fd(), iov, off)
		if queued = !errors.Is(err, errAIOFull); queued && err != nil {
			err = &fs.PathError{Op: "write", Path: h.f.Name(), Err: err}
		}
	}
	if !queued { // no AIO here, or no room: write synchronously
		done, err = n, nil
		if s.slowDisk.Load() {
			err = writeEach(h.f, iov, off)
		} else {
			start := time.Now()
			err = pwriteDirect(h.f, iov, off)
			if time.Since(start) > rawWriteLimit {
				s.slowDisk.Store(true)
			}
		}
	}
	s.direct.release(h)
	if errors.Is(err, syscall.EINVAL) {
		s.noDirect.Store(true)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	s.directBytes.Add(int64(done))
	return done, nil // after a short write the caller writes the rest buffered
}

// writeEach writes the concatenation of iov at off through os.File, one
// buffer at a time.
func writeEach(f *os.File, iov [][]byte, off int64) error {
	for _, b := range iov {
		if _, err := f.WriteAt(b, off); err != nil {
			return err
		}
		off += int64(len(b))
	}
	return nil
}

// asyncWriter returns the storage's AIO context, set up on first use, or
// nil where AIO is unavailable (then direct writes are synchronous).
func (s *Storage) asyncWriter() *aio {
	s.aioMu.Lock()
	defer s.aioMu.Unlock()
	if s.aio == nil && !s.aioFailed && !s.aioClosed {
		a, err := newAIO()
		if err != nil {
			s.aioFailed = true
			return nil
		}
		s.aio = a
	}
	return s.aio
}

// ReleaseAsyncWriter waits for the asynchronous writes in flight and
// releases the AIO context, which holds kernel memory and a share of the
// system-wide aio-max-nr; a later direct write sets up a new one. Call it
// when no writes are expected for a while, as when a torrent completes
// (seeding only reads). It blocks for the kernel's retirement of the
// context (tens of milliseconds), so call it off the event loop.
func (s *Storage) ReleaseAsyncWriter() { s.dropAsyncWriter(false) }

// closeAsyncWriter waits for the asynchronous writes in flight and releases
// the AIO context; later direct writes are synchronous.
func (s *Storage) closeAsyncWriter() { s.dropAsyncWriter(true) }

// dropAsyncWriter releases the AIO context, for good if forGood. A write
// that took the context before this falls back to a synchronous one.
func (s *Storage) dropAsyncWriter(forGood bool) {
	s.aioMu.Lock()
	a := s.aio
	s.aio = nil
	if forGood {
		s.aioClosed = true
	}
	s.aioMu.Unlock()
	if a != nil {
		a.close()
	}
}
