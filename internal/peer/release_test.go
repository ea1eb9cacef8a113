package peer

import (
	"bytes"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/gobit/gobit/internal/wire"
)

// TestSendReleaseCalledOnceSentOrDropped: the release callback of a block
// runs after the block reached the socket, when it is cancelled from the
// queue, and when the connection closes with it still queued — exactly once
// each.
func TestSendReleaseCalledOnceSentOrDropped(t *testing.T) {
	// In a synctest bubble synctest.Wait returns once the connection's
	// goroutines are idle (blocked on the pipe or a channel) or gone, so
	// each check below sees everything the connection will ever do for
	// the step before it — a late second release included.
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, Config{KeepAlive: time.Hour})
		var sent, cancelled, closed atomic.Int32
		blk := func(i uint32) wire.Message {
			return wire.Message{ID: wire.Piece, Index: i, Block: bytes.Repeat([]byte{byte(i)}, 64)}
		}
		if !p.c.SendRelease(blk(1), func() { sent.Add(1) }) {
			t.Fatal("send failed")
		}
		if m := p.readMsg(t); m.Index != 1 {
			t.Fatalf("got %+v", m)
		}
		synctest.Wait()
		if sent.Load() != 1 {
			t.Fatalf("release called %d times after the block was written, want 1", sent.Load())
		}

		// Hold the writer (the remote does not read), queue two blocks,
		// cancel one.
		p.c.Send(wire.Message{ID: wire.Have, Index: 5})
		synctest.Wait()
		p.c.mu.Lock()
		n := len(p.c.queue)
		p.c.mu.Unlock()
		if n != 0 {
			t.Fatalf("the writer left %d messages queued while idle", n)
		}
		p.c.SendRelease(blk(2), func() { cancelled.Add(1) })
		p.c.SendRelease(blk(3), func() { closed.Add(1) })
		if n := p.c.RemoveQueued(func(m *wire.Message) bool { return m.ID == wire.Piece && m.Index == 2 }); n != 1 {
			t.Fatalf("removed %d", n)
		}
		if cancelled.Load() != 1 {
			t.Fatal("release not called for a cancelled block")
		}
		p.c.Close()
		synctest.Wait()
		if closed.Load() != 1 {
			t.Fatalf("release called %d times for a block queued at close, want 1", closed.Load())
		}
		// After close, sending releases at once.
		var late atomic.Int32
		if p.c.SendRelease(blk(4), func() { late.Add(1) }) || late.Load() != 1 {
			t.Fatal("send after close did not fail and release")
		}
		// Fake time: let every timer the connection might have set fire.
		time.Sleep(wait)
		synctest.Wait()
		if sent.Load() != 1 || cancelled.Load() != 1 || closed.Load() != 1 || late.Load() != 1 {
			t.Fatalf("releases called more than once: %d %d %d %d", sent.Load(), cancelled.Load(), closed.Load(), late.Load())
		}
	})
}

func TestBlocksAreRecycledAndBounded(t *testing.T) {
	freeBlocks.drain() // start empty (earlier tests' conns are closed)
	a := getBlock(wire.BlockSize)
	a[0] = 7
	PutBlock(a[:100]) // a re-sliced block is still the whole buffer
	if b := getBlock(wire.BlockSize); &b[0] != &a[0] || len(b) != wire.BlockSize {
		t.Fatal("getBlock did not reuse the returned block at full length")
	}
	PutBlock(make([]byte, 1000)) // not a block buffer: dropped
	if freeBlocks.idle() != 0 {
		t.Fatal("a foreign buffer was kept")
	}
	for range 2 * blockPoolCap {
		PutBlock(make([]byte, wire.BlockSize))
	}
	if n := freeBlocks.idle(); n != blockPoolCap {
		t.Fatalf("%d idle blocks, want the cap %d", n, blockPoolCap)
	}
	if short := getBlock(100); len(short) != 100 {
		t.Fatalf("a short block has length %d", len(short))
	}
}

// TestBlocksAreAligned: fresh blocks start on a 4 KiB boundary, so a piece
// written as its blocks goes to the disk with direct I/O. (If the runtime's
// allocator changes, writes stay correct but fall back to buffered I/O;
// this test says so.)
func TestBlocksAreAligned(t *testing.T) {
	freeBlocks.drain()
	var keep [][]byte
	for range 100 {
		b := getBlock(wire.BlockSize)
		keep = append(keep, b) // distinct allocations
		if a := uintptr(unsafe.Pointer(&b[0])) % 4096; a != 0 {
			t.Fatalf("a %d-byte block starts %d bytes past a 4 KiB boundary", wire.BlockSize, a)
		}
	}
	_ = keep
}

// idle returns the number of blocks waiting for reuse.
func (p *blockPool) idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}

// drain drops every idle block.
func (p *blockPool) drain() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.free)
	p.free = p.free[:0]
}
