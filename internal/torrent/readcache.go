package torrent

import (
	"container/list"
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
type ReadCache struct {
	mu      sync.Mutex
	budget  int64
	used    int64
	lru     *list.List // of *cachedPiece, front = most recent
	entries map[cacheKey]*list.Element
}

type cacheKey struct {
	hash  metainfo.Hash
	piece int
}

type cachedPiece struct {
	key  cacheKey
	data []byte
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
	return &ReadCache{budget: budget, lru: list.New(), entries: make(map[cacheKey]*list.Element)}
}

// ReadBlock returns length bytes at begin of the piece, from the cache or
// by reading (and caching) the whole piece from store.
func (c *ReadCache) ReadBlock(store *storage.Storage, hash metainfo.Hash, piece, begin, length int) ([]byte, error) {
	size := store.Layout().PieceSize(piece)
	if c == nil || size > maxCachedPiece || size > c.budget {
		buf := make([]byte, length)
		return buf, store.ReadBlock(piece, begin, buf)
	}
	k := cacheKey{hash, piece}
	if data := c.get(k); data != nil {
		return data[begin : begin+length : begin+length], nil
	}
	data := make([]byte, size)
	if err := store.ReadBlock(piece, 0, data); err != nil {
		return nil, err
	}
	c.put(k, data)
	return data[begin : begin+length : begin+length], nil
}

func (c *ReadCache) get(k cacheKey) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cachedPiece).data
	}
	return nil
}

func (c *ReadCache) put(k cacheKey, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; ok {
		return
	}
	c.entries[k] = c.lru.PushFront(&cachedPiece{key: k, data: data})
	c.used += int64(len(data))
	for c.used > c.budget {
		e := c.lru.Back()
		cp := e.Value.(*cachedPiece)
		c.lru.Remove(e)
		delete(c.entries, cp.key)
		c.used -= int64(len(cp.data))
	}
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
			c.lru.Remove(e)
			delete(c.entries, cp.key)
			c.used -= int64(len(cp.data))
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
