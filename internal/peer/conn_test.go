package peer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// wait is the generous bound on anything that should happen "at once".
const wait = 5 * time.Second

// countingConn counts the bytes read through it.
type countingConn struct {
	net.Conn
	read atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

type pair struct {
	c      *Conn
	remote net.Conn // the other end, driven raw by the test
	events chan Event
	done   chan struct{}
	local  *countingConn
}

// newPair wraps one end of a net.Pipe in a Conn; the test drives the other
// end with raw bytes.
func newPair(t *testing.T, cfg Config) *pair {
	t.Helper()
	a, b := net.Pipe()
	p := &pair{remote: b, events: make(chan Event, 64), done: make(chan struct{}), local: &countingConn{Conn: a}}
	p.c = New(p.local, wire.Handshake{PeerID: [20]byte{'r'}}, true, p.events, p.done, cfg)
	t.Cleanup(func() {
		p.c.Close()
		b.Close()
		close(p.done)
	})
	return p
}

// next returns the next event or fails after wait.
func (p *pair) next(t *testing.T) Event {
	t.Helper()
	select {
	case ev := <-p.events:
		return ev
	case <-time.After(wait):
		t.Fatal("no event from the connection")
		return Event{}
	}
}

// lastErr waits for the error event that ends the connection, skipping
// message events, and checks that nothing follows it.
func (p *pair) lastErr(t *testing.T) error {
	t.Helper()
	for {
		ev := p.next(t)
		if ev.Conn != p.c {
			t.Fatalf("event for conn %p, want %p", ev.Conn, p.c)
		}
		if ev.Err == nil {
			continue
		}
		select {
		case extra := <-p.events:
			t.Fatalf("event after the final error: %+v", extra)
		case <-time.After(100 * time.Millisecond):
		}
		if !p.c.Closed() {
			t.Error("connection not Closed() after its final event")
		}
		return ev.Err
	}
}

// write writes raw bytes from the remote end, failing the test on error.
func (p *pair) write(t *testing.T, b []byte) {
	t.Helper()
	p.remote.SetWriteDeadline(time.Now().Add(wait))
	if _, err := p.remote.Write(b); err != nil {
		t.Fatalf("remote write: %v", err)
	}
}

// readMsg reads one message from the remote end.
func (p *pair) readMsg(t *testing.T) wire.Message {
	t.Helper()
	p.remote.SetReadDeadline(time.Now().Add(wait))
	m, _, err := wiretest.ReadMessage(p.remote, nil)
	if err != nil {
		t.Fatalf("remote read: %v", err)
	}
	return m
}

func frame(m wire.Message) []byte { return m.AppendTo(nil) }

// messagesOf returns the messages an event carries, in order.
func messagesOf(ev Event) []wire.Message { return append([]wire.Message{ev.Msg}, ev.More...) }

func TestConnDeliversOwnedCopies(t *testing.T) {
	p := newPair(t, Config{})
	block1 := bytes.Repeat([]byte{0xAA}, wire.BlockSize)
	block2 := bytes.Repeat([]byte{0x55}, wire.BlockSize)
	bf := []byte{0xF0, 0x0F}
	ext := []byte("d1:md11:ut_metadatai1eee")
	go func() {
		// One write for all, so they sit in the same read buffer.
		var b []byte
		b = append(b, frame(wire.Message{ID: wire.Piece, Index: 1, Begin: 0, Block: block1})...)
		b = append(b, frame(wire.Message{ID: wire.Bitfield, Bitfield: bf})...)
		b = append(b, frame(wire.Message{ID: wire.Extended, ExtendedID: 0, Payload: ext})...)
		b = append(b, frame(wire.Message{KeepAlive: true})...)
		b = append(b, frame(wire.Message{ID: wire.Piece, Index: 2, Begin: wire.BlockSize, Block: block2})...)
		p.remote.Write(b)
	}()
	var got []wire.Message
	events := 0
	for len(got) < 4 {
		ev := p.next(t)
		events++
		if ev.Err != nil {
			t.Fatalf("unexpected error event: %v", ev.Err)
		}
		for _, m := range messagesOf(ev) {
			if m.KeepAlive {
				t.Fatal("keep-alive delivered as a message")
			}
			got = append(got, m)
		}
	}
	// They were in memory together: one event carries them all.
	if events != 1 {
		t.Errorf("the four messages came in %d events, want 1", events)
	}
	// All four were read through the same scratch buffer; the earlier
	// ones must still hold their own data.
	if got[0].ID != wire.Piece || got[0].Index != 1 || !bytes.Equal(got[0].Block, block1) {
		t.Errorf("first piece changed: id %v index %d, block equal %v", got[0].ID, got[0].Index, bytes.Equal(got[0].Block, block1))
	}
	if got[1].ID != wire.Bitfield || !bytes.Equal(got[1].Bitfield, bf) {
		t.Errorf("bitfield = %x, want %x", got[1].Bitfield, bf)
	}
	if got[2].ID != wire.Extended || !bytes.Equal(got[2].Payload, ext) {
		t.Errorf("extended payload = %q, want %q", got[2].Payload, ext)
	}
	if got[3].Index != 2 || got[3].Begin != wire.BlockSize || !bytes.Equal(got[3].Block, block2) {
		t.Errorf("second piece wrong")
	}
	// Mutating one delivered slice must not touch another.
	for i := range got[3].Block {
		got[3].Block[i] = 0
	}
	if !bytes.Equal(got[0].Block, block1) {
		t.Error("delivered blocks share memory")
	}
	if d := p.c.Downloaded(); d != 2*wire.BlockSize {
		t.Errorf("Downloaded() = %d, want %d", d, 2*wire.BlockSize)
	}
}

func TestConnSendsKeepAliveWhenIdle(t *testing.T) {
	p := newPair(t, Config{KeepAlive: 50 * time.Millisecond})
	for i := 0; i < 2; i++ {
		start := time.Now()
		var b [4]byte
		p.remote.SetReadDeadline(time.Now().Add(wait))
		if _, err := io.ReadFull(p.remote, b[:]); err != nil {
			t.Fatalf("no keep-alive: %v", err)
		}
		if binary.BigEndian.Uint32(b[:]) != 0 {
			t.Fatalf("got frame with length %d, want a keep-alive", binary.BigEndian.Uint32(b[:]))
		}
		if i == 1 && time.Since(start) < 20*time.Millisecond {
			t.Errorf("keep-alives %v apart, want about 50ms", time.Since(start))
		}
	}
	// A queued message is sent as is (not delayed behind keep-alives).
	p.c.Send(wire.Message{ID: wire.Interested})
	for {
		m := p.readMsg(t)
		if m.KeepAlive {
			continue
		}
		if m.ID != wire.Interested {
			t.Fatalf("got %v, want interested", m.ID)
		}
		break
	}
}

func TestConnDropsOversizedMessageAfterPrefix(t *testing.T) {
	p := newPair(t, Config{})
	var b [5]byte
	binary.BigEndian.PutUint32(b[:], 100<<20)
	b[4] = byte(wire.Piece)
	p.write(t, b[:4])
	err := p.lastErr(t)
	if !errors.Is(err, wire.ErrMessageTooLarge) {
		t.Fatalf("final error = %v, want ErrMessageTooLarge", err)
	}
	if n := p.local.read.Load(); n != 4 {
		t.Errorf("read %d bytes, want only the 4-byte prefix", n)
	}
	// The socket is closed: the remote cannot send the body.
	p.remote.SetWriteDeadline(time.Now().Add(wait))
	if _, err := p.remote.Write(make([]byte, 1<<10)); err == nil {
		t.Error("remote could still write the body after the drop")
	}
}

func TestConnBadInputEndsWithError(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		want  error // nil: any error
	}{
		{"have with 2-byte body", []byte{0, 0, 0, 3, byte(wire.Have), 0, 1}, wire.ErrBadMessage},
		{"request too short", []byte{0, 0, 0, 5, byte(wire.Request), 0, 0, 0, 1}, wire.ErrBadMessage},
		{"choke with payload", []byte{0, 0, 0, 2, byte(wire.Choke), 9}, wire.ErrBadMessage},
		{"piece shorter than header", []byte{0, 0, 0, 4, byte(wire.Piece), 0, 0, 0}, wire.ErrBadMessage},
		{"ascii garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), wire.ErrMessageTooLarge},
		{"all ones", bytes.Repeat([]byte{0xFF}, 64), wire.ErrMessageTooLarge},
		{"eof inside frame", []byte{0, 0, 0, 13, byte(wire.Request), 0}, io.ErrUnexpectedEOF},
		{"clean eof", nil, io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, Config{})
			go func() {
				p.remote.Write(tc.input)
				p.remote.Close()
			}()
			err := p.lastErr(t)
			if err == nil {
				t.Fatal("final event without error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("final error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestConnReadTimeout(t *testing.T) {
	p := newPair(t, Config{ReadTimeout: 100 * time.Millisecond, KeepAlive: time.Hour})
	go io.Copy(io.Discard, p.remote) // read, never write
	err := p.lastErr(t)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("final error = %v, want a deadline error", err)
	}
}

// TestConnReadDeadlineFollowsTraffic: the read deadline is pushed back only
// now and then (not per message), yet a peer that keeps talking for several
// ReadTimeouts stays connected, and one that falls silent still times out.
func TestConnReadDeadlineFollowsTraffic(t *testing.T) {
	// On synctest's clock (net.Pipe deadlines are timers) the timing is
	// exact and the 1.5 s of traffic take no real time.
	synctest.Test(t, func(t *testing.T) {
		const timeout = 500 * time.Millisecond
		p := newPair(t, Config{ReadTimeout: timeout, KeepAlive: time.Hour})
		go io.Copy(io.Discard, p.remote)
		const n = 60 // every 25 ms: 1.5 s, three ReadTimeouts
		go func() {
			for i := range n {
				m := wire.Message{ID: wire.Have, Index: uint32(i)}
				if _, err := p.remote.Write(m.AppendTo(nil)); err != nil {
					return
				}
				time.Sleep(timeout / 20)
			}
		}()
		for i := 0; i < n; {
			ev := p.next(t)
			if ev.Err != nil {
				t.Fatalf("after %d of %d messages the connection ended: %v", i, n, ev.Err)
			}
			for _, m := range messagesOf(ev) {
				if m.ID != wire.Have || m.Index != uint32(i) {
					t.Fatalf("message %d: got %+v", i, m)
				}
				i++
			}
		}
		start := time.Now()
		err := p.lastErr(t)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("final error = %v, want a deadline error", err)
		}
		if el := time.Since(start); el < timeout/2 || el > timeout {
			t.Errorf("silent peer dropped after %v, want between half and all of the %v timeout", el, timeout)
		}
	})
}

func TestConnSendNeverBlocksAndOverflows(t *testing.T) {
	const limit = 64 << 10
	p := newPair(t, Config{MaxQueuedBytes: limit, WriteTimeout: time.Hour})
	// The remote never reads: after the writer blocks, the queue fills.
	block := make([]byte, wire.BlockSize)
	start := time.Now()
	overflowed := false
	for i := 0; i < 100; i++ {
		if !p.c.Send(wire.Message{ID: wire.Piece, Index: uint32(i), Block: block}) {
			overflowed = true
			break
		}
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("100 sends took %v; Send must not block", el)
	}
	if !overflowed {
		t.Fatal("Send never reported a full queue")
	}
	if err := p.lastErr(t); !errors.Is(err, ErrSendQueueFull) {
		t.Fatalf("final error = %v, want ErrSendQueueFull", err)
	}
	if p.c.Send(wire.Message{ID: wire.Interested}) {
		t.Error("Send on a closed connection returned true")
	}
}

func TestConnRemoveQueued(t *testing.T) {
	p := newPair(t, Config{KeepAlive: time.Hour})
	if !p.c.Send(wire.Message{ID: wire.Have, Index: 7}) {
		t.Fatal("send failed")
	}
	// Wait until the writer took that message; it then blocks flushing it
	// because the remote does not read yet, so the next sends stay queued.
	testutil.WaitFor(t, wait, "the writer to take the first message", func() bool {
		p.c.mu.Lock()
		defer p.c.mu.Unlock()
		return len(p.c.queue) == 0
	})
	blk := func(i, begin uint32, fill byte) wire.Message {
		return wire.Message{ID: wire.Piece, Index: i, Begin: begin, Block: bytes.Repeat([]byte{fill}, 100)}
	}
	p.c.Send(blk(1, 0, 1))
	p.c.Send(blk(2, 0, 2))
	p.c.Send(blk(1, 100, 3))
	p.c.Send(wire.Message{ID: wire.Have, Index: 99}) // end marker
	n := p.c.RemoveQueued(func(m *wire.Message) bool { return m.ID == wire.Piece && m.Index == 1 })
	if n != 2 {
		t.Fatalf("RemoveQueued dropped %d, want 2", n)
	}
	p.c.mu.Lock()
	queued, left := p.c.queued, len(p.c.queue)
	p.c.mu.Unlock()
	if want := (13 + 100) + 13; queued != want || left != 2 {
		t.Errorf("after removal: %d messages, %d bytes queued; want 2, %d", left, queued, want)
	}
	var got []wire.Message
	for {
		m := p.readMsg(t)
		got = append(got, m)
		if m.ID == wire.Have && m.Index == 99 {
			break
		}
	}
	if len(got) != 3 || got[0].Index != 7 || got[1].ID != wire.Piece || got[1].Index != 2 {
		t.Fatalf("remote received %+v; want have 7, piece 2, have 99", got)
	}
	// The writer counts a batch once its write returns, which on a pipe can
	// be just after the remote read the last byte.
	if !testutil.Eventually(wait, func() bool { return p.c.Uploaded() == 100 }) {
		t.Errorf("Uploaded() = %d, want 100", p.c.Uploaded())
	}
}

func TestConnCloseIdempotent(t *testing.T) {
	p := newPair(t, Config{})
	p.c.Close()
	p.c.Close()
	p.c.CloseWith(errors.New("later reason"))
	if !p.c.Closed() {
		t.Fatal("not Closed() after Close")
	}
	if err := p.lastErr(t); !errors.Is(err, ErrClosed) {
		t.Fatalf("final error = %v, want the first reason ErrClosed", err)
	}
	if p.c.Send(wire.Message{ID: wire.Choke}) {
		t.Error("Send after Close returned true")
	}
	// The socket is closed too.
	p.remote.SetReadDeadline(time.Now().Add(wait))
	if _, err := p.remote.Read(make([]byte, 1)); err == nil {
		t.Error("remote end still open after Close")
	}
}

func TestConnOwnerShutdownStopsDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		events := make(chan Event) // nobody reads
		done := make(chan struct{})
		c := New(a, wire.Handshake{}, false, events, done, Config{})
		defer c.Close()
		go b.Write(frame(wire.Message{ID: wire.Unchoke}))
		synctest.Wait() // the reader is blocked delivering the unchoke
		if c.Closed() {
			t.Fatal("connection closed before its owner shut down")
		}
		close(done)
		synctest.Wait()
		if !c.Closed() {
			t.Fatal("connection not closed after its owner shut down")
		}
	})
}

