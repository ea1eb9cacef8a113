package blocklist

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
)

// List is an immutable set of address ranges. The zero value and nil are
// empty lists.
type List struct {
	v4 []range4 // sorted, disjoint, not adjacent
	v6 []range6
	// idx4[k] is the first index of v4 whose range ends at or after
	// k<<16, so a lookup searches only v4[idx4[k]:idx4[k+1]+1]: a few
	// entries instead of the whole slice (nil when v4 is short).
	idx4 []uint32
}

// indexMin is the IPv4 range count from which a List builds idx4.
const indexMin = 1024

type range4 struct{ lo, hi uint32 }

type u128 struct{ hi, lo uint64 }

type range6 struct{ lo, hi u128 }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// next returns a+1 and whether it did not overflow.
func (a u128) next() (u128, bool) {
	lo := a.lo + 1
	hi := a.hi
	if lo == 0 {
		hi++
		if hi == 0 {
			return u128{}, false
		}
	}
	return u128{hi, lo}, true
}

func to128(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func to32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// Range is an inclusive range of addresses of one family.
type Range struct {
	From, To netip.Addr
}

// builder collects ranges before they are sorted and merged.
type builder struct {
	v4 []range4
	v6 []range6
}

// add records r; From and To must be valid, of one family, From <= To.
func (b *builder) add(r Range) {
	if r.From.Is4() {
		b.v4 = append(b.v4, range4{to32(r.From), to32(r.To)})
		return
	}
	b.v6 = append(b.v6, range6{to128(r.From), to128(r.To)})
}

func (b *builder) len() int { return len(b.v4) + len(b.v6) }

// build sorts and merges the ranges into a List.
func (b *builder) build() *List {
	slices.SortFunc(b.v4, func(x, y range4) int { return cmp.Compare(x.lo, y.lo) })
	v4 := b.v4[:0]
	for _, r := range b.v4 {
		if n := len(v4); n > 0 && (r.lo <= v4[n-1].hi || (v4[n-1].hi != ^uint32(0) && r.lo == v4[n-1].hi+1)) {
			v4[n-1].hi = max(v4[n-1].hi, r.hi)
			continue
		}
		v4 = append(v4, r)
	}
	slices.SortFunc(b.v6, func(x, y range6) int { return x.lo.cmp(y.lo) })
	v6 := b.v6[:0]
	for _, r := range b.v6 {
		if n := len(v6); n > 0 {
			last := &v6[n-1]
			next, ok := last.hi.next()
			if r.lo.cmp(last.hi) <= 0 || (ok && r.lo == next) {
				if r.hi.cmp(last.hi) > 0 {
					last.hi = r.hi
				}
				continue
			}
		}
		v6 = append(v6, r)
	}
	l := &List{v4: slices.Clip(v4), v6: slices.Clip(v6)}
	if len(v4) >= indexMin {
		l.idx4 = make([]uint32, 1<<16+1)
		i := 0
		for k := range 1 << 16 {
			for i < len(v4) && v4[i].hi < uint32(k)<<16 {
				i++
			}
			l.idx4[k] = uint32(i)
		}
		l.idx4[1<<16] = uint32(len(v4))
	}
	return l
}

// New returns a List of the given ranges (invalid ones, of mixed families
// or reversed, are ignored).
func New(ranges []Range) *List {
	var b builder
	for _, r := range ranges {
		if r.From.IsValid() && r.To.IsValid() && r.From.Is4() == r.To.Is4() && r.From.Compare(r.To) <= 0 {
			b.add(Range{r.From.WithZone(""), r.To.WithZone("")})
		}
	}
	return b.build()
}

// Contains reports whether a is in one of the list's ranges. An
// IPv4-mapped IPv6 address is looked up as the IPv4 address it maps.
func (l *List) Contains(a netip.Addr) bool {
	if l == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	if a.Is4() {
		x := to32(a)
		v4 := l.v4
		if l.idx4 != nil {
			k := x >> 16
			v4 = v4[l.idx4[k]:min(int(l.idx4[k+1])+1, len(v4))]
		}
		// the first range whose hi >= x
		i, _ := slices.BinarySearchFunc(v4, x, func(r range4, x uint32) int { return cmp.Compare(r.hi, x) })
		return i < len(v4) && v4[i].lo <= x
	}
	x := to128(a)
	i, _ := slices.BinarySearchFunc(l.v6, x, func(r range6, x u128) int { return r.hi.cmp(x) })
	return i < len(l.v6) && l.v6[i].lo.cmp(x) <= 0
}

// Bytes returns the memory the list's ranges and index take.
func (l *List) Bytes() int {
	if l == nil {
		return 0
	}
	return cap(l.v4)*8 + cap(l.v6)*32 + cap(l.idx4)*4
}

// Len returns the number of ranges after merging overlapping and adjacent
// ones.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.v4) + len(l.v6)
}

// Ranges returns the list's merged ranges, IPv4 first, each in address
// order.
func (l *List) Ranges() []Range {
	if l == nil {
		return nil
	}
	out := make([]Range, 0, l.Len())
	for _, r := range l.v4 {
		out = append(out, Range{from32(r.lo), from32(r.hi)})
	}
	for _, r := range l.v6 {
		out = append(out, Range{from128(r.lo), from128(r.hi)})
	}
	return out
}

func from32(x uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], x)
	return netip.AddrFrom4(b)
}

func from128(x u128) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], x.hi)
	binary.BigEndian.PutUint64(b[8:], x.lo)
	return netip.AddrFrom16(b)
}
