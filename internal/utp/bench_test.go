package utp

import (
	"context"
	"io"
	"net"
	"testing"
)

// benchStream copies b.N × 1 MiB from w to r.
func benchStream(b *testing.B, w, r net.Conn) {
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	done := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, r, int64(b.N)*int64(len(buf)))
		done <- err
	}()
	for range b.N {
		if _, err := w.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLoopbackUTP and BenchmarkLoopbackTCP compare one stream over
// 127.0.0.1.
func BenchmarkLoopbackUTP(b *testing.B) {
	sa, _ := Listen("udp", "127.0.0.1:0", Config{})
	sb, _ := Listen("udp", "127.0.0.1:0", Config{})
	defer sa.Close()
	defer sb.Close()
	acc := make(chan net.Conn, 1)
	go func() { c, _ := sb.Accept(); acc <- c }()
	a, err := sa.Dial(context.Background(), sb.Addr().(*net.UDPAddr).AddrPort())
	if err != nil {
		b.Fatal(err)
	}
	benchStream(b, a, <-acc)
	r, w, m, rtt := a.debugStats()
	b.Logf("retransmits %d window %d mss %d rtt %dus", r, w, m, rtt)
}

func BenchmarkLoopbackTCP(b *testing.B) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() { c, _ := ln.Accept(); acc <- c }()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	benchStream(b, a, <-acc)
}

func (c *Conn) debugStats() (int, int, int, int) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.retransmits, c.cc.window(), c.mss, int(c.rtt.Microseconds())
}
