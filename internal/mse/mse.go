package mse

import (
	"crypto/rc4"
	"crypto/sha1"
	"errors"
	"fmt"
	"math/big"
)

// Method is a set of crypto methods, as the crypto_provide and
// crypto_select bit fields carry them.
type Method uint32

// The crypto methods of the specification.
const (
	// Plaintext leaves the payload stream after the handshake unencrypted
	// (only the handshake itself is obfuscated).
	Plaintext Method = 1
	// RC4 encrypts the payload stream with the handshake's RC4 streams.
	RC4 Method = 2
)

// String names a method set ("plaintext", "rc4", "plaintext|rc4").
func (m Method) String() string {
	switch m & (Plaintext | RC4) {
	case Plaintext:
		return "plaintext"
	case RC4:
		return "rc4"
	case Plaintext | RC4:
		return "plaintext|rc4"
	}
	return fmt.Sprintf("method(%#x)", uint32(m))
}

const (
	// keyLen is the length of Ya, Yb and S: 768 bits.
	keyLen = 96
	// privBits is the size of a private key.
	privBits = 160
	// maxPad bounds PadA, PadB, PadC and PadD.
	maxPad = 512
	// maxReq1Sync bounds how far into A's stream B searches for the end of
	// HASH('req1', S): Ya, the longest PadA, the hash.
	maxReq1Sync = keyLen + maxPad + 20
	// maxVCSync bounds how far into B's stream A searches for the end of
	// ENCRYPT(VC): Yb, the longest PadB, VC.
	maxVCSync = keyLen + maxPad + 8
	// discard is how much of each RC4 key stream is thrown away.
	discard = 1024
)

// Errors that describe a failed handshake; they are wrapped with details.
var (
	// ErrNoCommonMethod means the two sides share no crypto method.
	ErrNoCommonMethod = errors.New("mse: no common crypto method")
	// ErrUnknownTorrent means the initiator asked for a torrent the
	// receiver does not have.
	ErrUnknownTorrent = errors.New("mse: unknown torrent")
	// ErrSync means a side's synchronisation pattern was not found within
	// its window: the peer does not speak MSE, or S differs.
	ErrSync = errors.New("mse: synchronisation pattern not found")
	// ErrProtocol means a field broke the specification.
	ErrProtocol = errors.New("mse: protocol violation")
)

// prime is the 768-bit Diffie-Hellman modulus P of the specification.
var prime, _ = new(big.Int).SetString(
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563", 16)

var (
	generator   = big.NewInt(2)
	primeMinus1 = new(big.Int).Sub(prime, big.NewInt(1))
)

// hash is SHA-1 over the concatenation of parts.
func hash(parts ...[]byte) [20]byte {
	h := sha1.New()
	for _, p := range parts {
		h.Write(p)
	}
	var out [20]byte
	h.Sum(out[:0])
	return out
}

// Req2 returns HASH('req2', skey), what a receiver compares with each of its
// torrents' info hashes to find the one an initiator asks for.
func Req2(skey [20]byte) [20]byte { return hash([]byte("req2"), skey[:]) }

// privateKey is a Diffie-Hellman private key and its public key.
type privateKey struct {
	x   *big.Int
	pub [keyLen]byte
}

// newPrivateKey makes a key from privBits/8 random bytes.
func newPrivateKey(random []byte) privateKey {
	x := new(big.Int).SetBytes(random)
	if x.Sign() == 0 {
		x.SetInt64(1) // a zero key would publish Y = 1
	}
	var k privateKey
	k.x = x
	new(big.Int).Exp(generator, x, prime).FillBytes(k.pub[:])
	return k
}

// secret returns S for the peer's public key, refusing the degenerate keys
// (0, 1, P-1 and anything not below P) that would fix S.
func (k privateKey) secret(peerPub []byte) ([keyLen]byte, error) {
	var s [keyLen]byte
	y := new(big.Int).SetBytes(peerPub)
	if y.Cmp(big.NewInt(1)) <= 0 || y.Cmp(primeMinus1) >= 0 {
		return s, fmt.Errorf("%w: degenerate public key", ErrProtocol)
	}
	new(big.Int).Exp(y, k.x, prime).FillBytes(s[:])
	return s, nil
}

// newCipher returns the RC4 stream keyed with HASH(name, S, SKEY), its first
// discard bytes thrown away.
func newCipher(name string, s []byte, skey [20]byte) *rc4.Cipher {
	key := hash([]byte(name), s, skey[:])
	c, err := rc4.NewCipher(key[:])
	if err != nil {
		panic(err) // unreachable: a 20-byte key is valid
	}
	var buf [discard]byte
	c.XORKeyStream(buf[:], buf[:])
	return c
}
