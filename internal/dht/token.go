package dht

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"net/netip"
	"sync"
	"time"
)

// TokenRotation is how often the token secret changes. Tokens made with the
// current or the previous secret are accepted, so a token stays valid for
// between one and two rotations (5 to 10 minutes, as in BEP 5).
const TokenRotation = 5 * time.Minute

// tokenLen is the length of the tokens we hand out.
const tokenLen = 8

// tokens makes and checks announce tokens: the first bytes of
// SHA-1(requester IP || secret). It is safe for concurrent use.
type tokens struct {
	mu            sync.Mutex
	cur, prev     [16]byte
	rotatedAt     time.Time
	rotationEvery time.Duration
}

// newTokens returns a token maker with a fresh random secret.
func newTokens(now time.Time, every time.Duration) *tokens {
	t := &tokens{rotatedAt: now, rotationEvery: every}
	rand.Read(t.cur[:])
	rand.Read(t.prev[:])
	return t
}

// tokenFor computes the token for ip under secret.
func tokenFor(ip netip.Addr, secret [16]byte) string {
	h := sha1.New()
	b := ip.Unmap().AsSlice()
	h.Write(b)
	h.Write(secret[:])
	return string(h.Sum(nil)[:tokenLen])
}

// maybeRotate replaces the secret if the rotation interval has passed.
func (t *tokens) maybeRotate(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.rotatedAt) < t.rotationEvery {
		return
	}
	t.prev = t.cur
	rand.Read(t.cur[:])
	t.rotatedAt = now
}

// make returns the token for ip.
func (t *tokens) make(ip netip.Addr) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return tokenFor(ip, t.cur)
}

// valid reports whether tok is the token of ip under the current or the
// previous secret.
func (t *tokens) valid(ip netip.Addr, tok string) bool {
	if len(tok) != tokenLen {
		return false
	}
	t.mu.Lock()
	cur, prev := tokenFor(ip, t.cur), tokenFor(ip, t.prev)
	t.mu.Unlock()
	return hmac.Equal([]byte(tok), []byte(cur)) || hmac.Equal([]byte(tok), []byte(prev))
}
