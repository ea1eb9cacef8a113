package metainfo

import (
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
)

// HashSize is the length in bytes of a v1 info hash (SHA-1).
const HashSize = 20

// Hash is a BitTorrent v1 info hash: the SHA-1 of the bencoded info
// dictionary.
type Hash [HashSize]byte

// String returns the hash as 40 lowercase hexadecimal characters.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether every byte of the hash is zero (the hash is unset).
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes the hash as 40 lowercase hex characters, so a Hash
// appears as a string in JSON.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes a hash in any form ParseHash accepts.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHash parses an info hash written as 40 hexadecimal characters or 32
// base32 characters (RFC 4648 alphabet, as in old magnet links), in any case.
// Errors match ErrInvalidHash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	switch len(s) {
	case 2 * HashSize:
		if _, err := hex.Decode(h[:], []byte(s)); err != nil {
			return Hash{}, errorf(ErrInvalidHash, "metainfo: info hash %q: not hexadecimal", s)
		}
		return h, nil
	case 32:
		b, err := base32.StdEncoding.DecodeString(strings.ToUpper(s))
		if err != nil || len(b) != HashSize {
			return Hash{}, errorf(ErrInvalidHash, "metainfo: info hash %q: not base32", s)
		}
		copy(h[:], b)
		return h, nil
	default:
		return Hash{}, errorf(ErrInvalidHash, "metainfo: info hash %q: must be 40 hex or 32 base32 characters, got %d", truncate(s, 64), len(s))
	}
}

// truncate shortens s for inclusion in an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// compile-time checks
var _ fmt.Stringer = Hash{}
