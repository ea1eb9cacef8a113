package mse

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// scripted is a connection whose reads come from a fixed byte string and
// whose writes are discarded.
type scripted struct{ r *bytes.Reader }

func (s scripted) Read(p []byte) (int, error)       { return s.r.Read(p) }
func (s scripted) Write(p []byte) (int, error)      { return len(p), nil }
func (s scripted) Close() error                     { return nil }
func (s scripted) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (s scripted) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (s scripted) SetDeadline(time.Time) error      { return nil }
func (s scripted) SetReadDeadline(time.Time) error  { return nil }
func (s scripted) SetWriteDeadline(time.Time) error { return nil }
func script(b []byte) net.Conn                      { return scripted{bytes.NewReader(b)} }

// transcripts records what each side of a real handshake sent, with fixed
// random sources (seeded(1) for the initiator, seeded(2) for the
// receiver), so that replaying one side's bytes to the other with the same
// source reaches past the key exchange.
func transcripts(t testing.TB, provide Method, ia []byte) (fromA, fromB []byte) {
	r := Receiver{Allowed: Plaintext | RC4, Lookup: lookupOnly(testSKey)}
	a, b, recA, recB := handshake(t, provide, r, ia, seeded(1), seeded(2))
	if a.err != nil || b.err != nil {
		t.Fatalf("initiator: %v; receiver: %v", a.err, b.err)
	}
	return recA.written(), recB.written()
}

func TestTranscriptReplay(t *testing.T) {
	// The replay the fuzzers start from must itself succeed.
	fromA, fromB := transcripts(t, Plaintext|RC4, []byte("initial"))
	r := Receiver{Allowed: Plaintext | RC4, Lookup: lookupOnly(testSKey)}
	c, _, err := r.accept(script(fromA), nil, seeded(2))
	if err != nil {
		t.Fatalf("receiver replay: %v", err)
	}
	if got, _ := io.ReadAll(c); string(got) != "initial" {
		t.Fatalf("replayed initial payload %q", got)
	}
	if _, err := initiate(script(fromB), testSKey, Plaintext|RC4, []byte("initial"), seeded(1)); err != nil {
		t.Fatalf("initiator replay: %v", err)
	}
}

// FuzzReceive feeds hostile initiator streams to the receiver: it must
// return (an error or a stream) without panicking, hanging or reading an
// unbounded amount.
func FuzzReceive(f *testing.F) {
	for _, p := range []Method{RC4, Plaintext | RC4, Plaintext} {
		fromA, _ := transcripts(f, p, []byte("\x13BitTorrent protocol"))
		f.Add(fromA)
	}
	f.Add(make([]byte, 200))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Receiver{Allowed: Plaintext | RC4, Lookup: lookupOnly(testSKey)}
		c, _, err := r.accept(script(data), nil, seeded(2))
		if err != nil {
			return
		}
		got, _ := io.ReadAll(io.LimitReader(c, 1<<20))
		if len(got) > len(data) {
			t.Fatalf("read %d bytes from %d", len(got), len(data))
		}
	})
}

// FuzzInitiate feeds hostile receiver streams to the initiator.
func FuzzInitiate(f *testing.F) {
	for _, p := range []Method{RC4, Plaintext | RC4} {
		_, fromB := transcripts(f, p, nil)
		f.Add(fromB)
	}
	f.Add(make([]byte, 700))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := initiate(script(data), testSKey, Plaintext|RC4, nil, seeded(1))
		if err != nil {
			return
		}
		got, _ := io.ReadAll(io.LimitReader(c, 1<<20))
		if len(got) > len(data) {
			t.Fatalf("read %d bytes from %d", len(got), len(data))
		}
	})
}
