package peer

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/wire"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-acc
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

// newTCPConn wraps one end of a loopback TCP connection in a Conn, as the
// torrent does with a dialled or accepted peer; the test drives the other.
func newTCPConn(t *testing.T, cfg Config) (*Conn, *net.TCPConn, chan Event) {
	t.Helper()
	a, b := tcpPair(t)
	events := make(chan Event, 1024)
	done := make(chan struct{})
	c := New(a, wire.Handshake{}, true, events, done, cfg)
	t.Cleanup(func() { c.Close(); close(done) })
	return c, b, events
}

// finalErr skips message events and returns the error that ends c.
func finalErr(t *testing.T, events chan Event) error {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev := <-events:
			if ev.Err != nil {
				return ev.Err
			}
		case <-deadline:
			t.Fatal("the connection did not end")
			return nil
		}
	}
}

// TestRawIOOnlyForPlainSockets: TCP sockets are read and written with raw
// system calls; anything else (a pipe, a wrapper that may transform the
// bytes) through its own methods.
func TestRawIOOnlyForPlainSockets(t *testing.T) {
	a, _ := tcpPair(t)
	if r, w := newRawIO(a); r == nil || w == nil {
		t.Error("no raw I/O for a *net.TCPConn")
	}
	p, q := net.Pipe()
	defer p.Close()
	defer q.Close()
	if r, w := newRawIO(p); r != nil || w != nil {
		t.Error("raw I/O for a net.Pipe")
	}
	if r, w := newRawIO(&countingConn{Conn: a}); r != nil || w != nil {
		t.Error("raw I/O for a wrapped connection")
	}
	c, _, _ := newTCPConn(t, Config{})
	if c.rawR == nil || c.rawW == nil {
		t.Error("a Conn over TCP does not use raw I/O")
	}
}

// TestConnOverTCP: over a real socket, a mix of messages in both
// directions arrives whole and in order, including more than the socket
// buffers hold at once (partial writes, waits for writability), and the
// remote's close ends the connection with io.EOF.
func TestConnOverTCP(t *testing.T) {
	c, remote, events := newTCPConn(t, Config{MaxQueuedBytes: 64 << 20})
	rng := rand.New(rand.NewPCG(1, 2))
	var sent []wire.Message
	for i := range 600 {
		switch i % 4 {
		case 0, 1:
			b := make([]byte, wire.BlockSize)
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			sent = append(sent, wire.Message{ID: wire.Piece, Index: uint32(i), Begin: uint32(i) * 7, Block: b})
		case 2:
			sent = append(sent, wire.Message{ID: wire.Have, Index: uint32(i)})
		default:
			sent = append(sent, wire.Message{ID: wire.Request, Index: uint32(i), Begin: 16384, Length: 16384})
		}
	}
	// Remote → Conn.
	go func() {
		var buf []byte
		for _, m := range sent {
			buf = m.AppendTo(buf)
		}
		remote.Write(buf)
	}()
	var queued []wire.Message
	for i, want := range sent {
		for len(queued) == 0 {
			select {
			case ev := <-events:
				if ev.Err != nil {
					t.Fatalf("message %d: %v", i, ev.Err)
				}
				queued = messagesOf(ev)
			case <-time.After(wait):
				t.Fatalf("message %d did not arrive", i)
			}
		}
		got := queued[0]
		queued = queued[1:]
		if got.ID != want.ID || got.Index != want.Index || got.Begin != want.Begin || !bytes.Equal(got.Block, want.Block) {
			t.Fatalf("message %d: got %v %d %d (%d bytes), want %v %d %d (%d bytes)",
				i, got.ID, got.Index, got.Begin, len(got.Block), want.ID, want.Index, want.Begin, len(want.Block))
		}
	}
	// Conn → remote: queued all at once, well over the socket buffers.
	for _, m := range sent {
		if !c.Send(m) {
			t.Fatal("Send refused")
		}
	}
	remote.SetReadDeadline(time.Now().Add(wait))
	for i, want := range sent {
		got, _, err := wire.ReadMessage(remote, nil)
		if err != nil {
			t.Fatalf("remote read of message %d: %v", i, err)
		}
		if got.ID != want.ID || got.Index != want.Index || got.Begin != want.Begin || !bytes.Equal(got.Block, want.Block) {
			t.Fatalf("remote got message %d wrong: %v %d %d", i, got.ID, got.Index, got.Begin)
		}
	}
	remote.Close()
	if err := finalErr(t, events); !errors.Is(err, io.EOF) {
		t.Errorf("after the remote closed: %v, want io.EOF", err)
	}
}

