package rawio

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket reads and writes on a peer's connection are issued as raw system
// calls from inside the runtime poller's RawConn callbacks. The poller still
// does the waiting (readiness, deadlines, Close), but the call itself does
// not tell the scheduler that it is in a system call.
//
// Why: gobit runs on one processor (cmd/gobit). A read that copies 64 KiB,
// or a write whose loopback delivery runs the receiver's network stack,
// lasts more than the runtime monitor's 20 µs tick; the monitor then takes
// the processor away from the call and starts another thread to use it,
// which finds nothing to do and sleeps again, and the call, once back,
// must win its processor back. Each costs a few context switches and a
// cross-processor wake-up. Measured on a 1 GiB download here, half of all
// of gobit's context switches were that monitor. Raw calls keep the
// processor for their few microseconds, as the direct disk writes already
// do (internal/diskio).

// Conn reads a socket with raw readv(2) calls and writes it with raw
// writev(2) calls.
type Conn struct{ r, w *vecCall }

// New returns a raw reader and writer for nc when it is a plain socket,
// or nil (use nc's own methods: a wrapper may transform the bytes).
func New(nc net.Conn) *Conn {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &Conn{
		r: newVecCall(rc.Read, unix.SYS_READV, "readv"),
		w: newVecCall(rc.Write, unix.SYS_WRITEV, "writev"),
	}
}

// vecCall is one direction's raw vectored system call (readv or writev) on
// a socket, made through wait (the RawConn's Read or Write), which waits
// until the socket is ready. Its callback is a method value made once, and
// its iovecs and results are fields, so a call allocates nothing (closures
// made per call cost three allocations each, 15-20 thousand calls per GiB
// downloaded).
type vecCall struct {
	wait  func(func(uintptr) bool) error
	sysno uintptr
	name  string
	cb    func(fd uintptr) bool
	vec   []unix.Iovec
	n     uintptr
	errno syscall.Errno
}

func newVecCall(wait func(func(uintptr) bool) error, sysno uintptr, name string) *vecCall {
	v := &vecCall{wait: wait, sysno: sysno, name: name}
	v.cb = v.call
	return v
}

// call is the RawConn callback: it makes the system call, again if
// interrupted, and asks the poller to wait and call back when the socket
// is not ready (EAGAIN).
func (v *vecCall) call(fd uintptr) bool {
	for {
		v.n, _, v.errno = unix.RawSyscall(v.sysno, fd, uintptr(unsafe.Pointer(&v.vec[0])), uintptr(len(v.vec)))
		if v.errno != unix.EINTR {
			return v.errno != unix.EAGAIN
		}
	}
}

// do makes the call with the buffers of bufs (at most MaxIovecs of them)
// and then clears its iovecs, so that they no longer hold the buffers.
func (v *vecCall) do(bufs [][]byte) (int, error) {
	v.vec = fillIovecs(v.vec[:0], bufs)
	if len(v.vec) == 0 {
		return 0, nil
	}
	v.n, v.errno = 0, 0
	err := v.wait(v.cb)
	clear(v.vec)
	switch {
	case err != nil:
		return 0, err // a deadline, or the connection was closed
	case v.errno != 0:
		return 0, os.NewSyscallError(v.name, v.errno)
	}
	return int(v.n), nil
}

// fillIovecs appends an iovec for each non-empty buffer of bufs, up to
// MaxIovecs in all.
func fillIovecs(vec []unix.Iovec, bufs [][]byte) []unix.Iovec {
	for _, b := range bufs {
		if len(vec) == MaxIovecs {
			break
		}
		if len(b) > 0 {
			vec = append(vec, unix.Iovec{Base: &b[0]})
			vec[len(vec)-1].SetLen(len(b))
		}
	}
	return vec
}

// Read implements io.Reader.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.ReadVec([][]byte{p})
	if n > 0 {
		return n, nil
	}
	return 0, err
}

// ReadVec reads into bufs in order with one call (at most MaxIovecs of
// them), waiting until the socket has data. At the end of the stream it
// returns 0 and io.EOF.
func (c *Conn) ReadVec(bufs [][]byte) (int, error) {
	n, err := c.r.do(bufs)
	if err == nil && n == 0 && len(c.r.vec) > 0 {
		err = io.EOF
	}
	return n, err
}

// WriteVec writes all of bufs, in order, with as few calls as the socket
// allows. It may modify bufs' elements (a partly written buffer is
// re-sliced).
func (c *Conn) WriteVec(bufs [][]byte) (int64, error) {
	var total int64
	for len(bufs) > 0 {
		n, err := c.w.do(bufs)
		if err != nil {
			return total, err
		}
		if len(c.w.vec) == 0 {
			break // only empty buffers were left
		}
		if n == 0 {
			return total, io.ErrShortWrite // no progress: never loop on it
		}
		total += int64(n)
		bufs = consumed(bufs, n)
	}
	return total, nil
}

// consumed drops the first n bytes from bufs.
func consumed(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 && n > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}
