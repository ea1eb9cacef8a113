package peer

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/mse"
	"github.com/gobit/gobit/internal/wire"
)

// acceptLoop answers every connection on ln with AcceptPolicy under enc for
// the torrent of hs(1, 'S'), and reports each result.
type accepted struct {
	nc  net.Conn
	hs  wire.Handshake
	err error
}

func acceptLoop(t *testing.T, ln net.Listener, enc Encryption) <-chan accepted {
	t.Helper()
	ours := hs(1, 'S')
	results := make(chan accepted, 8)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c, h, err := AcceptPolicy(nc, AcceptConfig{
					Timeout:    wait,
					Encryption: enc,
					Lookup: func(ih [20]byte) (wire.Handshake, bool) {
						return ours, ih == ours.InfoHash
					},
					FindInfoHash: func(req2 [20]byte) ([20]byte, bool) {
						return ours.InfoHash, req2 == mse.Req2(ours.InfoHash)
					},
				})
				if err != nil {
					nc.Close()
				} else {
					t.Cleanup(func() { c.Close() })
				}
				results <- accepted{c, h, err}
			}()
		}
	}()
	return results
}

// TestEncryptionPolicies dials under each policy a listener under each
// policy: the connection is made, encrypted or not, or refused, as
// libtorrent's policies of the same names do.
func TestEncryptionPolicies(t *testing.T) {
	const (
		refused = iota
		plain
		obfuscated // MSE handshake, plain stream
		rc4
	)
	for _, tc := range []struct {
		dial, accept Encryption
		want         int
		attempts     int // connections the listener sees
	}{
		{EncryptionPrefer, EncryptionPrefer, obfuscated, 1}, // obfuscated handshake, then plaintext (libtorrent's default)
		{EncryptionPrefer, EncryptionRequire, rc4, 1},
		{EncryptionPrefer, EncryptionDisable, plain, 2}, // MSE refused, plain redial
		{EncryptionRequire, EncryptionPrefer, rc4, 1},
		{EncryptionRequire, EncryptionRequire, rc4, 1},
		{EncryptionRequire, EncryptionDisable, refused, 1},
		{EncryptionDisable, EncryptionPrefer, plain, 1},
		{EncryptionDisable, EncryptionRequire, refused, 1},
		{EncryptionDisable, EncryptionDisable, plain, 1},
	} {
		t.Run(tc.dial.String()+"-"+tc.accept.String(), func(t *testing.T) {
			ln, addr := listen(t)
			results := acceptLoop(t, ln, tc.accept)
			nc, theirs, err := DialPolicy(context.Background(), addr, hs(1, 'C'), wait, tc.dial)
			var last accepted
			for i := range tc.attempts {
				select {
				case last = <-results:
				case <-time.After(wait):
					t.Fatalf("the listener saw %d connections, want %d", i, tc.attempts)
				}
			}
			if tc.want == refused {
				if err == nil || last.err == nil {
					t.Fatalf("connection made: dial error %v, accept error %v", err, last.err)
				}
				return
			}
			if err != nil || last.err != nil {
				t.Fatalf("dial: %v; accept: %v", err, last.err)
			}
			defer nc.Close()
			if theirs.PeerID != hs(1, 'S').PeerID || last.hs.PeerID != hs(1, 'C').PeerID {
				t.Fatalf("peer IDs %q/%q", theirs.PeerID, last.hs.PeerID)
			}
			if Encrypted(nc) != (tc.want == rc4) || Encrypted(last.nc) != (tc.want == rc4) {
				t.Fatalf("encrypted: dialler %v, acceptor %v, want %v", Encrypted(nc), Encrypted(last.nc), tc.want == rc4)
			}
			// Messages through peer.Conn both ways.
			evA, evB := make(chan Event, 8), make(chan Event, 8)
			done := make(chan struct{})
			defer close(done)
			a := New(nc, theirs, true, evA, done, Config{})
			b := New(last.nc, last.hs, false, evB, done, Config{})
			defer a.Close()
			defer b.Close()
			wantCrypto := map[int]string{plain: CryptoNone, obfuscated: CryptoPlaintext, rc4: CryptoRC4}[tc.want]
			for _, c := range []*Conn{a, b} {
				if c.Crypto != wantCrypto || c.Encrypted != (tc.want == rc4) || c.Transport != "tcp" {
					t.Errorf("outgoing %v: crypto %q encrypted %v transport %q, want %q %v tcp", c.Outgoing, c.Crypto, c.Encrypted, c.Transport, wantCrypto, tc.want == rc4)
				}
				if _, wrapped := c.nc.(*mse.Conn); wrapped && tc.want != rc4 {
					// Nothing left to decrypt or replay: the socket
					// itself, so the raw system call path applies.
					t.Errorf("outgoing %v: the plain stream is a %T", c.Outgoing, c.nc)
				}
			}
			block := make([]byte, wire.BlockSize)
			for i := range block {
				block[i] = byte(i * 7)
			}
			a.Send(wire.Message{ID: wire.Piece, Index: 3, Begin: 0, Block: block})
			b.Send(wire.Message{ID: wire.Have, Index: 9})
			for _, ch := range []chan Event{evA, evB} {
				select {
				case ev := <-ch:
					if ev.Err != nil {
						t.Fatalf("connection ended: %v", ev.Err)
					}
					if ev.Msg.ID == wire.Piece && (ev.Msg.Index != 3 || string(ev.Msg.Block) != string(block)) {
						t.Fatalf("piece arrived wrong")
					}
					if ev.Msg.ID == wire.Have && ev.Msg.Index != 9 {
						t.Fatalf("have %d", ev.Msg.Index)
					}
				case <-time.After(wait):
					t.Fatal("no message")
				}
			}
		})
	}
}