// TestConnOverTCPTimeouts: raw reads and writes still obey the deadlines:
// a silent peer times out, and so does one that stops reading.
func TestConnOverTCPTimeouts(t *testing.T) {
	t.Run("read", func(t *testing.T) {
		_, _, events := newTCPConn(t, Config{ReadTimeout: 200 * time.Millisecond})
		if err := finalErr(t, events); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("silent peer: %v, want a deadline error", err)
		}
	})
	t.Run("write", func(t *testing.T) {
		c, _, events := newTCPConn(t, Config{WriteTimeout: 200 * time.Millisecond, ReadTimeout: time.Minute, MaxQueuedBytes: 256 << 20})
		block := make([]byte, wire.BlockSize)
		// 128 MiB: more than any socket buffers hold.
		for i := range 8192 {
			if !c.Send(wire.Message{ID: wire.Piece, Index: uint32(i), Block: block}) {
				break
			}
		}
		if err := finalErr(t, events); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("peer that does not read: %v, want a deadline error", err)
		}
	})
}

// TestRawReaderUnblocksOnClose: a read waiting for data returns an error
// once the connection is closed.
func TestRawReaderUnblocksOnClose(t *testing.T) {
	a, _ := tcpPair(t)
	r, _ := newRawIO(a)
	errc := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 10))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	a.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("read after close: %v, want net.ErrClosed", err)
		}
	case <-time.After(wait):
		t.Fatal("read still blocked after close")
	}
}

// TestRawWriterManyBuffers: more buffers than one writev takes, empty ones
// among them, several MiB in all: the bytes arrive whole and in order.
func TestRawWriterManyBuffers(t *testing.T) {
	a, b := tcpPair(t)
	_, w := newRawIO(a)
	rng := rand.New(rand.NewPCG(3, 4))
	var bufs [][]byte
	var want []byte
	for i := range 3000 {
		n := rng.IntN(4096)
		if i%7 == 0 {
			n = 0
		}
		buf := make([]byte, n)
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		bufs = append(bufs, buf)
		want = append(want, buf...)
	}
	got := make(chan []byte, 1)
	go func() {
		b.SetReadDeadline(time.Now().Add(wait))
		data, _ := io.ReadAll(io.LimitReader(b, int64(len(want))))
		got <- data
	}()
	n, err := w.writev(slices.Clone(bufs))
	if err != nil || n != int64(len(want)) {
		t.Fatalf("writev: %d, %v; want %d bytes", n, err, len(want))
	}
	if data := <-got; !bytes.Equal(data, want) {
		t.Fatalf("received %d bytes, not the %d written", len(data), len(want))
	}
}

func TestConsumed(t *testing.T) {
	bufs := func() [][]byte { return [][]byte{[]byte("ab"), {}, []byte("cde"), []byte("f")} }
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "ab||cde|f"},
		{1, "b||cde|f"},
		{2, "cde|f"},
		{4, "e|f"},
		{5, "f"},
		{6, ""},
	} {
		var s []string
		for _, p := range consumed(bufs(), tc.n) {
			s = append(s, string(p))
		}
		if got := strings.Join(s, "|"); got != tc.want {
			t.Errorf("consumed(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// TestRawIOAllocatesNothing: a raw readv or writev on a ready socket makes
// no heap allocation (it runs 15-20 thousand times per GiB downloaded).
func TestRawIOAllocatesNothing(t *testing.T) {
	a, b := tcpPair(t)
	_, w := newRawIO(a)
	r, _ := newRawIO(b)
	out := [][]byte{make([]byte, 100), make([]byte, 300)}
	in := [][]byte{make([]byte, 150), make([]byte, 250)}
	allocs := testing.AllocsPerRun(200, func() {
		send := out // writev consumes its argument's slice
		if n, err := w.writev(send); err != nil || n != 400 {
			t.Fatalf("writev: %d, %v", n, err)
		}
		for got := 0; got < 400; {
			n, err := r.readv(in)
			if err != nil {
				t.Fatalf("readv: %v", err)
			}
			got += n
			in[0], in[1] = in[0][:cap(in[0])], in[1][:cap(in[1])]
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per write and read, want 0", allocs)
	}
}
