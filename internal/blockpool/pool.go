package blockpool

import "sync"

// Size is the size of a pooled block: the 16 KiB of a BitTorrent block
// request (the peer package checks that it equals wire.BlockSize).
const Size = 16 << 10

// Cap is the most idle blocks the pool keeps, and the size of its arena in
// blocks: more than one torrent's piece-data budget (the torrent package's
// bufferBudget), so that a download at full speed recycles every block.
const Cap = 896

// pool recycles block buffers. Unlike a sync.Pool it keeps them across
// garbage collections, so a steady download allocates none, and it holds
// at most Cap idle.
//
// The first arenaSize/Size blocks are carved from one arena mapped outside
// the Go heap on huge pages (mapArena) when the pool first needs a block.
// The arena is faulted in whole then (its first huge page at once, the rest
// by a background goroutine, populateArena, since on a virtual machine
// whose host has taken free memory back a fault can take milliseconds and
// the first blocks are needed now): a process that downloads holds the
// same 14 MiB whatever the torrent's size (faulted on demand, huge pages
// came in 2 MiB steps as the pipeline deepened, and a long download ended
// with a few MiB more than a short one), and one that never downloads
// holds none. Past the arena's blocks, and where it cannot be mapped,
// blocks come from the heap: a 16 KiB allocation is the only object of its
// span, which starts on a page. Either way blocks are aligned for direct
// I/O.
type pool struct {
	mu        sync.Mutex
	arenaSize int // bytes of arena to map at the first use
	free      [][]byte
	mapped    bool   // the arena was mapped (or the mapping was tried)
	whole     []byte // the arena as mapped, nil if none
	arena     []byte // the part of the arena not yet handed out
	faulted   bool   // the arena's pages are in memory, or being brought in
	// populated is closed when the arena's pages are all in memory, or
	// populateErr says why they could not be brought in (then they fault
	// in as they are used).
	populated   chan struct{}
	populateErr error
}

// std is the process's pool; its arena is mapped at its first use.
var std = pool{arenaSize: Cap * Size}

// get returns an idle block, a fresh one from the arena, or nil when there
// is neither.
func (p *pool) get() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.free)
	if n == 0 {
		if !p.mapped {
			p.mapped = true
			if p.arenaSize > 0 {
				p.whole = mapArena(p.arenaSize)
				p.arena = p.whole
			}
		}
		if len(p.arena) < Size {
			return nil
		}
		if !p.faulted {
			p.faulted = true
			first := min(hugePage, len(p.arena))
			for i := 0; i < first; i += 4096 {
				p.arena[i] = 0
			}
			p.populated = make(chan struct{})
			go func(rest []byte, done chan struct{}) {
				p.populateErr = populateArena(rest)
				close(done)
			}(p.arena[first:], p.populated)
		}
		b := p.arena[:Size:Size]
		p.arena = p.arena[Size:]
		return b
	}
	b := p.free[n-1]
	p.free[n-1] = nil
	p.free = p.free[:n-1]
	return b
}

// put keeps b (a full block) for reuse, unless Cap blocks are idle.
func (p *pool) put(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < Cap {
		p.free = append(p.free, b)
	}
}

// idle returns the number of blocks waiting for reuse.
func (p *pool) idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}

// Get returns a buffer of n bytes for a received block: a pooled block
// (capacity Size, 4 KiB-aligned) when n is Size, a fresh allocation
// otherwise. Its contents are unspecified. Hand it back with Put.
func Get(n int) []byte {
	if n != Size {
		return make([]byte, n)
	}
	if b := std.get(); b != nil {
		return b
	}
	return make([]byte, Size)
}

// Put returns a buffer from Get for reuse; buffers of another capacity are
// dropped. The caller must not touch b afterwards.
func Put(b []byte) {
	if cap(b) != Size {
		return
	}
	std.put(b[:Size])
}

// Idle returns the number of blocks waiting for reuse (for statistics and
// tests).
func Idle() int { return std.idle() }
