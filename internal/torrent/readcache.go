package torrent

import (
	"container/list"
	"errors"
	"sync"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/storage"
)

// ReadCache keeps recently read pieces in memory for uploading: peers
// usually request every block of a piece, so one read of the whole piece
// serves them all. It is shared by a session's torrents, safe for
// concurrent use from disk jobs, and bounded by a byte budget; pieces are
// evicted least recently used first. A nil *ReadCache reads each block from
// storage directly.
//
// Blocks handed out are slices of a cached piece; each comes with a release
// function, called once the block has been sent or dropped. An evicted
// piece's buffer is reused for a later read only when no block of it is
// still out, so serving allocates little.
type ReadCache struct {
	mu     sync.Mutex
	budget int64
	used   int64
	// pinned counts the bytes of evicted pieces that blocks still being
	// sent keep alive. A peer that asks for one block of each of many
	// pieces and reads slowly would otherwise keep a whole piece alive per
	// block: with pinned at the budget, the cache stops caching and blocks
	// are read one by one (their memory then bounded by the peers' send
	// queues).
	pinned  int64
	lru     *list.List // of *cachedPiece, front = most recent
	entries map[cacheKey]*list.Element
	free    map[int][][]byte // recycled piece buffers by length
	nfree   int
}

// maxFreeBuffers bounds the recycled buffers kept for reuse.
const maxFreeBuffers = 8

type cacheKey struct {
	hash  metainfo.Hash
	piece int
}

type cachedPiece struct {
	key     cacheKey
	data    []byte
	refs    int  // blocks handed out and not yet released
	evicted bool // no longer in the cache; recycle data when refs is 0
}

// maxCachedPiece is the largest piece the cache holds; larger pieces are
// read block by block.
const maxCachedPiece = 4 << 20

// NewReadCache returns a cache holding up to budget bytes; budget <= 0
// returns nil (no cache).
func NewReadCache(budget int64) *ReadCache {
	if budget <= 0 {
		return nil
	}
	return &ReadCache{budget: budget, lru: list.New(), entries: make(map[cacheKey]*list.Element), free: make(map[int][][]byte)}
}

// ReadBlock returns length bytes at begin of the piece, from the cache or
// by reading (and caching) the whole piece from store, and a function the
// caller must call once when it no longer uses the bytes.
func (c *ReadCache) ReadBlock(store *storage.Storage, hash metainfo.Hash, piece, begin, length int) ([]byte, func(), error) {
	if !c.holds(store.Layout().PieceSize(piece)) {
		buf := make([]byte, length)
		return buf, noRelease, store.ReadBlock(piece, begin, buf)
	}
	if b, rel := c.Cached(hash, piece, begin, length); b != nil {
		return b, rel, nil
	}
	data, err := c.read(store, piece)
	if err != nil {
		return nil, noRelease, err
	}
	b, rel := c.put(cacheKey{hash, piece}, data, begin, length, true)
	return b, rel, nil
}

// Cached returns length bytes at begin of the piece and their release
// function if the piece is cached, or nil. It never reads from disk, so
// the torrent loop serves cache hits itself.
func (c *ReadCache) Cached(hash metainfo.Hash, piece, begin, length int) ([]byte, func()) {
	if c == nil {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[cacheKey{hash, piece}]; ok {
		c.lru.MoveToFront(e)
		return c.hand(e.Value.(*cachedPiece), begin, length)
	}
	return nil, nil
}

// Load reads the whole piece from store into the cache (a disk job), so
// that the requests waiting for it are served with Cached. It fails with
// errNotCacheable for pieces the cache does not hold.
func (c *ReadCache) Load(store *storage.Storage, hash metainfo.Hash, piece int) error {
	if !c.holds(store.Layout().PieceSize(piece)) {
		return errNotCacheable
	}
	data, err := c.read(store, piece)
	if err != nil {
		return err
	}
	c.put(cacheKey{hash, piece}, data, 0, 0, false)
	return nil
}

// errNotCacheable reports a piece too large for the read cache.
var errNotCacheable = errors.New("piece too large for the read cache")

// holds reports whether the cache keeps pieces of size bytes now.
func (c *ReadCache) holds(size int64) bool {
	if c == nil || size > maxCachedPiece || size > c.budget {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pinned < c.budget
}

// read reads a whole piece into a (recycled) buffer.
func (c *ReadCache) read(store *storage.Storage, piece int) ([]byte, error) {
	data := c.alloc(int(store.Layout().PieceSize(piece)))
	if err := store.ReadBlock(piece, 0, data); err != nil {
		c.recycle(data)
		return nil, err
	}
	return data, nil
}

func noRelease() {}

// hand gives out one block of cp; the caller holds c.mu.
func (c *ReadCache) hand(cp *cachedPiece, begin, length int) ([]byte, func()) {
	cp.refs++
	var once sync.Once
	return cp.data[begin : begin+length : begin+length], func() {
		once.Do(func() {
			c.mu.Lock()
			cp.refs--
			if cp.refs == 0 && cp.evicted {
				c.pinned -= int64(len(cp.data))
				c.recycleLocked(cp.data)
			}
			c.mu.Unlock()
		})
	}
}

// put caches a piece read from disk and, if hand is set, hands out the
// block at begin.
func (c *ReadCache) put(k cacheKey, data []byte, begin, length int, hand bool) ([]byte, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if ok {
		// Another reader cached it meanwhile: use theirs.
		c.recycleLocked(data)
		c.lru.MoveToFront(e)
	} else {
		e = c.lru.PushFront(&cachedPiece{key: k, data: data})
		c.entries[k] = e
		c.used += int64(len(data))
	}
	var b []byte
	var rel func()
	if hand {
		b, rel = c.hand(e.Value.(*cachedPiece), begin, length)
	}
	for c.used > c.budget && c.lru.Len() > 1 {
		c.evictLocked(c.lru.Back())
	}
	return b, rel
}

// evictLocked removes an entry; its buffer is recycled once no block of it
// is out.
func (c *ReadCache) evictLocked(e *list.Element) {
	cp := e.Value.(*cachedPiece)
	c.lru.Remove(e)
	delete(c.entries, cp.key)
	c.used -= int64(len(cp.data))
	cp.evicted = true
	if cp.refs == 0 {
		c.recycleLocked(cp.data)
	} else {
		c.pinned += int64(len(cp.data))
	}
}

// alloc returns a buffer of n bytes, recycled when one is free.
func (c *ReadCache) alloc(n int) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		c.free[n] = l[:len(l)-1]
		c.nfree--
		return b
	}
	return make([]byte, n)
}

func (c *ReadCache) recycle(b []byte) {
	c.mu.Lock()
	c.recycleLocked(b)
	c.mu.Unlock()
}

func (c *ReadCache) recycleLocked(b []byte) {
	if c.nfree >= maxFreeBuffers {
		return // let the collector have it
	}
	c.free[len(b)] = append(c.free[len(b)], b)
	c.nfree++
}

// Forget drops every cached piece of a torrent (on removal, or when its data
// may have changed).
func (c *ReadCache) Forget(hash metainfo.Hash) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.lru.Front(); e != nil; {
		next := e.Next()
		if cp := e.Value.(*cachedPiece); cp.key.hash == hash {
			c.evictLocked(e)
		}
		e = next
	}
}

// Used returns the bytes currently cached.
func (c *ReadCache) Used() int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}
