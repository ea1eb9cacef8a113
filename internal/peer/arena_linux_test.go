package peer

import (
	"errors"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/gobit/gobit/internal/wire"
)

func TestArenaIsHugePageAligned(t *testing.T) {
	a := mapArena(3 * hugePage)
	if a == nil {
		t.Fatal("mapArena failed")
	}
	if len(a) != 3*hugePage || cap(a) != 3*hugePage {
		t.Fatalf("arena of %d bytes (cap %d), want %d", len(a), cap(a), 3*hugePage)
	}
	if r := addrOf(a) % hugePage; r != 0 {
		t.Fatalf("arena starts %d bytes past a huge page", r)
	}
	a[0], a[len(a)-1] = 1, 2 // writable end to end
}

// TestBlockPoolCarvesArenaThenStacks: a pool hands out its arena's blocks
// first, each a full block that cannot grow into the next, then reports
// empty; returned blocks come back last in, first out.
func TestBlockPoolCarvesArenaThenStacks(t *testing.T) {
	p := blockPool{arena: mapArena(3 * wire.BlockSize)}
	var got [][]byte
	for range 3 {
		b := p.get()
		if len(b) != wire.BlockSize || cap(b) != wire.BlockSize {
			t.Fatalf("arena block of len %d cap %d", len(b), cap(b))
		}
		if addrOf(b)%4096 != 0 {
			t.Fatal("arena block not page-aligned")
		}
		got = append(got, b)
	}
	if p.get() != nil {
		t.Fatal("a pool with its arena used up and no free block returned a block")
	}
	if addrOf(got[1])-addrOf(got[0]) != wire.BlockSize {
		t.Fatal("arena blocks are not consecutive")
	}
	p.put(got[0])
	p.put(got[2])
	if b := p.get(); &b[0] != &got[2][0] {
		t.Fatal("the pool did not hand out the block returned last")
	}
	if b := p.get(); &b[0] != &got[0][0] {
		t.Fatal("the pool lost a returned block")
	}
}

// resident counts the pages of b that are in memory.
func resident(t *testing.T, b []byte) int {
	t.Helper()
	vec := make([]byte, (len(b)+4095)/4096)
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, addrOf(b), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal("mincore:", e)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestArenaFaultedInWholeAtFirstUse: a pool's arena takes no memory until
// a block is handed out, and then all of it at once, so a download's
// memory does not depend on how deep its pipeline got (or on how long it
// ran).
func TestArenaFaultedInWholeAtFirstUse(t *testing.T) {
	const blocks = 256 // 4 MiB: two huge pages
	arena := mapArena(blocks * wire.BlockSize)
	p := blockPool{arena: arena}
	if n := resident(t, arena); n != 0 {
		t.Fatalf("%d pages resident before any block was handed out", n)
	}
	p.get()
	if n := resident(t, arena); n < hugePage/4096 {
		t.Fatalf("%d pages resident after the first block, want at least a huge page", n)
	}
	select {
	case <-p.populated:
	case <-time.After(10 * time.Second):
		t.Fatal("the arena was not populated in 10 s")
	}
	if errors.Is(p.populateErr, syscall.EINVAL) {
		t.Skip("this kernel has no MADV_POPULATE_WRITE (Linux 5.14): the rest of the arena faults in as it is used")
	}
	if n, all := resident(t, arena), len(arena)/4096; n != all {
		t.Fatalf("%d of %d pages resident after the first block", n, all)
	}
}
