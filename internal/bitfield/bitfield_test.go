package bitfield

import (
	"errors"
	"testing"
)

func TestSetHasCount(t *testing.T) {
	bf := New(10)
	if bf.Count() != 0 || !bf.Empty() || bf.Full() {
		t.Fatalf("new bitfield not empty")
	}
	if !bf.Set(0) || !bf.Set(9) || bf.Set(9) {
		t.Fatalf("Set change reports wrong")
	}
	if !bf.Has(0) || !bf.Has(9) || bf.Has(5) || bf.Has(-1) || bf.Has(10) {
		t.Fatalf("Has wrong")
	}
	if got := bf.Bytes(); got[0] != 0x80 || got[1] != 0x40 {
		t.Fatalf("wire bytes %x", got)
	}
	if bf.Count() != 2 {
		t.Fatalf("count %d", bf.Count())
	}
	if !bf.Clear(0) || bf.Clear(0) || bf.Count() != 1 {
		t.Fatalf("Clear wrong")
	}
	bf.SetAll()
	if !bf.Full() || bf.Bytes()[1] != 0xc0 {
		t.Fatalf("SetAll: %x", bf.Bytes())
	}
	c := bf.Clone()
	c.Clear(3)
	if !bf.Has(3) {
		t.Fatalf("Clone shares storage")
	}
}

func TestFromBytes(t *testing.T) {
	tests := []struct {
		in   []byte
		n    int
		want error
		cnt  int
	}{
		{[]byte{0xff, 0xc0}, 10, nil, 10},
		{[]byte{0xff, 0xe0}, 10, ErrSpareBits, 0},
		{[]byte{0xff}, 10, ErrLength, 0},
		{[]byte{}, 0, nil, 0},
		{[]byte{0x01}, 8, nil, 1},
	}
	for _, tt := range tests {
		bf, err := FromBytes(tt.in, tt.n)
		if !errors.Is(err, tt.want) {
			t.Errorf("FromBytes(%x,%d) err=%v want %v", tt.in, tt.n, err, tt.want)
			continue
		}
		if err == nil && bf.Count() != tt.cnt {
			t.Errorf("FromBytes(%x,%d) count=%d want %d", tt.in, tt.n, bf.Count(), tt.cnt)
		}
	}
}