// TestAcceptPolicyRefusals checks the listener's errors: a plain handshake
// under EncryptionRequire, an MSE one under EncryptionDisable, an MSE
// handshake for a torrent we do not have.
func TestAcceptPolicyRefusals(t *testing.T) {
	t.Run("plain under require", func(t *testing.T) {
		ln, addr := listen(t)
		results := acceptLoop(t, ln, EncryptionRequire)
		Dial(context.Background(), addr, hs(1, 'C'), wait)
		if r := <-results; !errors.Is(r.err, ErrPlainRefused) {
			t.Fatalf("accept error %v", r.err)
		}
	})
	t.Run("encrypted under disable", func(t *testing.T) {
		ln, addr := listen(t)
		results := acceptLoop(t, ln, EncryptionDisable)
		DialPolicy(context.Background(), addr, hs(1, 'C'), wait, EncryptionRequire)
		if r := <-results; !errors.Is(r.err, ErrEncryptedRefused) {
			t.Fatalf("accept error %v", r.err)
		}
	})
	t.Run("unknown torrent", func(t *testing.T) {
		ln, addr := listen(t)
		results := acceptLoop(t, ln, EncryptionRequire)
		if _, _, err := DialPolicy(context.Background(), addr, hs(2, 'C'), wait, EncryptionRequire); err == nil {
			t.Fatal("dial succeeded")
		}
		if r := <-results; !errors.Is(r.err, mse.ErrUnknownTorrent) {
			t.Fatalf("accept error %v", r.err)
		}
	})
}

func TestParseEncryption(t *testing.T) {
	for _, e := range []Encryption{EncryptionPrefer, EncryptionRequire, EncryptionDisable} {
		if got, err := ParseEncryption(e.String()); err != nil || got != e {
			t.Errorf("ParseEncryption(%q) = %v, %v", e, got, err)
		}
	}
	if _, err := ParseEncryption("always"); err == nil {
		t.Error("ParseEncryption accepted \"always\"")
	}
}
