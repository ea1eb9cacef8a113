package peer

import (
	"bytes"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

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
