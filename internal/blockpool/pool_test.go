package blockpool

import (
	"testing"
	"unsafe"
)

// drain drops every idle block.
func (p *pool) drain() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.free)
	p.free = p.free[:0]
}

func TestBlocksAreRecycledAndBounded(t *testing.T) {
	std.drain()
	a := Get(Size)
	a[0] = 7
	Put(a[:100]) // a re-sliced block is still the whole buffer
	if b := Get(Size); &b[0] != &a[0] || len(b) != Size {
		t.Fatal("Get did not reuse the returned block at full length")
	}
	Put(make([]byte, 1000)) // not a block buffer: dropped
	if Idle() != 0 {
		t.Fatal("a foreign buffer was kept")
	}
	for range 2 * Cap {
		Put(make([]byte, Size))
	}
	if n := Idle(); n != Cap {
		t.Fatalf("%d idle blocks, want the cap %d", n, Cap)
	}
	if short := Get(100); len(short) != 100 {
		t.Fatalf("a short block has length %d", len(short))
	}
	std.drain()
}

// TestBlocksAreAligned: fresh blocks start on a 4 KiB boundary, so a piece
// written as its blocks goes to the disk with direct I/O, both the arena's
// and, past them, the heap's. (If the runtime's allocator changes, writes
// stay correct but fall back to buffered I/O; this test says so.)
func TestBlocksAreAligned(t *testing.T) {
	std.drain()
	var keep [][]byte
	for range Cap + 100 {
		b := Get(Size)
		keep = append(keep, b) // distinct blocks
		if a := uintptr(unsafe.Pointer(&b[0])) % 4096; a != 0 {
			t.Fatalf("block %d of %d bytes starts %d bytes past a 4 KiB boundary", len(keep), Size, a)
		}
	}
	for _, b := range keep {
		Put(b)
	}
}
