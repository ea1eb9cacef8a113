package mse

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// seeded returns a deterministic random source, so that a handshake can be
// replayed byte for byte.
func seeded(seed byte) randomSource {
	r := rand.NewChaCha8([32]byte{seed})
	return func(b []byte) { r.Read(b) }
}

// recorder keeps a copy of every byte written to the connection.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.out.Write(p)
	r.mu.Unlock()
	return r.Conn.Write(p)
}

func (r *recorder) written() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.out.Bytes())
}

// tcpPair returns the two ends of a loopback TCP connection
// (testutil.TCPPair), with a deadline that keeps a broken handshake from
// hanging the test.
func tcpPair(t testing.TB) (dialled, accepted net.Conn) {
	t.Helper()
	a, b := testutil.TCPPair(t)
	deadline := time.Now().Add(10 * time.Second)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)
	return a, b
}

var testSKey = [20]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}

func lookupOnly(skeys ...[20]byte) func([20]byte) ([20]byte, bool) {
	return func(req2 [20]byte) ([20]byte, bool) {
		for _, k := range skeys {
			if Req2(k) == req2 {
				return k, true
			}
		}
		return [20]byte{}, false
	}
}

type result struct {
	c    *Conn
	skey [20]byte
	err  error
}

// handshake runs both sides over loopback TCP and returns their results
// and what each side wrote.
func handshake(t testing.TB, provide Method, r Receiver, ia []byte, randA, randB randomSource) (a, b result, recA, recB *recorder) {
	t.Helper()
	ca, cb := tcpPair(t)
	ra, rb := &recorder{Conn: ca}, &recorder{Conn: cb}
	done := make(chan result, 1)
	go func() {
		c, k, err := r.accept(rb, nil, randB)
		if err != nil {
			cb.Close() // let the initiator fail at once
		}
		done <- result{c, k, err}
	}()
	c, err := initiate(ra, testSKey, provide, ia, randA)
	if err != nil {
		ca.Close()
	}
	a = result{c: c, err: err}
	b = <-done
	return a, b, ra, rb
}

func TestHandshakeMethods(t *testing.T) {
	hs := []byte("\x13BitTorrent protocol and the rest of a handshake")
	for _, tc := range []struct {
		name            string
		provide, allow  Method
		preferPlaintext bool
		want            Method
	}{
		{"both offered, rc4 preferred", Plaintext | RC4, Plaintext | RC4, false, RC4},
		{"both offered, plaintext preferred", Plaintext | RC4, Plaintext | RC4, true, Plaintext},
		{"rc4 only", RC4, Plaintext | RC4, true, RC4},
		{"receiver forces rc4", Plaintext | RC4, RC4, true, RC4},
		{"plaintext only", Plaintext, Plaintext | RC4, false, Plaintext},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Receiver{Allowed: tc.allow, PreferPlaintext: tc.preferPlaintext, Lookup: lookupOnly([20]byte{9}, testSKey)}
			a, b, recA, recB := handshake(t, tc.provide, r, hs, cryptoRandom, cryptoRandom)
			if a.err != nil || b.err != nil {
				t.Fatalf("initiator: %v; receiver: %v", a.err, b.err)
			}
			if b.skey != testSKey {
				t.Fatalf("receiver found torrent %x, want %x", b.skey, testSKey)
			}
			if a.c.Method() != tc.want || b.c.Method() != tc.want {
				t.Fatalf("methods %s/%s, want %s", a.c.Method(), b.c.Method(), tc.want)
			}
			// The initial payload arrives first, decrypted.
			got := make([]byte, len(hs))
			if _, err := io.ReadFull(b.c, got); err != nil || !bytes.Equal(got, hs) {
				t.Fatalf("initial payload %q (%v), want %q", got, err, hs)
			}
			if bytes.Contains(recA.written(), hs[:20]) {
				t.Fatal("the initial payload went out in the clear")
			}
			// Payload both ways, as vectored and plain writes.
			fromA := bytes.Repeat([]byte("payload from A "), 10000)
			fromB := bytes.Repeat([]byte("payload from B "), 10000)
			go func() {
				a.c.WriteVec([][]byte{fromA[:7], fromA[7:70000], fromA[70000:]})
				b.c.Write(fromB)
			}()
			gotA := make([]byte, len(fromA))
			if _, err := io.ReadFull(b.c, gotA); err != nil || !bytes.Equal(gotA, fromA) {
				t.Fatalf("B read %d bytes wrong (%v)", len(gotA), err)
			}
			gotB := make([]byte, len(fromB))
			if _, err := io.ReadFull(a.c, gotB); err != nil || !bytes.Equal(gotB, fromB) {
				t.Fatalf("A read wrong (%v)", err)
			}
			clear := bytes.Contains(append(recA.written(), recB.written()...), []byte("payload from"))
			if clear != (tc.want == Plaintext) {
				t.Fatalf("payload seen in the clear on the wire: %v, method %s", clear, tc.want)
			}
			if u := a.c.Unwrap(); (u == a.c.Conn) != (tc.want == Plaintext) {
				t.Fatalf("Unwrap of a %s stream returned the socket: %v", tc.want, u == a.c.Conn)
			}
		})
	}
}

