package torrent

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/storage"
	"github.com/gobit/gobit/internal/wire"
)

func TestValidateRequest(t *testing.T) {
	// 3 pieces of 32 KiB, the last one 10 000 bytes; we have pieces 0 and 2;
	// piece 1 is allowed-fast.
	sizes := []int64{32 << 10, 32 << 10, 10000}
	base := requestState{
		numPieces:   3,
		pieceSize:   func(i int) int64 { return sizes[i] },
		have:        func(i int) bool { return i != 1 },
		allowedFast: func(i int) bool { return i == 1 || i == 2 },
		fastTaken:   func(int) bool { return false },
	}
	req := func(i, begin, length uint32) wire.Message {
		return wire.Message{ID: wire.Request, Index: i, Begin: begin, Length: length}
	}
	choked := base
	choked.choked = true
	taken := choked
	taken.fastTaken = func(i int) bool { return i == 2 }
	full := base
	full.queued = maxServeQueued - 16383 // one byte short of a block
	room := base
	room.queued = maxServeQueued - 32<<10 // room for 32 KiB
	little := base
	little.queued = maxServeQueued - 16<<10 // room for 16 KiB
	// The announced reqq in whole blocks, each queued with its 13-byte frame.
	lastOfReqq := base
	lastOfReqq.queued = (serveReqq - 1) * (wire.BlockSize + 13)
	pastReqq := base
	pastReqq.queued = serveReqq * (wire.BlockSize + 13)
	noInfo := requestState{}
	tests := []struct {
		name string
		st   requestState
		m    wire.Message
		want requestVerdict
	}{
		{"normal block", base, req(0, 0, 16384), requestServe},
		{"second block", base, req(0, 16384, 16384), requestServe},
		{"short last block", base, req(2, 0, 10000), requestServe},
		{"128 KiB tolerated", requestState{numPieces: 1, pieceSize: func(int) int64 { return 1 << 20 }, have: func(int) bool { return true }, allowedFast: func(int) bool { return false }}, req(0, 0, 128<<10), requestServe},
		{"too long", base, req(0, 0, 128<<10+1), requestDrop},
		{"zero length", base, req(0, 0, 0), requestDrop},
		{"beyond piece end", base, req(0, 16385, 16384), requestDrop},
		{"beyond short last piece", base, req(2, 0, 16384), requestDrop},
		{"piece out of range", base, req(3, 0, 16384), requestDrop},
		{"huge index", base, req(1<<31, 0, 16384), requestDrop},
		{"offset overflow", base, req(0, 0xffffffff, 16384), requestDrop},
		{"piece we lack", base, req(1, 0, 16384), requestReject},
		{"choked", choked, req(0, 0, 16384), requestReject},
		{"choked but allowed fast", choked, req(2, 0, 10000), requestServe},
		{"choked, allowed fast, but we lack it", choked, req(1, 0, 16384), requestReject},
		{"choked, allowed fast, given to another choked peer", taken, req(2, 0, 10000), requestReject},
		{"unchoked, the piece given to another choked peer", func() requestState { s := taken; s.choked = false; return s }(), req(2, 0, 10000), requestServe},
		{"queue full", full, req(0, 0, 16384), requestReject},
		{"the reqq-th framed block", lastOfReqq, req(0, 0, 16384), requestServe},
		{"one past reqq framed blocks", pastReqq, req(0, 0, 16384), requestReject},
		{"last room in the queue", room, req(0, 0, 32<<10), requestServe},
		{"larger than the room left", little, req(0, 0, 32<<10), requestReject},
		{"no metadata yet", noInfo, req(0, 0, 16384), requestReject},
	}
	for _, tt := range tests {
		got, err := validateRequest(tt.st, tt.m)
		if got != tt.want {
			t.Errorf("%s: verdict %d, want %d (err %v)", tt.name, got, tt.want, err)
		}
		if (got == requestDrop) != (err != nil) || (err != nil && !errors.Is(err, errProtocol)) {
			t.Errorf("%s: err %v with verdict %d", tt.name, err, got)
		}
	}
}

// cacheFixture writes a file f of size pseudo-random bytes in a new
// directory and returns its data, its metainfo (64 KiB pieces) and an open
// storage for it.
func cacheFixture(t *testing.T, size int) (dir string, data []byte, mi *metainfo.MetaInfo, st *storage.Storage) {
	t.Helper()
	dir = t.TempDir()
	data = make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i>>16)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, mi, err := metainfo.Create(metainfo.CreateOptions{Path: filepath.Join(dir, "f"), PieceLength: 65536})
	if err != nil {
		t.Fatal(err)
	}
	st, err = storage.Open(dir, storage.LayoutFromInfo(&mi.Info), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return dir, data, mi, st
}

