// Package bitfield implements the piece bitfield of the BitTorrent peer wire
// protocol (BEP 3): bit i, counted from the high bit of byte 0, says whether
// piece i is present.
//
// A Bitfield is a plain value with no locking; its owner (usually a torrent's
// event loop) is the only goroutine that touches it.
package bitfield

import (
	"errors"
	"math/bits"
)

// ErrSpareBits is returned by FromBytes when bits past the last piece are set,
// which BEP 3 requires peers to leave clear.
var ErrSpareBits = errors.New("bitfield: spare bits set")

// ErrLength is returned by FromBytes when the byte length does not match the
// number of pieces.
var ErrLength = errors.New("bitfield: wrong length")

// Bitfield is a fixed-length set of piece indexes.
type Bitfield struct {
	b     []byte
	n     int
	count int
}

// New returns an empty bitfield for n pieces.
func New(n int) *Bitfield {
	if n < 0 {
		n = 0
	}
	return &Bitfield{b: make([]byte, (n+7)/8), n: n}
}

// Full returns a bitfield for n pieces with every bit set.
func Full(n int) *Bitfield {
	bf := New(n)
	bf.SetAll()
	return bf
}

// FromBytes builds a bitfield for n pieces from its wire form. The length must
// be exactly ceil(n/8) bytes and spare bits must be clear.
func FromBytes(p []byte, n int) (*Bitfield, error) {
	if n < 0 || len(p) != (n+7)/8 {
		return nil, ErrLength
	}
	bf := &Bitfield{b: append([]byte(nil), p...), n: n}
	if n%8 != 0 && len(p) > 0 && p[len(p)-1]&(0xff>>(n%8)) != 0 {
		return nil, ErrSpareBits
	}
	for _, x := range bf.b {
		bf.count += bits.OnesCount8(x)
	}
	return bf, nil
}

// Len returns the number of pieces the bitfield covers.
func (bf *Bitfield) Len() int { return bf.n }

// Count returns the number of set bits.
func (bf *Bitfield) Count() int { return bf.count }

// Full reports whether every bit is set.
func (bf *Bitfield) Full() bool { return bf.count == bf.n }

// Empty reports whether no bit is set.
func (bf *Bitfield) Empty() bool { return bf.count == 0 }

// Has reports whether bit i is set. Out-of-range indexes are never set.
func (bf *Bitfield) Has(i int) bool {
	if i < 0 || i >= bf.n {
		return false
	}
	return bf.b[i>>3]&(0x80>>(i&7)) != 0
}

// Set sets bit i and reports whether it changed. Out-of-range indexes are
// ignored.
func (bf *Bitfield) Set(i int) bool {
	if i < 0 || i >= bf.n || bf.Has(i) {
		return false
	}
	bf.b[i>>3] |= 0x80 >> (i & 7)
	bf.count++
	return true
}

// Clear clears bit i and reports whether it changed.
func (bf *Bitfield) Clear(i int) bool {
	if !bf.Has(i) {
		return false
	}
	bf.b[i>>3] &^= 0x80 >> (i & 7)
	bf.count--
	return true
}

// SetAll sets every bit.
func (bf *Bitfield) SetAll() {
	for i := range bf.b {
		bf.b[i] = 0xff
	}
	if r := bf.n % 8; r != 0 {
		bf.b[len(bf.b)-1] = 0xff << (8 - r)
	}
	bf.count = bf.n
}

// Bytes returns the wire form of the bitfield. The caller must not modify it.
func (bf *Bitfield) Bytes() []byte { return bf.b }

// Clone returns an independent copy.
func (bf *Bitfield) Clone() *Bitfield {
	return &Bitfield{b: append([]byte(nil), bf.b...), n: bf.n, count: bf.count}
}
