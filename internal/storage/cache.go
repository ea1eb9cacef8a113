package storage

import (
	"container/list"
	"os"
	"sync"
)

// handle is one open file in the cache.
type handle struct {
	f        *os.File
	file     int  // index into Layout.Files
	writable bool // opened O_RDWR
	refs     int  // operations currently using f
	stale    bool // no longer in the cache; close when refs drops to 0
	elem     *list.Element
	c        *fileCache
}

// File returns the open file (diskio.Handle).
func (h *handle) File() *os.File { return h.f }

// Release drops the reference taken by acquire (diskio.Handle).
func (h *handle) Release() { h.c.release(h) }

// openFunc opens file i, for writing when write is true.
type openFunc func(i int, write bool) (*os.File, error)

// fileCache is a bounded LRU of open file handles with reference counts.
//
// Every handle counted in open is either in byFile (and lru) or stale and
// still referenced; open also counts slots reserved by goroutines that are
// opening a file with the mutex released. open never exceeds max.
type fileCache struct {
	mu      sync.Mutex
	cond    sync.Cond
	max     int
	open    int
	byFile  map[int]*handle
	opening map[int]bool
	lru     list.List // of *handle, most recently used at the front
	closed  bool
	openFn  openFunc
	peak    int // highest value of open seen (for tests)
}

func newFileCache(max int, fn openFunc) *fileCache {
	c := &fileCache{
		max:     max,
		byFile:  make(map[int]*handle),
		opening: make(map[int]bool),
		openFn:  fn,
	}
	c.cond.L = &c.mu
	return c
}

// acquire returns a handle for file i, opening it if needed, and takes a
// reference that the caller must drop with release. A handle opened for
// reading is replaced when a writer needs the file.
func (c *fileCache) acquire(i int, write bool) (*handle, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.closed {
			return nil, ErrClosed
		}
		if h := c.byFile[i]; h != nil {
			if h.writable || !write {
				h.refs++
				c.lru.MoveToFront(h.elem)
				return h, nil
			}
			// Read-only handle but a writer needs the file: retire it.
			c.retireLocked(h)
			continue
		}
		if c.opening[i] {
			// Another goroutine is opening this file; use its handle.
			c.cond.Wait()
			continue
		}
		if c.open >= c.max && !c.evictLocked() {
			c.cond.Wait()
			continue
		}
		break
	}
	c.open++
	c.peak = max(c.peak, c.open)
	c.opening[i] = true
	c.mu.Unlock()
	f, err := c.openFn(i, write)
	c.mu.Lock()
	delete(c.opening, i)
	c.cond.Broadcast()
	if err != nil {
		c.open--
		return nil, err
	}
	h := &handle{f: f, file: i, writable: write, refs: 1, c: c}
	if c.closed {
		// Close raced with the open: hand out the handle once, close it on
		// release.
		h.stale = true
		return h, nil
	}
	h.elem = c.lru.PushFront(h)
	c.byFile[i] = h
	return h, nil
}

// release drops a reference taken by acquire.
func (c *fileCache) release(h *handle) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h.refs--
	if h.refs == 0 {
		if h.stale {
			c.closeLocked(h)
		}
		c.cond.Broadcast()
	}
}

// evictLocked closes the least recently used unreferenced handle and reports
// whether it found one.
func (c *fileCache) evictLocked() bool {
	for e := c.lru.Back(); e != nil; e = e.Prev() {
		h := e.Value.(*handle)
		if h.refs == 0 {
			c.retireLocked(h)
			return true
		}
	}
	return false
}

// retireLocked removes h from the cache and closes it now if unused, or
// when its last user releases it.
func (c *fileCache) retireLocked(h *handle) {
	delete(c.byFile, h.file)
	c.lru.Remove(h.elem)
	h.elem = nil
	h.stale = true
	if h.refs == 0 {
		c.closeLocked(h)
	}
}

// closeLocked closes the file of an unreferenced, retired handle. Close
// errors are ignored: data durability is Sync's job, and a read-only or
// already synced handle has nothing to lose.
func (c *fileCache) closeLocked(h *handle) {
	_ = h.f.Close()
	h.f = nil
	c.open--
}

// closeAll closes every cached handle (handles in use are closed on
// release) and refuses further acquires.
func (c *fileCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for e := c.lru.Front(); e != nil; {
		next := e.Next()
		c.retireLocked(e.Value.(*handle))
		e = next
	}
	c.cond.Broadcast()
}

// dropIdle closes every cached handle no operation is using and returns
// how many it closed; the cache stays usable.
func (c *fileCache) dropIdle() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for e := c.lru.Front(); e != nil; {
		next := e.Next()
		if h := e.Value.(*handle); h.refs == 0 {
			c.retireLocked(h)
			n++
		}
		e = next
	}
	if n > 0 {
		c.cond.Broadcast()
	}
	return n
}

// numOpen returns the number of open handles and the highest number seen
// (for tests).
func (c *fileCache) numOpen() (open, peak int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open, c.peak
}

// forget retires file i's handle, if cached: it is closed now when unused,
// or when its last user releases it, and the next acquire opens the file
// again.
func (c *fileCache) forget(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.byFile[i]; h != nil {
		c.retireLocked(h)
		c.cond.Broadcast()
	}
}