// TestConnBatchesAtMostMaxBatch: messages in memory together travel in one
// event, but never more than maxBatch of them, and in order.
func TestConnBatchesAtMostMaxBatch(t *testing.T) {
	p := newPair(t, Config{})
	const n = 3*maxBatch + 5
	go func() {
		var all []byte
		for i := range n {
			m := wire.Message{ID: wire.Have, Index: uint32(i)}
			all = m.AppendTo(all)
		}
		p.remote.Write(all)
	}()
	events := 0
	for i := 0; i < n; {
		ev := p.next(t)
		if ev.Err != nil {
			t.Fatalf("after %d messages: %v", i, ev.Err)
		}
		events++
		ms := messagesOf(ev)
		if len(ms) > maxBatch {
			t.Fatalf("an event carried %d messages, more than %d", len(ms), maxBatch)
		}
		for _, m := range ms {
			if m.ID != wire.Have || m.Index != uint32(i) {
				t.Fatalf("message %d: got %+v", i, m)
			}
			i++
		}
		PutBatch(ev.More)
	}
	if events != (n+maxBatch-1)/maxBatch {
		t.Errorf("%d messages read at once came in %d events, want %d", n, events, (n+maxBatch-1)/maxBatch)
	}
}

// TestBatchRecyclingAllocatesNothing: an Event.More slice handed back with
// PutBatch is reused by the next event, with no allocation either way.
func TestBatchRecyclingAllocatesNothing(t *testing.T) {
	PutBatch(getBatch())
	allocs := testing.AllocsPerRun(100, func() {
		b := append(getBatch(), wire.Message{ID: wire.Have, Index: 1})
		PutBatch(b)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per batch, want 0", allocs)
	}
	b := getBatch()
	if len(b) != 0 || cap(b) < maxBatch-1 {
		t.Errorf("recycled batch: len %d cap %d", len(b), cap(b))
	}
	if b[:1][0].ID != 0 {
		t.Error("recycled batch still holds a message")
	}
	PutBatch(b)
}
