package bencode

import (
	"errors"
	"math"
	"testing"
)

type marshalsAsList struct{}

func (marshalsAsList) MarshalBencode() ([]byte, error) { return []byte("li1ee"), nil }

type marshalsInvalid struct{}

func (marshalsInvalid) MarshalBencode() ([]byte, error) { return []byte("i1ei2e"), nil }

type marshalsError struct{}

var errMarshal = errors.New("marshal failed")

func (marshalsError) MarshalBencode() ([]byte, error) { return nil, errMarshal }

type ptrMarshaler struct{}

func (p *ptrMarshaler) MarshalBencode() ([]byte, error) { return []byte("3:ptr"), nil }

type cyclic struct {
	Next *cyclic `bencode:"next"`
}

func TestEncode(t *testing.T) {
	type (
		myInt    int16
		myString string
	)
	cyc := &cyclic{}
	cyc.Next = cyc
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"int", 42, "i42e"},
		{"negative", -42, "i-42e"},
		{"int8", int8(-128), "i-128e"},
		{"int16", int16(300), "i300e"},
		{"int32", int32(-5), "i-5e"},
		{"int64 min", int64(math.MinInt64), "i-9223372036854775808e"},
		{"uint", uint(7), "i7e"},
		{"uint8", uint8(255), "i255e"},
		{"uint16", uint16(65535), "i65535e"},
		{"uint32", uint32(1 << 31), "i2147483648e"},
		{"uint64 max int64", uint64(math.MaxInt64), "i9223372036854775807e"},
		{"named int", myInt(3), "i3e"},
		{"bool true", true, "i1e"},
		{"bool false", false, "i0e"},
		{"string", "spam", "4:spam"},
		{"empty string", "", "0:"},
		{"named string", myString("ab"), "2:ab"},
		{"bytes", []byte{0, 1}, "2:\x00\x01"},
		{"nil bytes", []byte(nil), "0:"},
		{"byte array", [3]byte{'a', 'b', 'c'}, "3:abc"},
		{"byte array pointer", &[2]byte{'h', 'i'}, "2:hi"},
		{"slice", []int{1, 2}, "li1ei2ee"},
		{"nil slice", []string(nil), "le"},
		{"array", [2]string{"a", "b"}, "l1:a1:be"},
		{"slice of any", []any{1, "a", []any{}}, "li1e1:alee"},
		{"map sorted", map[string]int{"b": 2, "a": 1, "ab": 3}, "d1:ai1e2:abi3e1:bi2ee"},
		{"map sorted as raw bytes", map[string]int{"a": 1, "B": 2, "\xff": 3, "": 4}, "d0:i4e1:Bi2e1:ai1e1:\xffi3ee"},
		{"nil map", map[string]int(nil), "de"},
		{"map nil values skipped", map[string]any{"a": nil, "b": 1}, "d1:bi1ee"},
		{"named key map", map[myString]int{"k": 1}, "d1:ki1ee"},
		{"struct sorted by key", tagged{Name: "n", Length: 5, Plain: 1, Skipped: "no"}, "d5:Plaini1e6:lengthi5e4:name1:ne"},
		{"struct omitempty", tagged{Name: "n"}, "d5:Plaini0e4:name1:ne"},
		{"struct pointer field", tagged{Ptr: strp("p")}, "d5:Plaini0e4:name0:3:ptr1:pe"},
		{"struct pointer", &tagged{}, "d5:Plaini0e4:name0:e"},
		{"embedded", withEmbedded{Embedded{E: 1, Shade: 2}, "n"}, "d1:ei1e4:name1:ne"},
		{"nil embedded pointer", withEmbeddedPtr{X: 1}, "d1:xi1ee"},
		{"embedded pointer", withEmbeddedPtr{&Embedded{E: 2}, 1}, "d1:ei2e4:namei0e1:xi1ee"},
		{"marshaler", marshalsAsList{}, "li1ee"},
		{"marshaler in struct", struct {
			M marshalsAsList `bencode:"m"`
		}{}, "d1:mli1eee"},
		{"pointer marshaler addressable", &struct {
			P ptrMarshaler `bencode:"p"`
		}{}, "d1:p3:ptre"},
		{"raw message", RawMessage("d1:bi1e1:ai2ee"), "d1:bi1e1:ai2ee"},
		{"raw message in struct", struct {
			Info RawMessage `bencode:"info"`
			Nil  RawMessage `bencode:"nil"`
		}{Info: RawMessage("le")}, "d4:infolee"},
		{"interface", any(map[string]any{"x": []byte("y")}), "d1:x1:ye"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	cyc := &cyclic{}
	cyc.Next = cyc
	var nilPtr *int
	tests := []struct {
		name  string
		in    any
		check func(error) bool
	}{
		{"nil", nil, isErr[*UnsupportedValueError]},
		{"nil pointer", nilPtr, isErr[*UnsupportedValueError]},
		{"nil in list", []*int{nil}, isErr[*UnsupportedValueError]},
		{"nil interface in list", []any{nil}, isErr[*UnsupportedValueError]},
		{"empty raw message", RawMessage(nil), isErr[*MarshalerError]},
		{"uint64 too big", uint64(math.MaxInt64 + 1), isErr[*UnsupportedValueError]},
		{"float", 1.5, isErr[*UnsupportedTypeError]},
		{"float field", struct{ F float64 }{}, isErr[*UnsupportedTypeError]},
		{"channel", make(chan int), isErr[*UnsupportedTypeError]},
		{"int map key", map[int]string{1: "a"}, isErr[*UnsupportedTypeError]},
		{"invalid raw message", RawMessage("i1"), isErr[*MarshalerError]},
		{"raw message with trailing", RawMessage("i1ei2e"), isErr[*MarshalerError]},
		{"marshaler invalid output", marshalsInvalid{}, isErr[*MarshalerError]},
		{"marshaler error", marshalsError{}, func(err error) bool { return errors.Is(err, errMarshal) }},
		{"cycle", cyc, func(err error) bool { return errors.Is(err, ErrMaxDepth) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Marshal(tc.in)
			if err == nil || !tc.check(err) {
				t.Fatalf("got %q, %v (%T)", b, err, err)
			}
		})
	}
}

func isErr[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// TestEncodeDepth checks that Marshal accepts exactly the nesting Unmarshal
// reads back, and stops on cycles through pointers alone.
func TestEncodeDepth(t *testing.T) {
	nest := func(n int) any {
		var v any = 1
		for range n {
			inner := v
			v = []any{&inner} // pointers between levels do not count as nesting
		}
		return v
	}
	b, err := Marshal(nest(MaxDepth))
	if err != nil {
		t.Fatalf("depth %d: %v", MaxDepth, err)
	}
	if err := Unmarshal(b, new(any)); err != nil {
		t.Fatalf("cannot read back depth %d: %v", MaxDepth, err)
	}
	if _, err := Marshal(nest(MaxDepth + 1)); !errors.Is(err, ErrMaxDepth) {
		t.Fatalf("depth %d: got %v, want ErrMaxDepth", MaxDepth+1, err)
	}
	var self any
	self = &self
	if _, err := Marshal(self); !errors.Is(err, ErrMaxDepth) {
		t.Fatalf("self-referencing interface: got %v, want ErrMaxDepth", err)
	}
}
