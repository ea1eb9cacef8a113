package wire

import (
	"crypto/sha1"
	"encoding/binary"
	"net/netip"
)

// AllowedFastSet computes the BEP 6 allowed fast set of k piece indexes that
// a peer at ip may request while choked, for a torrent with numPieces pieces
// and the given info hash.
//
// For IPv4 (and IPv4-mapped IPv6) addresses it is the canonical algorithm of
// BEP 6: the address masked to its /24 followed by the info hash is hashed
// repeatedly with SHA-1, and each hash yields five big-endian 32-bit values
// taken modulo numPieces. BEP 6 does not define IPv6; gobit uses the /64
// prefix of the address (the remaining 8 bytes zeroed) in place of the 4
// IPv4 bytes, so one host's many addresses share one set.
//
// k is capped at numPieces. The result is in generation order and has no
// duplicates; it is nil if k or numPieces is not positive or ip is invalid.
func AllowedFastSet(ip netip.Addr, infoHash [20]byte, numPieces, k int) []uint32 {
	if k <= 0 || numPieces <= 0 || !ip.IsValid() {
		return nil
	}
	sz := min(uint64(numPieces), 1<<32) // piece indexes are 32-bit
	k = int(min(uint64(k), sz))

	ip = ip.Unmap()
	var x []byte
	if ip.Is4() {
		a := ip.As4()
		a[3] = 0
		x = append(x, a[:]...)
	} else {
		a := ip.As16()
		clear(a[8:])
		x = append(x, a[:]...)
	}
	x = append(x, infoHash[:]...)

	set := make([]uint32, 0, k)
	seen := make(map[uint32]struct{}, k)
	for len(set) < k {
		sum := sha1.Sum(x)
		x = sum[:]
		for i := 0; i < 5 && len(set) < k; i++ {
			index := uint32(uint64(binary.BigEndian.Uint32(x[i*4:])) % sz)
			if _, dup := seen[index]; dup {
				continue
			}
			seen[index] = struct{}{}
			set = append(set, index)
		}
	}
	return set
}
