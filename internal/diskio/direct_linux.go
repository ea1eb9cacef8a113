package diskio

import (
	"io/fs"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DirectFlag is the flag a storage adds when it opens a file's direct
// write handle for Files.AcquireDirect: O_DIRECT.
const DirectFlag = unix.O_DIRECT

// platformDirect says that this build has direct writes, with raw
// synchronous ones.
const platformDirect = Direct | Raw

// pwriteDirect writes the concatenation of iov at off with pwritev(2)
// issued as a raw system call.
//
// An O_DIRECT write of a piece blocks for the device's latency (about a
// millisecond). Through os.File the runtime marks the goroutine as in a
// system call, its monitor thread takes the processor away, wakes another
// thread for it, and polls every 20 µs for as long as such calls keep
// coming: measured on a 2-core VM, about 11 % of a download's CPU. A raw
// call keeps the processor for the duration instead. This is the fallback
// where asynchronous writes (aio_linux.go) are not available.
func pwriteDirect(f *os.File, iov [][]byte, off int64) error {
	fd := f.Fd()
	vec := make([]unix.Iovec, 0, len(iov))
	for len(iov) > 0 {
		vec = vec[:0]
		for _, b := range iov {
			if len(b) > 0 {
				v := unix.Iovec{Base: &b[0]}
				v.SetLen(len(b))
				vec = append(vec, v)
			}
		}
		if len(vec) == 0 {
			break
		}
		n, _, errno := unix.RawSyscall6(unix.SYS_PWRITEV, fd,
			uintptr(unsafe.Pointer(&vec[0])), uintptr(len(vec)), uintptr(off), 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			runtime.KeepAlive(f)
			return &fs.PathError{Op: "write", Path: f.Name(), Err: errno}
		}
		if n == 0 {
			runtime.KeepAlive(f)
			return &fs.PathError{Op: "write", Path: f.Name(), Err: unix.EIO}
		}
		iov = skipBytes(iov, int(n))
		off += int64(n)
	}
	runtime.KeepAlive(f)
	return nil
}
