package diskio

import (
	"errors"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Mode is the way an IO writes: a set of features, each of which a
// fallback rule may turn off for good (see fallback). The zero Mode writes
// everything buffered, through os.File and the page cache.
type Mode uint32

const (
	// Direct writes aligned runs through O_DIRECT handles, bypassing the
	// page cache; unaligned heads and tails are written buffered.
	Direct Mode = 1 << iota
	// Async queues direct writes with Linux AIO: the writing goroutine
	// sleeps until the completion arrives, holding no thread.
	Async
	// Raw makes synchronous direct writes (no AIO, or no room in its
	// queue) as raw pwritev calls, which keep the processor; without it
	// they go through os.File, which hands the processor over.
	Raw
)

// String names the mode's features, "buffered" for none.
func (m Mode) String() string {
	if m == 0 {
		return "buffered"
	}
	s := ""
	for _, f := range []struct {
		bit  Mode
		name string
	}{{Direct, "direct"}, {Async, "async"}, {Raw, "raw"}} {
		if m&f.bit != 0 {
			if s != "" {
				s += "+"
			}
			s += f.name
		}
	}
	return s
}

// Options are the storage's wishes for its I/O.
type Options struct {
	// Buffered turns direct I/O off: every write goes through the page
	// cache.
	Buffered bool
	// Off lists features to leave off even where the platform has them
	// (tests use it to exercise the fallbacks).
	Off Mode
}

// platform is what this build can do (the _linux and _other files).
const platform = platformDirect | platformAsync

// choose returns the mode an IO starts in: what the platform has, minus
// what the options turn off. Without Direct nothing else applies.
func choose(platform Mode, opts Options) Mode {
	m := platform &^ opts.Off
	if opts.Buffered || m&Direct == 0 {
		return 0
	}
	return m
}

// event is something a write learned about the disk or the kernel.
type event int

const (
	// directRefused: opening with O_DIRECT, or a direct write, failed
	// with EINVAL: the file system does not do direct I/O (tmpfs).
	directRefused event = iota
	// asyncUnavailable: setting up the AIO context failed (ENOSYS in a
	// sandbox, EAGAIN at the system-wide aio-max-nr).
	asyncUnavailable
	// slowRawWrite: a raw synchronous write took longer than
	// rawWriteLimit (a spinning or network disk).
	slowRawWrite
)

// fallback is every fallback rule in one place: the mode to use after ev
// happened while writing in mode m. Features are only ever turned off.
func fallback(m Mode, ev event) Mode {
	switch ev {
	case directRefused:
		return 0
	case asyncUnavailable:
		return m &^ Async
	case slowRawWrite:
		return m &^ Raw
	}
	return m
}

// rawWriteLimit is the longest a raw direct write (pwriteDirect) may take:
// it holds its processor meanwhile, and with few processors that stalls the
// process. After one slower write the IO writes through os.File, which
// hands the processor over while blocked. (A variable for tests.)
var rawWriteLimit = 20 * time.Millisecond

// Handle is an open file that the storage lends for one operation.
type Handle interface {
	// File returns the open file.
	File() *os.File
	// Release gives the handle back; File must not be used afterwards.
	Release()
}

// Files gives an IO the O_DIRECT write handles of a storage's files. The
// storage opens them inside its save directory (with DirectFlag) and keeps
// them in its handle cache; the file exists already.
type Files interface {
	AcquireDirect(file int) (Handle, error)
}

// Stats describes an IO's state.
type Stats struct {
	// Mode is the way it writes now (fallbacks may have narrowed it).
	Mode Mode
	// DirectBytes counts the bytes written with O_DIRECT.
	DirectBytes int64
	// AsyncReady is true while an AIO context is set up.
	AsyncReady bool
}

// IO reads and writes the bytes of one storage's files. Its methods are
// safe for concurrent use; callers must not write and read the same byte
// range at the same time.
type IO interface {
	// WriteAt writes the concatenation of bufs at off in file number
	// file, whose ordinary read-write handle f the caller holds: aligned
	// runs through the file's direct handle where the mode has Direct, the
	// rest through f. It may modify bufs' elements. Errors are returned as
	// the file calls give them; the caller adds the file's name.
	WriteAt(f *os.File, file int, bufs [][]byte, off int64) error
	// ReadAt reads len(p) bytes at off in f, as os.File.ReadAt does (what
	// the page cache holds with a raw preadv2 where available), and
	// returns the bytes read.
	ReadAt(f *os.File, p []byte, off int64) (int, error)
	// Release waits for the asynchronous writes in flight and releases
	// the AIO context, which holds kernel memory and a share of the
	// system-wide aio-max-nr; a later direct write sets up a new one. It
	// blocks for the kernel's retirement of the context (tens of
	// milliseconds).
	Release()
	// Close is Release for good: later direct writes are synchronous.
	Close()
	// Stats returns the IO's current state.
	Stats() Stats
}

// Open returns the IO for one storage, its implementation chosen here once
// from the platform and opts: buffered (no direct I/O), or direct (O_DIRECT,
// with Linux AIO and raw pwritev as the platform allows), which falls back
// as the fallback rules say. files lends the direct handles; it is unused
// by the buffered implementation.
func Open(opts Options, files Files) IO {
	m := choose(platform, opts)
	if m == 0 {
		return buffered{}
	}
	d := &direct{files: files}
	d.mode.Store(uint32(m))
	return d
}

// buffered writes and reads through os.File only.
type buffered struct{}

func (buffered) WriteAt(f *os.File, _ int, bufs [][]byte, off int64) error {
	return writeEach(f, bufs, off)
}

func (buffered) ReadAt(f *os.File, p []byte, off int64) (int, error) { return readAt(f, p, off) }
func (buffered) Release()                                            {}
func (buffered) Close()                                              {}
func (buffered) Stats() Stats                                        { return Stats{} }

// direct writes aligned runs with O_DIRECT (Direct mode and its fallbacks).
type direct struct {
	files       Files
	mode        atomic.Uint32 // a Mode; changed only by fall
	directBytes atomic.Int64

	// aio queues direct writes asynchronously (aio_linux.go); nil until
	// the first direct write, after Release, and after Close.
	aioMu     sync.Mutex
	aio       *aio
	aioClosed bool
}

func (d *direct) Stats() Stats {
	d.aioMu.Lock()
	ready := d.aio != nil
	d.aioMu.Unlock()
	return Stats{Mode: Mode(d.mode.Load()), DirectBytes: d.directBytes.Load(), AsyncReady: ready}
}

// fall applies the fallback rule for ev to the current mode.
func (d *direct) fall(ev event) {
	for {
		old := d.mode.Load()
		m := uint32(fallback(Mode(old), ev))
		if m == old || d.mode.CompareAndSwap(old, m) {
			return
		}
	}
}

func (d *direct) ReadAt(f *os.File, p []byte, off int64) (int, error) { return readAt(f, p, off) }

func (d *direct) WriteAt(f *os.File, file int, iov [][]byte, off int64) error {
	var err error
	for len(iov) > 0 && err == nil {
		var done int
		if done, err = d.writeDirect(file, iov, off); done == 0 {
			break
		}
		iov = skipBytes(iov, done)
		off += int64(done)
	}
	if err != nil {
		return err
	}
	return writeEach(f, iov, off)
}

// writeDirect writes the longest aligned prefix of iov (see directPrefix)
// at off through file's O_DIRECT handle and returns how many bytes it wrote
// (0 when direct I/O is not possible here); the caller writes the rest
// buffered.
func (d *direct) writeDirect(file int, iov [][]byte, off int64) (int, error) {
	m := Mode(d.mode.Load())
	if m&Direct == 0 {
		return 0, nil
	}
	iov, n := directPrefix(iov, off)
	if n == 0 {
		return 0, nil
	}
	h, err := d.files.AcquireDirect(file)
	if err != nil {
		if errors.Is(err, syscall.EINVAL) {
			d.fall(directRefused)
			return 0, nil
		}
		return 0, err
	}
	f := h.File()
	done, queued := 0, false
	if m&Async != 0 {
		if a := d.asyncWriter(); a != nil {
			done, err = a.pwrite(f.Fd(), iov, off)
			if queued = !errors.Is(err, errAIOFull); queued && err != nil {
				err = &fs.PathError{Op: "write", Path: f.Name(), Err: err}
			}
		}
	}
	if !queued { // no AIO here, or no room: write synchronously
		done, err = n, nil
		if m&Raw == 0 {
			err = writeEach(f, iov, off)
		} else {
			start := time.Now()
			err = pwriteDirect(f, iov, off)
			if time.Since(start) > rawWriteLimit {
				d.fall(slowRawWrite)
			}
		}
	}
	h.Release()
	if errors.Is(err, syscall.EINVAL) {
		d.fall(directRefused)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	d.directBytes.Add(int64(done))
	return done, nil // after a short write the caller writes the rest buffered
}

// asyncWriter returns the AIO context, set up on first use, or nil when
// the mode has no Async (any more) or the IO is closed.
func (d *direct) asyncWriter() *aio {
	d.aioMu.Lock()
	defer d.aioMu.Unlock()
	if d.aio == nil && !d.aioClosed && Mode(d.mode.Load())&Async != 0 {
		a, err := newAIO()
		if err != nil {
			d.fall(asyncUnavailable)
			return nil
		}
		d.aio = a
	}
	return d.aio
}

func (d *direct) Release() { d.dropAsyncWriter(false) }
func (d *direct) Close()   { d.dropAsyncWriter(true) }

// dropAsyncWriter releases the AIO context, for good if forGood. A write
// that took the context before this falls back to a synchronous one.
func (d *direct) dropAsyncWriter(forGood bool) {
	d.aioMu.Lock()
	a := d.aio
	d.aio = nil
	if forGood {
		d.aioClosed = true
	}
	d.aioMu.Unlock()
	if a != nil {
		a.close()
	}
}

// errAIOFull reports that an asynchronous write could not be queued (no
// room, or the context is closed); the caller writes synchronously.
var errAIOFull = errors.New("diskio: no room for an asynchronous write")

// Align is the alignment O_DIRECT needs for the buffer address, the file
// offset and the length (the logical block size of common disks).
const Align = 4096

// maxIovecs bounds the buffers of one vectored write (the kernel's
// IOV_MAX is 1024).
const maxIovecs = 1024

// directPrefix returns the longest prefix of iov that O_DIRECT can write at
// off, and its length in bytes: whole buffers that start aligned and have
// aligned lengths, then the aligned head of one more buffer that starts
// aligned. It is empty when off is not aligned.
func directPrefix(iov [][]byte, off int64) ([][]byte, int) {
	if off%Align != 0 {
		return nil, 0
	}
	out := make([][]byte, 0, min(len(iov), maxIovecs))
	n := 0
	for _, b := range iov {
		if len(out) == maxIovecs || len(b) < Align || uintptr(unsafe.Pointer(&b[0]))%Align != 0 {
			break
		}
		m := len(b) &^ (Align - 1)
		out = append(out, b[:m])
		n += m
		if m < len(b) {
			break
		}
	}
	return out, n
}

// skipBytes drops the first n bytes of the concatenation of bufs.
func skipBytes(bufs [][]byte, n int) [][]byte {
	for n > 0 && len(bufs) > 0 {
		if n < len(bufs[0]) {
			bufs[0] = bufs[0][n:]
			return bufs
		}
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	return bufs
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

// readAt reads what the page cache holds with readCached, the rest through
// os.File.
func readAt(f *os.File, p []byte, off int64) (int, error) {
	n := readCached(f, p, off)
	if n == len(p) {
		return n, nil
	}
	m, err := f.ReadAt(p[n:], off+int64(n))
	return n + m, err
}
