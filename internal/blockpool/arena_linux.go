package blockpool

import (
	"unsafe"

	"golang.org/x/sys/unix"
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
	m, err := unix.Mmap(-1, 0, size+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil
	}
	off := 0
	if r := addrOf(m) % hugePage; r != 0 {
		off = hugePage - int(r)
	}
	a := m[off : off+size : off+size]
	unix.Madvise(a, unix.MADV_HUGEPAGE)
	return a
}

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// populateArena faults b's pages in without writing to them, so blocks
// already handed out from b are left alone. The call blocks in the kernel
// (a plain system call, not a raw one), so the runtime gives this thread's
// processor to the other goroutines meanwhile. On kernels before 5.14 it
// fails (EINVAL) and does nothing: the pages are faulted in as blocks are
// first used.
func populateArena(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return unix.Madvise(b, unix.MADV_POPULATE_WRITE)
}
