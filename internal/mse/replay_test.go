package mse

import (
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

// mutate flips, cuts and inserts bytes of b.
func mutate(r *rand.Rand, b []byte) []byte {
	d := append([]byte(nil), b...)
	for range 1 + r.IntN(4) {
		switch r.IntN(3) {
		case 0:
			d[r.IntN(len(d))] ^= byte(1 + r.IntN(255))
		case 1:
			d = d[:r.IntN(len(d))]
		case 2:
			j := r.IntN(len(d) + 1)
			d = append(d[:j:j], append(make([]byte, r.IntN(40)), d[j:]...)...)
		}
		if len(d) == 0 {
			d = []byte{0}
		}
	}
	return d
}

// TestMutatedTranscripts replays damaged copies of real handshakes to both
// sides: each must end (error or stream) without panicking or hanging, and
// a damaged stream must never be accepted with the original payload
// altered silently into something longer than what was sent.
func TestMutatedTranscripts(t *testing.T) {
	ia := []byte("\x13BitTorrent protocol initial payload")
	fromA, fromB := transcripts(t, Plaintext|RC4, ia)
	r := rand.New(rand.NewPCG(1, 2))
	recv := Receiver{Allowed: Plaintext | RC4, Lookup: lookupOnly(testSKey)}
	for i := range 3000 {
		a, b := mutate(r, fromA), mutate(r, fromB)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if c, _, err := recv.accept(script(a), nil, seeded(2)); err == nil {
				if got, _ := io.ReadAll(c); len(got) > len(a) {
					t.Errorf("receiver read %d bytes from %d", len(got), len(a))
				}
			}
			if c, err := initiate(script(b), testSKey, Plaintext|RC4, ia, seeded(1)); err == nil {
				if got, _ := io.ReadAll(c); len(got) > len(b) {
					t.Errorf("initiator read %d bytes from %d", len(got), len(b))
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("replay %d did not end", i)
		}
	}
}
