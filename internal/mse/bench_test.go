//go:build unix

package mse

import (
	"crypto/rc4"
	"net"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perGiB runs body (which moves bytesPerOp per loop) and reports the CPU
// seconds it spent per GiB, which unlike ns/op does not grow when other
// processes share the machine.
func perGiB(b *testing.B, bytesPerOp int64, body func()) {
	b.SetBytes(bytesPerOp)
	b.ReportAllocs()
	start := cpuTime()
	n := 0
	for b.Loop() {
		body()
		n++
	}
	cpu := cpuTime() - start
	b.ReportMetric(cpu.Seconds()/(float64(n)*float64(bytesPerOp)/(1<<30)), "cpu-s/GiB")
}

// sink is a connection that discards writes and reads zeros, so that a
// benchmark measures the cipher path alone.
type sink struct{}

func (sink) Read(p []byte) (int, error)       { clear(p); return len(p), nil }
func (sink) Write(p []byte) (int, error)      { return len(p), nil }
func (sink) Close() error                     { return nil }
func (sink) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (sink) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (sink) SetDeadline(time.Time) error      { return nil }
func (sink) SetReadDeadline(time.Time) error  { return nil }
func (sink) SetWriteDeadline(time.Time) error { return nil }

func rc4Conn() *Conn {
	s := make([]byte, keyLen)
	return newConn(sink{}, RC4, newCipher("keyA", s, testSKey), newCipher("keyB", s, testSKey), nil, nil)
}

// BenchmarkRC4 measures the stream cipher path of an RC4 connection per
// byte of payload: write encrypts a batch of 16 KiB blocks with their piece
// headers as the peer writer hands them over (WriteVec), read decrypts in
// place as the peer reader reads. The CPU seconds per GiB are
// 1073.74 / (MB/s).
func BenchmarkRC4(b *testing.B) {
	const block = 16 << 10
	b.Run("write", func(b *testing.B) {
		c := rc4Conn()
		hdr := make([]byte, 13)
		blk := make([]byte, block)
		bufs := make([][]byte, 0, 16)
		for range 8 {
			bufs = append(bufs, hdr, blk)
		}
		perGiB(b, int64(8*(block+len(hdr))), func() {
			if _, err := c.WriteVec(bufs); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("read", func(b *testing.B) {
		c := rc4Conn()
		buf := make([]byte, 256<<10)
		perGiB(b, int64(len(buf)), func() {
			if _, err := c.Read(buf); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("keystream", func(b *testing.B) {
		// The bare cipher, for comparison.
		ci, _ := rc4.NewCipher(testSKey[:])
		buf := make([]byte, 256<<10)
		perGiB(b, int64(len(buf)), func() { ci.XORKeyStream(buf, buf) })
	})
}

// BenchmarkHandshake measures the CPU of one handshake on both sides (two
// Diffie-Hellman key pairs and secrets, four RC4 key schedules).
func BenchmarkHandshake(b *testing.B) {
	fromA, fromB := transcripts(b, Plaintext|RC4, []byte("payload"))
	recv := Receiver{Allowed: Plaintext | RC4, Lookup: lookupOnly(testSKey)}
	for b.Loop() {
		if _, _, err := recv.accept(script(fromA), nil, seeded(2)); err != nil {
			b.Fatal(err)
		}
		if _, err := initiate(script(fromB), testSKey, Plaintext|RC4, []byte("payload"), seeded(1)); err != nil {
			b.Fatal(err)
		}
	}
}
