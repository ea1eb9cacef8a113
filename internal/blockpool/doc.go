// Package blockpool recycles the 16 KiB buffers that received piece blocks
// live in, from the socket read that fills them to the disk write that
// stores them.
//
// # What it owns
//
// One process-wide pool: a bounded stack of idle blocks and an arena of
// Cap blocks (14 MiB) mapped outside the Go heap on transparent huge pages.
// The arena is mapped at the first Get that finds no idle block, not when
// the package is loaded: a process that never downloads (gobit info,
// gobit create) maps and holds nothing (TestNothingMappedUntilFirstUse).
// At that first use it is faulted in whole: its first huge page at once,
// the rest by a background goroutine (MADV_POPULATE_WRITE). Past the
// arena, and where it cannot be mapped (not Linux, or mmap refused),
// blocks come from the Go heap.
//
// # Imports and rules
//
// blockpool is a leaf: it imports only the standard library and
// golang.org/x/sys/unix (mmap, madvise). It must never know about
// messages, pieces or connections, never hand out a block twice before it
// comes back, never keep more than Cap idle blocks, and never unmap the
// arena (blocks handed out may live as long as the process).
//
// # Invariants
//
//   - A block from Get(Size) has length and capacity Size and starts on a
//     4 KiB boundary, so pieces written as their blocks qualify for
//     O_DIRECT (TestBlocksAreAligned).
//   - Put keeps only buffers of capacity Size (re-sliced blocks are
//     restored to full length); others are left to the garbage collector.
//   - The pool is a stack: the block handed out is the one returned last,
//     the most likely to be in the processor's cache.
//
// # Locks
//
// One mutex guards the free list and the arena; it is a leaf (nothing is
// called with it held but mmap at the first use and the faulting in of
// the arena's first huge page). The background populate goroutine does not
// take it.
package blockpool
