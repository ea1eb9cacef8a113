package rawio

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

const wait = 10 * time.Second

// wrapped is a net.Conn that may transform its bytes, as an encryption
// layer would.
type wrapped struct{ net.Conn }

// TestRawIOOnlyForPlainSockets: TCP sockets are read and written with raw
// system calls; anything else (a pipe, a wrapper that may transform the
// bytes) through its own methods.
func TestRawIOOnlyForPlainSockets(t *testing.T) {
	a, _ := testutil.TCPPair(t)
	if New(a) == nil {
		t.Error("no raw I/O for a *net.TCPConn")
	}
	p, q := net.Pipe()
	defer p.Close()
	defer q.Close()
	if New(p) != nil {
		t.Error("raw I/O for a net.Pipe")
	}
	if New(wrapped{a}) != nil {
		t.Error("raw I/O for a wrapped connection")
	}
}

// TestRawReaderUnblocksOnClose: a read waiting for data returns an error
// once the connection is closed.
func TestRawReaderUnblocksOnClose(t *testing.T) {
	a, _ := testutil.TCPPair(t)
	r := New(a)
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

// TestRawReaderEOF: the remote's close reads as io.EOF, after the data
// sent before it.
func TestRawReaderEOF(t *testing.T) {
	a, b := testutil.TCPPair(t)
	r := New(a)
	a.SetReadDeadline(time.Now().Add(wait))
	b.Write([]byte("hello"))
	b.Close()
	var got []byte
	buf := make([]byte, 3)
	for {
		n, err := r.ReadVec([][]byte{buf[:1], buf[1:]})
		got = append(got, buf[:n]...)
		if err != nil {
			if !errors.Is(err, io.EOF) || n != 0 {
				t.Fatalf("end of stream: %d, %v; want 0, io.EOF", n, err)
			}
			break
		}
	}
	if string(got) != "hello" {
		t.Fatalf("read %q, want %q", got, "hello")
	}
}

// TestRawWriterManyBuffers: more buffers than one writev takes, empty ones
// among them, several MiB in all: the bytes arrive whole and in order.
func TestRawWriterManyBuffers(t *testing.T) {
	a, b := testutil.TCPPair(t)
	w := New(a)
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
	n, err := w.WriteVec(slices.Clone(bufs))
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
	a, b := testutil.TCPPair(t)
	w, r := New(a), New(b)
	out := [][]byte{make([]byte, 100), make([]byte, 300)}
	in := [][]byte{make([]byte, 150), make([]byte, 250)}
	allocs := testing.AllocsPerRun(200, func() {
		send := out // WriteVec consumes its argument's slice
		if n, err := w.WriteVec(send); err != nil || n != 400 {
			t.Fatalf("writev: %d, %v", n, err)
		}
		for got := 0; got < 400; {
			n, err := r.ReadVec(in)
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
