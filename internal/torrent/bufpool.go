package torrent

import "sync"

// bufferPool recycles piece buffers of one size. Unlike a sync.Pool it
// keeps its buffers across garbage collections, so a steady download
// allocates no piece buffers after the first few, and it keeps at most
// max idle buffers, so idle memory is bounded. Disk jobs return buffers
// from their own goroutines, hence the mutex.
type bufferPool struct {
	mu   sync.Mutex
	size int      // capacity of every buffer
	max  int      // idle buffers kept at most
	free [][]byte // idle buffers, each of cap size
	made int      // buffers allocated so far
}

// newBufferPool returns a pool of buffers of size bytes keeping up to max
// idle ones.
func newBufferPool(size, max int) *bufferPool {
	return &bufferPool{size: size, max: max}
}

// get returns a buffer of n bytes (n <= size), reused when one is idle.
func (p *bufferPool) get(n int) []byte {
	p.mu.Lock()
	if k := len(p.free); k > 0 {
		b := p.free[k-1]
		p.free[k-1] = nil
		p.free = p.free[:k-1]
		p.mu.Unlock()
		return b[:n]
	}
	p.made++
	p.mu.Unlock()
	return make([]byte, n, p.size)
}

// put returns b to the pool; a buffer of another capacity, or one above
// the idle limit, is left to the garbage collector.
func (p *bufferPool) put(b []byte) {
	if cap(b) != p.size {
		return
	}
	p.mu.Lock()
	if len(p.free) < p.max {
		p.free = append(p.free, b[:p.size])
	}
	p.mu.Unlock()
}

// idle returns the number of idle buffers.
func (p *bufferPool) idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}