func TestReadCache(t *testing.T) {
	_, data, mi, st := cacheFixture(t, 5*65536+123)
	c := NewReadCache(2 * 65536) // room for two pieces
	for _, piece := range []int{0, 1, 0, 2, 3, 5, 1} {
		size := int(mi.Info.PieceSize(piece))
		for begin := 0; begin < size; begin += 16384 {
			n := min(16384, size-begin)
			got, release, err := c.ReadBlock(st, mi.InfoHash, piece, begin, n)
			if err != nil {
				t.Fatal(err)
			}
			off := piece*65536 + begin
			if !bytes.Equal(got, data[off:off+n]) {
				t.Fatalf("piece %d block %d: wrong data", piece, begin)
			}
			release()
		}
		if c.Used() > 2*65536 {
			t.Fatalf("cache over budget: %d", c.Used())
		}
	}
	if c.Used() == 0 {
		t.Fatal("nothing cached")
	}
	c.Forget(mi.InfoHash)
	if c.Used() != 0 {
		t.Fatalf("Forget left %d bytes", c.Used())
	}
	// A nil cache reads straight from storage.
	var nc *ReadCache
	got, release, err := nc.ReadBlock(st, mi.InfoHash, 5, 0, 123)
	if err != nil || !bytes.Equal(got, data[5*65536:]) {
		t.Fatalf("nil cache read: %v", err)
	}
	release()

	// A block still out when its piece is evicted keeps its bytes: the
	// buffer is reused only after the release.
	c = NewReadCache(65536) // one piece
	held, releaseHeld, err := c.ReadBlock(st, mi.InfoHash, 0, 0, 16384)
	if err != nil {
		t.Fatal(err)
	}
	for _, piece := range []int{1, 2, 3} { // evict piece 0, churn the buffers
		b, rel, err := c.ReadBlock(st, mi.InfoHash, piece, 0, 16384)
		if err != nil || !bytes.Equal(b, data[piece*65536:piece*65536+16384]) {
			t.Fatalf("piece %d: %v", piece, err)
		}
		rel()
	}
	if !bytes.Equal(held, data[:16384]) {
		t.Fatal("a block still being sent was overwritten by a recycled buffer")
	}
	releaseHeld()
	releaseHeld() // a second call is harmless
	if c.nfree == 0 {
		t.Fatal("evicted buffers were not kept for reuse")
	}
}

// TestReadCacheLoadAndCached: Load reads a piece once for the requests
// waiting for it, Cached serves them without disk access, and pieces the
// cache cannot hold are refused.
func TestReadCacheLoadAndCached(t *testing.T) {
	dir, data, mi, st := cacheFixture(t, 3*65536)
	c := NewReadCache(2 * 65536)
	if b, _ := c.Cached(mi.InfoHash, 1, 0, 16384); b != nil {
		t.Fatal("Cached answered for a piece never read")
	}
	if err := c.Load(st, mi.InfoHash, 1); err != nil {
		t.Fatal(err)
	}
	// The file changes on disk: blocks of the loaded piece still come from
	// memory, proving that Cached does not read.
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, len(data)), 0o644); err != nil {
		t.Fatal(err)
	}
	for begin := 0; begin < 65536; begin += 16384 {
		b, rel := c.Cached(mi.InfoHash, 1, begin, 16384)
		if !bytes.Equal(b, data[65536+begin:65536+begin+16384]) {
			t.Fatalf("block at %d of the loaded piece: wrong data", begin)
		}
		rel()
	}
	if b, _ := c.Cached(mi.InfoHash, 0, 0, 16384); b != nil {
		t.Fatal("Cached answered for another piece")
	}
	small := NewReadCache(32768) // smaller than a piece
	if err := small.Load(st, mi.InfoHash, 0); !errors.Is(err, errNotCacheable) {
		t.Fatalf("Load of a piece larger than the cache: %v, want errNotCacheable", err)
	}
	var none *ReadCache
	if b, _ := none.Cached(mi.InfoHash, 0, 0, 16384); b != nil || none.holds(1) {
		t.Fatal("a nil cache claims to hold data")
	}
}

// TestReadCachePinnedMemoryBounded: blocks held (being sent to a slow
// peer) keep evicted pieces alive, but only up to the cache's budget; past
// it blocks are read one by one, still right, and releasing them frees
// everything.
func TestReadCachePinnedMemoryBounded(t *testing.T) {
	_, data, mi, st := cacheFixture(t, 5*65536+123)
	const budget = 2 * 65536
	c := NewReadCache(budget)
	var releases []func()
	for round := range 3 {
		for piece := range 6 {
			size := int(mi.Info.PieceSize(piece))
			n := min(16384, size)
			got, rel, err := c.ReadBlock(st, mi.InfoHash, piece, 0, n)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data[piece*65536:piece*65536+n]) {
				t.Fatalf("round %d, piece %d: wrong data", round, piece)
			}
			releases = append(releases, rel) // held: the peer reads slowly
			c.mu.Lock()
			pinned := c.pinned
			c.mu.Unlock()
			if pinned > budget+65536 {
				t.Fatalf("round %d, piece %d: %d bytes of evicted pieces pinned, want at most %d", round, piece, pinned, budget+65536)
			}
		}
	}
	for _, rel := range releases {
		rel()
	}
	if c.pinned != 0 {
		t.Fatalf("%d bytes still pinned after every block was released", c.pinned)
	}
	if c.Used() > budget {
		t.Fatalf("cache over budget: %d", c.Used())
	}
}
