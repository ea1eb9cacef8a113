package peer

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// readvFunc returns a vectored read on nc: readv(2) on the socket for
// connections that expose their descriptor (TCP), waiting for data through
// the runtime's poller (so read deadlines apply); a plain Read into the
// first non-empty buffer for others.
func readvFunc(nc net.Conn) func(iovs [][]byte) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return readFirst(nc)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return readFirst(nc)
	}
	var vec []syscall.Iovec
	return func(iovs [][]byte) (int, error) {
		vec = vec[:0]
		for _, b := range iovs {
			if len(b) > 0 {
				v := syscall.Iovec{Base: &b[0]}
				v.SetLen(len(b))
				vec = append(vec, v)
			}
		}
		if len(vec) == 0 {
			return 0, nil
		}
		var n uintptr
		var errno syscall.Errno
		err := rc.Read(func(fd uintptr) bool {
			for {
				// The socket is non-blocking: the call never waits, so it
				// need not tell the scheduler.
				n, _, errno = syscall.RawSyscall(syscall.SYS_READV, fd, uintptr(unsafe.Pointer(&vec[0])), uintptr(len(vec)))
				if errno != syscall.EINTR {
					return errno != syscall.EAGAIN
				}
			}
		})
		switch {
		case err != nil:
			return 0, err
		case errno != 0:
			return 0, os.NewSyscallError("readv", errno)
		case n == 0:
			return 0, io.EOF
		}
		return int(n), nil
	}
}
