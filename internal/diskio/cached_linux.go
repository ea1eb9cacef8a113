//go:build linux && (amd64 || arm64)

package diskio

import (
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// readCached reads into buf at off in f what the page cache already holds,
// with a raw preadv2(RWF_NOWAIT): no wait for the disk, and no entry into
// the scheduler's system-call state. A read through os.File that copies a
// piece out of the page cache lasts more than the runtime monitor's 20 µs
// tick, so the monitor handed gobit's one processor to another thread on
// every such read (see internal/rawio); seeding does thousands a
// second. It returns how many bytes it read, maybe fewer than len(buf) and
// 0 when the data is not cached or the kernel or file system lacks
// RWF_NOWAIT: the caller reads the rest the ordinary way.
func readCached(f *os.File, buf []byte, off int64) int {
	if len(buf) == 0 {
		return 0
	}
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_PREADV2, f.Fd(), uintptr(unsafe.Pointer(&iov)), 1, uintptr(off), 0, unix.RWF_NOWAIT)
		runtime.KeepAlive(f)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0
		}
		return int(n)
	}
}
