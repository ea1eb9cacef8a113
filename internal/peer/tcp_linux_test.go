package peer

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// newTCPConn wraps one end of a loopback TCP connection in a Conn, as the
// torrent does with a dialled or accepted peer; the test drives the other.
func newTCPConn(t *testing.T, cfg Config) (*Conn, *net.TCPConn, chan Event) {
	t.Helper()
	a, b := testutil.TCPPair(t)
	events := make(chan Event, 1024)
	done := make(chan struct{})
	c := New(a, wire.Handshake{}, true, events, done, cfg)
	t.Cleanup(func() { c.Close(); close(done) })
	return c, b, events
}

// TestConnOverTCPIsRaw: a Conn over a TCP socket reads and writes it with
// raw system calls (internal/rawio).
func TestConnOverTCPIsRaw(t *testing.T) {
	c, _, _ := newTCPConn(t, Config{})
	if c.raw == nil {
		t.Error("a Conn over TCP does not use raw I/O")
	}
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
		got, _, err := wiretest.ReadMessage(remote, nil)
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
