package utp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
)

// pair returns a connected pair of conns over n: a dialled from 10.0.0.1,
// b accepted on 10.0.0.2.
func pair(t *testing.T, n *memNet, cfgA, cfgB Config) (a, b *Conn, sa, sb *Socket) {
	t.Helper()
	sa = NewSocket(n.listen("10.0.0.1:1000"), cfgA)
	sb = NewSocket(n.listen("10.0.0.2:2000"), cfgB)
	t.Cleanup(func() { sa.Close(); sb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := sb.Accept()
		if err == nil {
			acc <- c
		}
	}()
	a, err := sa.Dial(ctx, netip.MustParseAddrPort("10.0.0.2:2000"))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	select {
	case c := <-acc:
		b = c.(*Conn)
	case <-time.After(20 * time.Second):
		t.Fatal("accept timed out")
	}
	return a, b, sa, sb
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// transfer sends data from w to r (and, when back is set, the other way
// at once) and checks what arrives.
func transfer(t *testing.T, w, r net.Conn, data []byte, limit time.Duration) {
	t.Helper()
	errC := make(chan error, 1)
	go func() {
		_, err := w.Write(data)
		errC <- err
	}()
	r.SetReadDeadline(time.Now().Add(limit))
	got := make([]byte, len(data))
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := <-errC; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("data corrupted")
	}
}

func TestTransferClean(t *testing.T) {
	n := newMemNet(1)
	a, b, _, _ := pair(t, n, Config{}, Config{})
	transfer(t, a, b, randBytes(1, 3<<20), 30*time.Second)
	transfer(t, b, a, randBytes(2, 1<<20), 30*time.Second)
}

func TestTransferBothWaysAtOnce(t *testing.T) {
	n := newMemNet(2)
	n.loss, n.reorder = 0.02, 0.1
	a, b, _, _ := pair(t, n, Config{}, Config{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		transfer(t, b, a, randBytes(3, 1<<20), 60*time.Second)
	}()
	transfer(t, a, b, randBytes(4, 1<<20), 60*time.Second)
	<-done
}

// TestTransferLossy sends through 5 % loss, reordering and duplication.
func TestTransferLossy(t *testing.T) {
	for _, seed := range []uint64{11, 12, 13} {
		n := newMemNet(seed)
		n.loss, n.reorder, n.dup = 0.05, 0.2, 0.05
		a, b, _, _ := pair(t, n, Config{}, Config{})
		transfer(t, a, b, randBytes(seed, 1<<20), 90*time.Second)
		a.mu().Lock()
		retrans := a.retransmits
		a.mu().Unlock()
		if retrans == 0 {
			t.Fatal("no packet sent again through 5 % loss")
		}
	}
}

func (c *Conn) mu() interface {
	Lock()
	Unlock()
} {
	return &c.s.mu
}

// TestZeroWindow fills a small receive buffer, loses the window updates
// while the reader drains it, and needs the sender's zero-window probe
// to finish.
func TestZeroWindow(t *testing.T) {
	n := newMemNet(5)
	a, b, _, _ := pair(t, n, Config{SendBuffer: 32 << 10}, Config{RecvBuffer: 16 << 10})
	data := randBytes(5, 256<<10)
	wrote := make(chan error, 1)
	go func() {
		_, err := a.Write(data)
		wrote <- err
	}()
	waitFor(t, 10*time.Second, "receiver's window to close", func() bool {
		b.mu().Lock()
		defer b.mu().Unlock()
		return b.window() < a.mss
	})
	select {
	case err := <-wrote:
		t.Fatalf("the write finished (%v) with the receiver's window closed", err)
	default:
	}
	// Lose everything the receiver sends for a while: window updates too.
	var blocked = true
	n.mu.Lock()
	n.drop = func(from, to netip.AddrPort, _ []byte) bool {
		return blocked && from == b.s.pc.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	n.mu.Unlock()
	buf := make([]byte, 16<<10)
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadFull(b, buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	n.mu.Lock()
	blocked = false
	n.mu.Unlock()
	rest := make([]byte, len(data)-got)
	b.SetReadDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.ReadFull(b, rest); err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(append(buf, rest...), data) {
		t.Fatal("data corrupted")
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCloseGivesEOF(t *testing.T) {
	n := newMemNet(6)
	n.loss = 0.05
	a, b, _, _ := pair(t, n, Config{}, Config{})
	data := randBytes(6, 200<<10)
	go func() {
		a.Write(data)
		a.Close()
	}()
	b.SetReadDeadline(time.Now().Add(60 * time.Second))
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want %d", len(got), len(data))
	}
	if _, err := a.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
}

func TestDeadlines(t *testing.T) {
	n := newMemNet(7)
	a, b, _, _ := pair(t, n, Config{}, Config{SendBuffer: 8 << 10})
	a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := a.Read(make([]byte, 10))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past deadline: %v", err)
	}
	// A deadline moved into the past wakes a blocked Read at once.
	a.SetReadDeadline(time.Time{})
	res := make(chan error, 1)
	go func() { _, err := a.Read(make([]byte, 10)); res <- err }()
	time.Sleep(20 * time.Millisecond)
	a.SetReadDeadline(time.Unix(1, 0))
	select {
	case err := <-res:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read not woken by a past deadline")
	}
	// Write blocks once the peer stops reading and the buffers are full.
	b.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	_, err = b.Write(make([]byte, 16<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past deadline: %v", err)
	}
}

// TestReset: the peer forgot the connection, so its RESET ends ours.
func TestReset(t *testing.T) {
	n := newMemNet(8)
	a, b, _, sb := pair(t, n, Config{}, Config{})
	sb.mu.Lock()
	b.fail(errors.New("forgotten"))
	sb.mu.Unlock()
	a.Write([]byte("hello"))
	a.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := a.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after reset: %v", err)
	}
}

// TestResetRateLimited: packets of unknown connections get at most a
// burst of RESETs.
func TestResetRateLimited(t *testing.T) {
	n := newMemNet(9)
	s := NewSocket(n.listen("10.0.0.2:2000"), Config{})
	defer s.Close()
	pc := n.listen("10.0.0.9:9")
	for i := range 500 {
		h := header{typ: stData, connID: uint16(i), seq: 1}
		pc.WriteTo(appendHeader(nil, &h), net.UDPAddrFromAddrPort(netip.MustParseAddrPort("10.0.0.2:2000")))
	}
	resets := 0
	for {
		pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 100)
		k, _, err := pc.ReadFrom(buf)
		if err != nil {
			break
		}
		if h, err := parseHeader(buf[:k]); err == nil && h.typ == stReset {
			resets++
		}
	}
	if resets == 0 || resets > resetBurst+resetRate {
		t.Fatalf("%d RESETs for 500 unknown packets", resets)
	}
}

// TestDemux: non-uTP datagrams reach Other, and Other writes through the
// same socket, while uTP works beside it.
func TestDemux(t *testing.T) {
	n := newMemNet(10)
	a, b, _, sb := pair(t, n, Config{}, Config{})
	pc := n.listen("10.0.0.9:9")
	dst := net.UDPAddrFromAddrPort(netip.MustParseAddrPort("10.0.0.2:2000"))
	msg := []byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe")
	pc.WriteTo(msg, dst)
	o := sb.Other()
	o.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	k, from, err := o.ReadFrom(buf)
	if err != nil || !bytes.Equal(buf[:k], msg) || from.String() != "10.0.0.9:9" {
		t.Fatalf("other read %q from %v: %v", buf[:k], from, err)
	}
	if _, err := o.WriteTo([]byte("d1:y1:re"), from); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if k, _, err := pc.ReadFrom(buf); err != nil || string(buf[:k]) != "d1:y1:re" {
		t.Fatalf("reply %q: %v", buf[:k], err)
	}
	transfer(t, a, b, randBytes(10, 100<<10), 10*time.Second)
	// A past deadline wakes a blocked ReadFrom (the DHT's Close does so).
	o.SetReadDeadline(time.Time{})
	res := make(chan error, 1)
	go func() { _, _, err := o.ReadFrom(buf); res <- err }()
	time.Sleep(20 * time.Millisecond)
	o.SetReadDeadline(time.Unix(1, 0))
	select {
	case err := <-res:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFrom not woken")
	}
}

// TestBacklog: SYNs beyond the backlog are not answered until Accept
// makes room.
func TestBacklog(t *testing.T) {
	n := newMemNet(11)
	sb := NewSocket(n.listen("10.0.0.2:2000"), Config{Backlog: 2})
	sa := NewSocket(n.listen("10.0.0.1:1000"), Config{})
	defer sa.Close()
	defer sb.Close()
	dst := netip.MustParseAddrPort("10.0.0.2:2000")
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := sa.Dial(ctx, dst); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_, err := sa.Dial(ctx, dst)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial beyond the backlog: %v", err)
	}
	if _, err := sb.Accept(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := sa.Dial(ctx, dst); err != nil {
		t.Fatalf("dial after accept: %v", err)
	}
}

func TestDialTimeout(t *testing.T) {
	n := newMemNet(12)
	sa := NewSocket(n.listen("10.0.0.1:1000"), Config{})
	defer sa.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := sa.Dial(ctx, netip.MustParseAddrPort("10.0.0.3:1")); err == nil {
		t.Fatal("dial to nobody succeeded")
	}
	sa.mu.Lock()
	left := len(sa.conns)
	sa.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d connections left after a failed dial", left)
	}
}

// TestLoopbackUDP runs over real UDP on 127.0.0.1, where two gobit
// sockets use large packets.
func TestLoopbackUDP(t *testing.T) {
	sa, err := Listen("udp", "127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sb, err := Listen("udp", "127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := sb.Accept()
		if err == nil {
			acc <- c
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := sa.Dial(ctx, sb.Addr().(*net.UDPAddr).AddrPort())
	if err != nil {
		t.Fatal(err)
	}
	b := <-acc
	transfer(t, a, b, randBytes(20, 16<<20), 60*time.Second)
	if a.mss <= safePacket {
		t.Fatalf("packet payload %d on loopback", a.mss)
	}
}

// TestLostFIN: the FIN (a packet without bytes) is sent again when lost
// after every data packet was acknowledged.
func TestLostFIN(t *testing.T) {
	n := newMemNet(14)
	a, b, _, _ := pair(t, n, Config{}, Config{})
	transfer(t, a, b, []byte("data before the FIN"), 10*time.Second)
	finsLost := 0
	n.mu.Lock()
	n.drop = func(_, _ netip.AddrPort, p []byte) bool {
		if h, err := parseHeader(p); err == nil && h.typ == stFin && finsLost < 2 {
			finsLost++
			return true
		}
		return false
	}
	n.mu.Unlock()
	a.Close()
	b.SetReadDeadline(time.Now().Add(20 * time.Second))
	if k, err := b.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("read after the peer's Close: %d, %v; want EOF", k, err)
	}
}

// TestAbort: Abort fails the socket's connections with its error, and the
// socket still dials new ones.
func TestAbort(t *testing.T) {
	n := newMemNet(8)
	a, _, sa, _ := pair(t, n, Config{}, Config{})
	gone := errors.New("the path is gone")
	sa.Abort(gone)
	a.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := a.Read(make([]byte, 10)); !errors.Is(err, gone) {
		t.Fatalf("read after Abort: %v", err)
	}
	if _, err := a.Write([]byte("x")); !errors.Is(err, gone) {
		t.Fatalf("write after Abort: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sa.Dial(ctx, netip.MustParseAddrPort("10.0.0.2:2000"))
	if err != nil {
		t.Fatalf("dial after Abort: %v", err)
	}
	c.Close()
}
