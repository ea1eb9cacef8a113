//go:build linux && (amd64 || arm64)

package diskio

//lint:file-ignore U1000 the kernel structures keep fields gobit never sets, for their layout

import (
	"os"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Asynchronous direct writes with Linux native AIO.
//
// A direct write of a 1 MiB piece waits about a millisecond for the device.
// A blocking pwrite either holds the goroutine's processor for that time
// (raw system call: with one processor the whole process stops; measured
// on a 2-core VM, 1.1 s of a 3.7 s download of 1 GiB) or makes the
// runtime's monitor hand the processor over and poll every 20 µs (os.File:
// about 11 % of a download's CPU). io_submit instead queues the write and
// returns at once; the kernel signals the completion on an eventfd, which
// the runtime's network poller watches, and the writing goroutine sleeps on
// a channel meanwhile. No thread and no processor wait for the disk.
//
// The kernel structures below are laid out for 64-bit little-endian
// platforms (the build constraint).

// iocb is struct iocb of linux/aio_abi.h (fields gobit leaves zero are
// blank: aio_key, aio_rw_flags, aio_reqprio, aio_reserved2).
type iocb struct {
	data   uint64 // returned in the completion event: the operation's id
	_      uint32 // aio_key
	_      uint32 // aio_rw_flags
	opcode uint16
	_      int16 // aio_reqprio
	fildes uint32
	buf    uint64
	nbytes uint64
	offset int64
	_      uint64
	flags  uint32
	resfd  uint32
}

// The kernel's sizes: 64 bytes for an iocb, 32 for an io_event.
const (
	_ = uint(unsafe.Sizeof(iocb{})-64) + uint(64-unsafe.Sizeof(iocb{}))
	_ = uint(unsafe.Sizeof(ioEvent{})-32) + uint(32-unsafe.Sizeof(ioEvent{}))
)

// ioEvent is struct io_event of linux/aio_abi.h.
type ioEvent struct {
	data uint64
	obj  uint64
	res  int64
	res2 int64
}

// The kernel's AIO ABI constants (linux/aio_abi.h; golang.org/x/sys/unix
// does not define them).
const (
	iocbCmdPwritev = 8
	iocbFlagResfd  = 1 << 0
	// aioDepth is the number of writes an AIO context holds in flight.
	// Pieces of one torrent are written one at a time; more is headroom.
	aioDepth = 16
)

// platformAsync says that this build has asynchronous direct writes.
const platformAsync = Async

// aio is one kernel AIO context with its completion eventfd and the
// goroutine that reaps completions and wakes the waiting writers.
type aio struct {
	ctx    uintptr
	efd    *os.File // pollable, read by reap
	efdNum uintptr  // its descriptor, for the kernel (os.File.Fd would make it blocking)

	mu      sync.Mutex
	closed  bool
	next    uint64
	waiting map[uint64]chan int64 // in-flight writes by id
	inUse   sync.WaitGroup        // writes submitted and not yet reaped
	reaped  chan struct{}         // closed when reap returns
}

// newAIO sets up an AIO context and starts its reaper. It fails where the
// kernel or a sandbox refuses AIO (ENOSYS, EAGAIN when the system-wide
// aio-max-nr is reached); direct writes are then synchronous.
func newAIO() (*aio, error) {
	var ctx uintptr
	if _, _, e := unix.RawSyscall(unix.SYS_IO_SETUP, aioDepth, uintptr(unsafe.Pointer(&ctx)), 0); e != 0 {
		return nil, &os.SyscallError{Syscall: "io_setup", Err: e}
	}
	fd, _, e := unix.RawSyscall(unix.SYS_EVENTFD2, 0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC, 0)
	if e != 0 {
		unix.RawSyscall(unix.SYS_IO_DESTROY, ctx, 0, 0)
		return nil, &os.SyscallError{Syscall: "eventfd2", Err: e}
	}
	a := &aio{
		ctx:     ctx,
		efd:     os.NewFile(fd, "aio-eventfd"),
		efdNum:  fd,
		waiting: make(map[uint64]chan int64),
		reaped:  make(chan struct{}),
	}
	go a.reap()
	return a, nil
}

// pwrite writes the concatenation of iov (non-empty buffers)
// at off in the file with descriptor fd and waits for the write to complete, asleep, without holding a processor. It returns the
// bytes written, the write's error, or errAIOFull when the write could not
// be queued (nothing was written then).
func (a *aio) pwrite(fd uintptr, iov [][]byte, off int64) (int, error) {
	ch := make(chan int64, 1)
	a.mu.Lock()
	if a.closed || len(a.waiting) >= aioDepth {
		a.mu.Unlock()
		return 0, errAIOFull
	}
	a.next++
	id := a.next
	a.waiting[id] = ch
	a.inUse.Add(1)
	a.mu.Unlock()
	defer a.inUse.Done()

	cb := &iocb{
		data:   id,
		fildes: uint32(fd),
		offset: off,
		flags:  iocbFlagResfd,
		resfd:  uint32(a.efdNum),
	}
	vec := make([]unix.Iovec, len(iov))
	for i, b := range iov {
		vec[i].Base = unsafe.SliceData(b)
		vec[i].SetLen(len(b))
	}
	cb.opcode = iocbCmdPwritev
	cb.buf = uint64(uintptr(unsafe.Pointer(&vec[0])))
	cb.nbytes = uint64(len(vec))
	for {
		n, _, e := unix.RawSyscall(unix.SYS_IO_SUBMIT, a.ctx, 1, uintptr(unsafe.Pointer(&cb)))
		runtime.KeepAlive(cb)
		if e == unix.EINTR {
			continue
		}
		if e != 0 || n != 1 {
			a.mu.Lock()
			delete(a.waiting, id)
			a.mu.Unlock()
			if e == unix.EAGAIN || e == 0 {
				return 0, errAIOFull
			}
			return 0, &os.SyscallError{Syscall: "io_submit", Err: e}
		}
		break
	}
	res := <-ch
	runtime.KeepAlive(iov) // the kernel wrote from iov and vec until now
	runtime.KeepAlive(vec)
	if res < 0 {
		return 0, unix.Errno(-res)
	}
	return int(res), nil
}

// reap waits on the eventfd and hands each completion to its writer.
func (a *aio) reap() {
	defer close(a.reaped)
	var cnt [8]byte
	var evs [aioDepth]ioEvent
	zero := unix.Timespec{}
	rc, err := a.efd.SyscallConn()
	if err != nil {
		return
	}
	for {
		// A raw read inside the poller's callback: the poller waits for the
		// eventfd, and the read does not enter the scheduler's system-call
		// state, which would wake the runtime's monitor thread each time
		// (see internal/rawio).
		if err := rc.Read(func(fd uintptr) bool {
			_, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&cnt[0])), uintptr(len(cnt)))
			return e != unix.EAGAIN && e != unix.EINTR
		}); err != nil {
			return // closed by close
		}
		for {
			n, _, e := unix.RawSyscall6(unix.SYS_IO_GETEVENTS, a.ctx, 0, aioDepth,
				uintptr(unsafe.Pointer(&evs[0])), uintptr(unsafe.Pointer(&zero)), 0)
			if e == unix.EINTR {
				continue
			}
			if e != 0 || n == 0 {
				break
			}
			a.mu.Lock()
			for _, ev := range evs[:n] {
				if ch, ok := a.waiting[ev.data]; ok {
					delete(a.waiting, ev.data)
					ch <- ev.res // buffered: never blocks
				}
			}
			a.mu.Unlock()
		}
	}
}

// close refuses new writes, waits for the ones in flight, and releases the
// context, the eventfd and the reaper.
func (a *aio) close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	a.mu.Unlock()
	a.inUse.Wait()
	a.efd.Close()
	<-a.reaped
	// io_destroy waits for the kernel to retire the context: two RCU grace
	// periods, about 35 ms measured here. A raw call would hold this
	// goroutine's processor for all of it, stalling every other torrent
	// (gobit runs on one processor on 2 cores); a plain system call lets
	// the runtime hand the processor on.
	unix.Syscall(unix.SYS_IO_DESTROY, a.ctx, 0, 0)
}