func TestHandshakeFailures(t *testing.T) {
	t.Run("unknown torrent", func(t *testing.T) {
		r := Receiver{Allowed: RC4, Lookup: lookupOnly([20]byte{9})}
		a, b, _, _ := handshake(t, RC4, r, nil, cryptoRandom, cryptoRandom)
		if !errors.Is(b.err, ErrUnknownTorrent) || a.err == nil {
			t.Fatalf("initiator: %v; receiver: %v", a.err, b.err)
		}
	})
	t.Run("no common method", func(t *testing.T) {
		r := Receiver{Allowed: RC4, Lookup: lookupOnly(testSKey)}
		a, b, _, _ := handshake(t, Plaintext, r, nil, cryptoRandom, cryptoRandom)
		if !errors.Is(b.err, ErrNoCommonMethod) || a.err == nil {
			t.Fatalf("initiator: %v; receiver: %v", a.err, b.err)
		}
	})
	t.Run("nothing offered", func(t *testing.T) {
		ca, _ := tcpPair(t)
		if _, err := Initiate(ca, testSKey, 0, nil); !errors.Is(err, ErrNoCommonMethod) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("plain peer", func(t *testing.T) {
		// A peer that does not speak MSE reads a plain handshake's worth
		// of bytes, answers with its own and closes.
		ca, cb := tcpPair(t)
		go func() {
			io.ReadFull(cb, make([]byte, 68))
			cb.Write(append([]byte("\x13BitTorrent protocol"), make([]byte, 48)...))
			cb.Close()
		}()
		if _, err := Initiate(ca, testSKey, RC4|Plaintext, nil); err == nil {
			t.Fatal("handshake with a plain peer succeeded")
		}
	})
	t.Run("no sync pattern", func(t *testing.T) {
		// Random bytes where HASH('req1', S) should be: the receiver gives
		// up after its window, without waiting for more.
		ca, cb := tcpPair(t)
		go func() {
			junk := make([]byte, maxReq1Sync+100)
			seeded(7)(junk)
			ca.Write(junk)
		}()
		r := Receiver{Allowed: RC4, Lookup: lookupOnly(testSKey)}
		if _, _, err := r.Accept(cb, nil); !errors.Is(err, ErrSync) {
			t.Fatalf("got %v, want ErrSync", err)
		}
	})
	t.Run("silent peer", func(t *testing.T) {
		ca, _ := tcpPair(t)
		ca.SetDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := Initiate(ca, testSKey, RC4, nil); err == nil {
			t.Fatal("handshake with a silent peer succeeded")
		}
	})
	t.Run("degenerate key", func(t *testing.T) {
		ca, cb := tcpPair(t)
		go func() {
			one := make([]byte, keyLen)
			one[keyLen-1] = 1
			ca.Write(one)
		}()
		r := Receiver{Allowed: RC4, Lookup: lookupOnly(testSKey)}
		if _, _, err := r.Accept(cb, nil); !errors.Is(err, ErrProtocol) {
			t.Fatalf("got %v, want ErrProtocol", err)
		}
	})
}

// TestReceiverPrefix checks the listener's case: the first bytes of Ya were
// read to tell MSE from a plain handshake and are handed back as prefix.
func TestReceiverPrefix(t *testing.T) {
	ca, cb := tcpPair(t)
	done := make(chan error, 1)
	go func() {
		c, err := Initiate(ca, testSKey, RC4, []byte("hello"))
		if err == nil {
			_, err = c.Write([]byte(" world"))
		}
		done <- err
	}()
	prefix := make([]byte, 20)
	if _, err := io.ReadFull(cb, prefix); err != nil {
		t.Fatal(err)
	}
	c, _, err := Receiver{Allowed: RC4, Lookup: lookupOnly(testSKey)}.Accept(cb, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 11)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello world" {
		t.Fatalf("read %q (%v)", got, err)
	}
}

func TestReplay(t *testing.T) {
	ca, cb := tcpPair(t)
	go ca.Write([]byte("def"))
	c := Replay(cb, []byte("abc"))
	if c.Unwrap() != c {
		t.Fatal("Unwrap with bytes pending returned the socket")
	}
	got := make([]byte, 6)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "abcdef" {
		t.Fatalf("read %q (%v)", got, err)
	}
	if c.Unwrap() != cb {
		t.Fatal("Unwrap of a drained plaintext stream did not return the socket")
	}
}

func TestDiffieHellman(t *testing.T) {
	a := newPrivateKey(bytes.Repeat([]byte{0xa5}, privBits/8))
	b := newPrivateKey(bytes.Repeat([]byte{0x5a}, privBits/8))
	sa, err := a.secret(b.pub[:])
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.secret(a.pub[:])
	if err != nil {
		t.Fatal(err)
	}
	if sa != sb {
		t.Fatal("the two sides computed different secrets")
	}
	if prime.BitLen() != 768 {
		t.Fatalf("P has %d bits", prime.BitLen())
	}
	for _, bad := range [][]byte{{0}, {1}, prime.Bytes(), primeMinus1.Bytes(), bytes.Repeat([]byte{0xff}, keyLen)} {
		if _, err := a.secret(bad); err == nil {
			t.Errorf("public key %x accepted", bad)
		}
	}
}
