package blockpool

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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

// TestPoolCarvesArenaThenStacks: a pool maps its arena at the first get
// and hands out its blocks first, each a full block that cannot grow into
// the next, then reports empty; returned blocks come back last in, first
// out.
func TestPoolCarvesArenaThenStacks(t *testing.T) {
	p := pool{arenaSize: 3 * Size}
	if p.whole != nil {
		t.Fatal("arena mapped before the first get")
	}
	var got [][]byte
	for range 3 {
		b := p.get()
		if len(b) != Size || cap(b) != Size {
			t.Fatalf("arena block of len %d cap %d", len(b), cap(b))
		}
		if addrOf(b)%4096 != 0 {
			t.Fatal("arena block not page-aligned")
		}
		got = append(got, b)
	}
	if addrOf(got[0]) != addrOf(p.whole) {
		t.Fatal("the first block is not the arena's start")
	}
	if p.get() != nil {
		t.Fatal("a pool with its arena used up and no free block returned a block")
	}
	if addrOf(got[1])-addrOf(got[0]) != Size {
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
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, addrOf(b), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal("mincore:", e)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestArenaFaultedInWholeAtFirstUse: a mapped arena takes no memory until
// a block is handed out, and then all of it at once, so a download's
// memory does not depend on how deep its pipeline got (or on how long it
// ran).
func TestArenaFaultedInWholeAtFirstUse(t *testing.T) {
	if n := resident(t, mapArena(4*hugePage)); n != 0 {
		t.Fatalf("%d pages of a fresh arena resident", n)
	}
	const blocks = 256 // 4 MiB: two huge pages
	p := pool{arenaSize: blocks * Size}
	p.get()
	if n := resident(t, p.whole); n < hugePage/4096 {
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
	if n, all := resident(t, p.whole), len(p.whole)/4096; n != all {
		t.Fatalf("%d of %d pages resident after the first block", n, all)
	}
}

// vmSize returns the process's address space size in bytes
// (/proc/self/status).
func vmSize(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmSize %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmSize in /proc/self/status")
	return 0
}

// TestNothingMappedUntilFirstUse: loading the package maps no arena; the
// first Get does, and the process's address space grows by the arena then
// (not before). It runs in a fresh process of this test binary, where no
// other test has used the pool.
func TestNothingMappedUntilFirstUse(t *testing.T) {
	if os.Getenv("BLOCKPOOL_FRESH_PROCESS") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNothingMappedUntilFirstUse$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "BLOCKPOOL_FRESH_PROCESS=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestNothingMappedUntilFirstUse") {
			t.Fatalf("in a fresh process: %v\n%s", err, out)
		}
		return
	}
	std.mu.Lock()
	mapped := std.mapped || std.whole != nil
	std.mu.Unlock()
	if mapped {
		t.Fatal("the arena was mapped when the package was loaded")
	}
	before := vmSize(t)
	b := Get(Size)
	grown := vmSize(t) - before
	if grown < Cap*Size {
		t.Fatalf("the first Get grew the address space by %d bytes, want at least the %d-byte arena", grown, Cap*Size)
	}
	if addrOf(b) != addrOf(std.whole) {
		t.Fatal("the first block is not from the arena")
	}
	Put(b)
}
