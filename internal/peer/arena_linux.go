package peer

import (
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on x86-64 and arm64
// with 4 KiB base pages.
const hugePage = 2 << 20

// mapArena maps size bytes of anonymous memory outside the Go heap, aligned
// to a huge page, and asks the kernel to back it with transparent huge
// pages. Block data then takes a TLB entry per 2 MiB instead of per 4 KiB:
// copying, hashing and pinning for direct I/O walk fewer page tables (which
// a virtual machine pays twice). It returns nil if the mapping fails; the
// madvise is a hint and its failure is ignored.
func mapArena(size int) []byte {
	m, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil
	}
	off := 0
	if r := addrOf(m) % hugePage; r != 0 {
		off = hugePage - int(r)
	}
	a := m[off : off+size : off+size]
	syscall.Madvise(a, syscall.MADV_HUGEPAGE)
	return a
}

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14).
const madvPopulateWrite = 23

// populateArena faults b's pages in without writing to them, so blocks
// already handed out from b are left alone. The call blocks in the kernel
// (syscall.Syscall, not a raw call), so the runtime gives this thread's
// processor to the other goroutines meanwhile. On older kernels it fails
// (EINVAL) and does nothing: the pages are faulted in as blocks are first
// used.
func populateArena(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, addrOf(b), uintptr(len(b)), madvPopulateWrite); e != 0 {
		return e // EINVAL before Linux 5.14
	}
	return nil
}
